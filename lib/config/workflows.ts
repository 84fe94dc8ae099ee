/** What each workflow needs from its config: masks, channel defaults, parameter family; alias resolution. */
import type { MaskName, SegmentationClass, WorkflowAlias, WorkflowName } from './types.js';

export interface WorkflowSpec {
  name: WorkflowName;
  family: 'classical' | 'cellpose';
  /** Mask sections the workflow reads (`<mask>_segmentation`), all required. */
  masks: readonly MaskName[];
  /** Default channel ids per mask (scPortrait's DEFAULT_*_CHANNEL_IDS). */
  defaultChannels: Partial<Record<MaskName, readonly number[]>>;
}

export const WORKFLOWS: Readonly<Record<WorkflowName, WorkflowSpec>> = {
  WGASegmentation: {
    name: 'WGASegmentation',
    family: 'classical',
    masks: ['nucleus', 'cytosol'],
    defaultChannels: { nucleus: [0], cytosol: [1] },
  },
  DAPISegmentation: { name: 'DAPISegmentation', family: 'classical', masks: ['nucleus'], defaultChannels: { nucleus: [0] } },
  CytosolSegmentationCellpose: {
    name: 'CytosolSegmentationCellpose',
    family: 'cellpose',
    masks: ['nucleus', 'cytosol'],
    defaultChannels: { nucleus: [0], cytosol: [1] },
  },
  DAPISegmentationCellpose: {
    name: 'DAPISegmentationCellpose',
    family: 'cellpose',
    masks: ['nucleus'],
    defaultChannels: { nucleus: [0] },
  },
  CytosolOnlySegmentationCellpose: {
    name: 'CytosolOnlySegmentationCellpose',
    family: 'cellpose',
    masks: ['cytosol'],
    defaultChannels: { cytosol: [0, 1] },
  },
};

export const WORKFLOW_NAMES = Object.keys(WORKFLOWS) as WorkflowName[];

const CLASS_PREFIXES: readonly [string, SegmentationClass][] = [
  ['Sharded', 'ShardedSegmentation'],
  ['Multithreaded', 'MultithreadedSegmentation'],
];

export interface ResolvedWorkflow {
  spec: WorkflowSpec;
  segmentationClass: SegmentationClass;
  /** The name as given (also the preferred section name in a project config). */
  alias: string;
}

/** `ShardedWGASegmentation` → WGASegmentation driven by ShardedSegmentation; `null` for an unknown name. */
export function resolveWorkflow(alias: string): ResolvedWorkflow | null {
  if (Object.hasOwn(WORKFLOWS, alias)) {
    return { spec: WORKFLOWS[alias as WorkflowName], segmentationClass: 'Segmentation', alias };
  }
  for (const [prefix, segmentationClass] of CLASS_PREFIXES) {
    const base = alias.startsWith(prefix) ? alias.slice(prefix.length) : '';
    if (Object.hasOwn(WORKFLOWS, base)) return { spec: WORKFLOWS[base as WorkflowName], segmentationClass, alias };
  }
  return null;
}

/** Every accepted spelling of a workflow, the given alias first: the section names a project config may use. */
export function sectionCandidates(resolved: ResolvedWorkflow): string[] {
  const names = [resolved.alias, resolved.spec.name, ...CLASS_PREFIXES.map(([p]) => p + resolved.spec.name)];
  return [...new Set(names)];
}

export function allWorkflowAliases(): WorkflowAlias[] {
  return WORKFLOW_NAMES.flatMap((n) => [n, ...CLASS_PREFIXES.map(([p]) => `${p}${n}` as WorkflowAlias)]);
}

/** `<mask>_segmentation`. */
export function maskSection(mask: MaskName): string {
  return `${mask}_segmentation`;
}
