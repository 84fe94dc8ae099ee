/**
 * The one workflow registry: what each workflow is, reads and writes, and which segmentation classes can drive
 * it. A leaf module (types only besides this data) read by config, workflows, the segmentation classes and the
 * CLI, so none of them keeps its own list.
 */
import type { MaskName, SegmentationClass, WorkflowAlias, WorkflowName } from '../config/types.js';

export interface WorkflowDescriptor {
  name: WorkflowName;
  family: 'classical' | 'cellpose';
  description: string;
  /**
   * Masks in scPortrait's order: the `<mask>_segmentation` sections read (all required), the channel stacks the
   * workflow consumes after channel selection, and the masks written to segmentation.h5.
   */
  masks: readonly MaskName[];
  /** Default channel ids per mask (scPortrait's DEFAULT_*_CHANNEL_IDS). */
  defaultChannels: Partial<Record<MaskName, readonly number[]>>;
  /** Implemented in this version; asking for a workflow that is not is an error that says so. */
  available: boolean;
  /** Has a sharded form (a global pass and a window pass): ShardedSegmentation can drive it. */
  sharded: boolean;
  /**
   * The kernel limits its largest kernels are bound by (beside maxPixels): an image above any of them is refused
   * before it is read, not when the run gets to that kernel.
   */
  capacity: readonly CapacityLimit[];
}

/** Limits that bound a whole workflow: fast marching, WGA's fused march + flood, Cellpose's dynamics. */
export type CapacityLimit = 'maxFastMarchingPixels' | 'maxTravelWatershedPixels' | 'maxCellposePixels';

export const WORKFLOWS: Readonly<Record<WorkflowName, WorkflowDescriptor>> = {
  WGASegmentation: {
    name: 'WGASegmentation',
    family: 'classical',
    description: 'nucleus (local/Otsu threshold + watershed) and cytosol (fast marching + watershed on a membrane stain)',
    masks: ['nucleus', 'cytosol'],
    defaultChannels: { nucleus: [0], cytosol: [1] },
    available: true,
    sharded: true,
    capacity: ['maxFastMarchingPixels', 'maxTravelWatershedPixels'],
  },
  DAPISegmentation: {
    name: 'DAPISegmentation',
    family: 'classical',
    description: 'nucleus only (threshold + watershed); the nucleus mask doubles as cytosol mask in memory',
    masks: ['nucleus'],
    defaultChannels: { nucleus: [0] },
    available: true,
    sharded: true,
    capacity: ['maxFastMarchingPixels'],
  },
  CytosolSegmentationCellpose: {
    name: 'CytosolSegmentationCellpose',
    family: 'cellpose',
    description: 'Cellpose nucleus + cytosol models, nucleus/cytosol ids matched',
    masks: ['nucleus', 'cytosol'],
    defaultChannels: { nucleus: [0], cytosol: [1] },
    available: true,
    sharded: true,
    capacity: ['maxCellposePixels'],
  },
  DAPISegmentationCellpose: {
    name: 'DAPISegmentationCellpose',
    family: 'cellpose',
    description: 'Cellpose nucleus model only',
    masks: ['nucleus'],
    defaultChannels: { nucleus: [0] },
    available: true,
    sharded: true,
    capacity: ['maxCellposePixels'],
  },
  CytosolOnlySegmentationCellpose: {
    name: 'CytosolOnlySegmentationCellpose',
    family: 'cellpose',
    description: 'Cellpose cytosol model on cytosol (+ optional nucleus) channels',
    masks: ['cytosol'],
    defaultChannels: { cytosol: [0, 1] },
    available: true,
    sharded: true,
    capacity: ['maxCellposePixels'],
  },
  NuclearExpansionSegmentationCellpose: {
    name: 'NuclearExpansionSegmentationCellpose',
    family: 'cellpose',
    // scPortrait writes the expanded mask under the name "nucleus"
    description: 'Cellpose nucleus model, each nucleus grown by up to kernel_size px (written as the nucleus mask)',
    masks: ['nucleus'],
    defaultChannels: { nucleus: [0] },
    available: true,
    sharded: false,
    capacity: ['maxCellposePixels', 'maxTravelWatershedPixels'],
  },
  CytosolSegmentationDownsamplingCellpose: {
    name: 'CytosolSegmentationDownsamplingCellpose',
    family: 'cellpose',
    description: 'CytosolSegmentationCellpose on the image binned by downsampling_factor, masks scaled back up',
    masks: ['nucleus', 'cytosol'],
    defaultChannels: { nucleus: [0], cytosol: [1] },
    available: true,
    sharded: false,
    capacity: [], // Cellpose runs on the binned image: its kernels check that
  },
  CytosolOnlySegmentationDownsamplingCellpose: {
    name: 'CytosolOnlySegmentationDownsamplingCellpose',
    family: 'cellpose',
    description: 'CytosolOnlySegmentationCellpose on the image binned by downsampling_factor, mask scaled back up',
    masks: ['cytosol'],
    defaultChannels: { cytosol: [0, 1] },
    available: true,
    sharded: false,
    capacity: [], // likewise
  },
};

export const WORKFLOW_NAMES = Object.keys(WORKFLOWS) as WorkflowName[];

export interface SegmentationClassDescriptor {
  name: SegmentationClass;
  /** Prefix of the workflow aliases it drives (`ShardedWGASegmentation`); '' for the in-memory class. */
  prefix: '' | 'Sharded' | 'Multithreaded';
  available: boolean;
}

export const SEGMENTATION_CLASSES: readonly SegmentationClassDescriptor[] = [
  { name: 'Segmentation', prefix: '', available: true },
  { name: 'ShardedSegmentation', prefix: 'Sharded', available: true },
  { name: 'MultithreadedSegmentation', prefix: 'Multithreaded', available: true },
];

export interface ResolvedWorkflow {
  spec: WorkflowDescriptor;
  segmentationClass: SegmentationClass;
  /** The name as given (also the preferred section name in a project config). */
  alias: string;
}

/** `ShardedWGASegmentation` → WGASegmentation driven by ShardedSegmentation; `null` for an unknown name. */
export function resolveWorkflow(alias: string): ResolvedWorkflow | null {
  for (const c of SEGMENTATION_CLASSES) {
    const base = alias.startsWith(c.prefix) ? alias.slice(c.prefix.length) : '';
    if (Object.hasOwn(WORKFLOWS, base)) return { spec: WORKFLOWS[base as WorkflowName], segmentationClass: c.name, alias };
  }
  return null;
}

/** Every accepted spelling of a workflow, the given alias first: the section names a project config may use. */
export function sectionCandidates(resolved: ResolvedWorkflow): string[] {
  return [...new Set([resolved.alias, ...SEGMENTATION_CLASSES.map((c) => c.prefix + resolved.spec.name)])];
}

export function allWorkflowAliases(): WorkflowAlias[] {
  return WORKFLOW_NAMES.flatMap((n) => SEGMENTATION_CLASSES.map((c) => `${c.prefix}${n}` as WorkflowAlias));
}

/**
 * Why `resolved` cannot run in this version, or null when it can: a capability that does not exist yet is an
 * error that says so, never a silent fallback to something else.
 */
export function unavailableReason(resolved: ResolvedWorkflow): string | null {
  const cls = SEGMENTATION_CLASSES.find((c) => c.name === resolved.segmentationClass)!;
  if (!resolved.spec.available) {
    return `${resolved.spec.name} is not available yet in this version (available: ${availableWorkflows().join(', ')})`;
  }
  if (!resolved.spec.sharded && cls.prefix === 'Sharded') {
    return (
      `${resolved.alias}: ${resolved.spec.name} has no sharded form yet; use ${resolved.spec.name} (in-memory) or ` +
      `Multithreaded${resolved.spec.name} (one image per worker)`
    );
  }
  if (!cls.available) {
    return (
      `${resolved.alias}: ${cls.name} is not available yet in this version; ` +
      `use ${resolved.spec.name} (in-memory Segmentation) instead`
    );
  }
  return null;
}

export function availableWorkflows(): WorkflowName[] {
  return WORKFLOW_NAMES.filter((n) => WORKFLOWS[n].available);
}

/** `<mask>_segmentation`. */
export function maskSection(mask: MaskName): string {
  return `${mask}_segmentation`;
}
