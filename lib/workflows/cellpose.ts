/**
 * scPortrait's Cellpose workflows (pipeline/segmentation/workflows/_cellpose.py), on our Cellpose port
 * (lib/cellpose/eval.ts) and an ONNX model per mask section:
 * - DAPISegmentationCellpose: the nucleus model on [nucleus] with channels [1, 0];
 * - CytosolSegmentationCellpose: both models on [nucleus, cytosol] — nucleus [1, 0], cytosol [2, 1] (the cytosol
 *   segmented, the nucleus as cue) — then both size-filtered with the NUCLEUS thresholds (as upstream) and matched;
 * - CytosolOnlySegmentationCellpose: the cytosol model on its 1 or 2 selected channels ([1, 0] or [2, 1]).
 * Every mask loses the labels touching the image's edges. With `normalize: false` the whole input is first scaled
 * to [0, 1] by its minimum and maximum (for the two-model workflow, the nucleus section's setting decides, as
 * upstream). Cellpose labels depend on the whole image (percentiles, tiling): no sharded form yet.
 * The nuclear-expansion and downsampling variants reuse these steps (cellpose-variants.ts).
 */
import { cellposeEval } from '../cellpose/eval.js';
import { cellposeModels } from '../cellpose/model.js';
import { minMaxScale, type CellposeChannels } from '../cellpose/transforms.js';
import type {
  CellposeMaskConfig,
  CytosolCellposeConfig,
  CytosolOnlyCellposeConfig,
  DapiCellposeConfig,
  SegmentationConfig,
  SizeFilter,
  WorkflowName,
} from '../config/types.js';
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';
import { sizeFilter } from './size-filter.js';
import { WORKFLOWS, type WorkflowDescriptor } from './registry.js';
import {
  StepRunner,
  type LabelImage,
  type MaskStacks,
  type SegmentationResult,
  type Workflow,
  type WorkflowContext,
} from './types.js';

/** A workflow's config as the shared steps read it (the variants reuse them under their own names). */
export type CellposeSettings<C extends SegmentationConfig> = Omit<C, 'workflow'> & { workflow: WorkflowName };

/** One Cellpose run of a mask section: the model, eval, and the edge labels removed. */
async function segmentWithModel(
  run: StepRunner,
  mask: 'nucleus' | 'cytosol',
  planes: readonly Image2D[],
  section: CellposeMaskConfig,
  channels: CellposeChannels,
): Promise<LabelImage> {
  const k = run.kernels;
  const net = await run.step(`${mask}: load model`, () =>
    cellposeModels().load(section.model, { threads: k.threads, modelsDir: section.modelsDir }),
  );
  run.ctx.progress?.(`${mask}: Cellpose`);
  const t0 = performance.now();
  const result = await cellposeEval(k, planes, net, {
    channels,
    normalize: section.normalize,
    diameter: section.diameter,
    rescale: section.rescale,
    resample: section.resample,
    flowThreshold: section.flowThreshold,
    cellprobThreshold: section.cellprobThreshold,
    fixLabelGapQuirk: section.fixLabelGapQuirk,
    step: async (name) => {
      run.ctx.signal?.throwIfAborted();
      run.ctx.progress?.(`${mask}: ${name}`);
    },
  });
  run.timings[`${mask}: Cellpose`] = (performance.now() - t0) / 1000;
  return run.step(`${mask}: remove edge labels`, () => k.removeEdgeLabels(result.masks));
}

/** scPortrait's scaling before eval when a section says normalize: false (all planes together to [0, 1]). */
function scaled(planes: Image2D[], normalize: boolean): Image2D[] {
  return normalize ? planes : minMaxScale(planes);
}

/** The section's size filter on the whole image (sizeFilter fits automatic thresholds to these labels' areas). */
function applySizeFilter(run: StepRunner, labels: LabelImage, filter: SizeFilter | null): LabelImage {
  if (!filter) return labels;
  const thresholds = filter.kind === 'thresholds' ? { min: filter.min, max: filter.max } : { confidenceInterval: filter.confidenceInterval };
  return sizeFilter(run.kernels, labels, thresholds);
}

export function cellposeResult(
  run: StepRunner,
  workflow: WorkflowName,
  masks: LabelImage[],
  maskNames: ('nucleus' | 'cytosol')[],
  nucleus: LabelImage,
  cytosol: LabelImage,
): SegmentationResult {
  return {
    workflow,
    masks,
    maskNames,
    nucleus,
    cytosol,
    classes: Uint32Array.from(run.kernels.labelAreas(masks[0]).ids),
    globals: null,
    timings: run.timings,
  };
}

function plane(stacks: MaskStacks, mask: 'nucleus' | 'cytosol', workflow: string): Image2D[] {
  const s = stacks[mask];
  if (!s || s.length === 0) throw new InputError(`${workflow}: no ${mask} channel was selected`, 'ERR_SCSEG_SHAPE');
  return s;
}

/** DAPISegmentationCellpose's nucleus mask (edge labels removed, size-filtered if asked). */
export async function dapiCellposeMask(run: StepRunner, stacks: MaskStacks, cfg: CellposeSettings<DapiCellposeConfig>): Promise<LabelImage> {
  const planes = scaled(plane(stacks, 'nucleus', cfg.workflow), cfg.nucleus.normalize);
  let labels = await segmentWithModel(run, 'nucleus', planes, cfg.nucleus, [1, 0]);
  if (cfg.filterMasksSize) labels = await run.step('nucleus: size filter', () => applySizeFilter(run, labels, cfg.nucleus.sizeFilter));
  return labels;
}

async function runDapiCellpose(ctx: WorkflowContext, stacks: MaskStacks, cfg: DapiCellposeConfig): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const labels = await dapiCellposeMask(run, stacks, cfg);
  return cellposeResult(run, cfg.workflow, [labels], ['nucleus'], labels, labels);
}

/** CytosolSegmentationCellpose's nucleus and cytosol masks (edge labels removed, filtered and matched as asked). */
export async function cytosolCellposeMasks(
  run: StepRunner,
  stacks: MaskStacks,
  cfg: CellposeSettings<CytosolCellposeConfig>,
): Promise<{ nucleus: LabelImage; cytosol: LabelImage }> {
  // upstream min–max scales the input once, before the nucleus model, when the NUCLEUS section says normalize:
  // false; the cytosol model gets the same input whatever its own section says
  const both = [...plane(stacks, 'nucleus', cfg.workflow), ...plane(stacks, 'cytosol', cfg.workflow)];
  const planes = scaled(both, cfg.nucleus.normalize);
  let nucleus = await segmentWithModel(run, 'nucleus', planes, cfg.nucleus, [1, 0]);
  let cytosol = await segmentWithModel(run, 'cytosol', planes, cfg.cytosol, [2, 1]);
  if (cfg.filterMasksSize) {
    // upstream filters the cytosol mask with the nucleus section's thresholds too
    nucleus = await run.step('nucleus: size filter', () => applySizeFilter(run, nucleus, cfg.nucleus.sizeFilter));
    cytosol = await run.step('cytosol: size filter', () => applySizeFilter(run, cytosol, cfg.nucleus.sizeFilter));
  }
  if (cfg.matchMasks) {
    const matched = await run.step('match masks', () => run.kernels.matchNucleusCytosol(nucleus, cytosol, cfg.filteringThresholdMaskMatching));
    nucleus = matched.nucleus;
    cytosol = matched.cytosol;
  }
  return { nucleus, cytosol };
}

async function runCytosolCellpose(ctx: WorkflowContext, stacks: MaskStacks, cfg: CytosolCellposeConfig): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const { nucleus, cytosol } = await cytosolCellposeMasks(run, stacks, cfg);
  return cellposeResult(run, cfg.workflow, [nucleus, cytosol], ['nucleus', 'cytosol'], nucleus, cytosol);
}

/** CytosolOnlySegmentationCellpose's cytosol mask (edge labels removed, size-filtered if asked). */
export async function cytosolOnlyCellposeMask(
  run: StepRunner,
  stacks: MaskStacks,
  cfg: CellposeSettings<CytosolOnlyCellposeConfig>,
): Promise<LabelImage> {
  const selected = plane(stacks, 'cytosol', cfg.workflow);
  if (selected.length > 2) {
    throw new InputError(`${cfg.workflow} requires 1 or 2 selected channels, got ${selected.length}`, 'ERR_SCSEG_SHAPE');
  }
  const channels: CellposeChannels = selected.length === 1 ? [1, 0] : [2, 1];
  const planes = scaled(selected, cfg.cytosol.normalize);
  let labels = await segmentWithModel(run, 'cytosol', planes, cfg.cytosol, channels);
  // upstream looks for nucleus thresholds here and fails; the cytosol section's own filter is what it means
  if (cfg.filterMasksSize) labels = await run.step('cytosol: size filter', () => applySizeFilter(run, labels, cfg.cytosol.sizeFilter));
  return labels;
}

async function runCytosolOnlyCellpose(ctx: WorkflowContext, stacks: MaskStacks, cfg: CytosolOnlyCellposeConfig): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const labels = await cytosolOnlyCellposeMask(run, stacks, cfg);
  return cellposeResult(run, cfg.workflow, [labels], ['cytosol'], labels, labels);
}

export function cellposeWorkflow<C extends SegmentationConfig>(
  descriptor: WorkflowDescriptor,
  run: (ctx: WorkflowContext, stacks: MaskStacks, cfg: C) => Promise<SegmentationResult>,
): Workflow<C, null> {
  const noSharding = (): never => {
    throw new InputError(
      `${descriptor.name} has no sharded form yet: Cellpose's normalisation and tiling depend on the whole image; ` +
        'run it in memory (Segmentation) or per image (MultithreadedSegmentation)',
      'ERR_SCSEG_UNAVAILABLE',
    );
  };
  return {
    descriptor,
    run,
    // unused without sharding; a Cellpose cell's labels depend on the whole image
    reach: () => Number.POSITIVE_INFINITY,
    globalPass: async () => noSharding(),
    sweepTile: async () => noSharding(),
    windowPass: async () => noSharding(),
  };
}

export const dapiCellposeWorkflow = cellposeWorkflow<DapiCellposeConfig>(WORKFLOWS.DAPISegmentationCellpose, runDapiCellpose);
export const cytosolCellposeWorkflow = cellposeWorkflow<CytosolCellposeConfig>(WORKFLOWS.CytosolSegmentationCellpose, runCytosolCellpose);
export const cytosolOnlyCellposeWorkflow = cellposeWorkflow<CytosolOnlyCellposeConfig>(
  WORKFLOWS.CytosolOnlySegmentationCellpose,
  runCytosolOnlyCellpose,
);
