/**
 * scPortrait's other Cellpose workflows (pipeline/segmentation/workflows/_cellpose.py), on the steps of cellpose.ts:
 *
 * - NuclearExpansionSegmentationCellpose: DAPISegmentationCellpose's nuclei, then each nucleus grown into the
 *   nucleus foreground dilated by disk(kernel_size): fast marching from the nucleus centres (unit speed inside the
 *   dilated foreground) and a marker watershed on the arrival times, edge labels removed (`expandNuclei`).
 * - CytosolSegmentationDownsamplingCellpose / CytosolOnlySegmentationDownsamplingCellpose: the Cellpose workflow
 *   on the stack zero-padded to a multiple of downsampling_factor and binned (`downsampleStack`), its masks
 *   repeated back up, smoothed and cropped (`upsampleMask`). Upstream has no DAPI downsampling variant.
 */
import type {
  CytosolDownsamplingCellposeConfig,
  CytosolOnlyDownsamplingCellposeConfig,
  NuclearExpansionCellposeConfig,
} from '../config/types.js';
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import {
  cellposeResult,
  cellposeWorkflow,
  cytosolCellposeMasks,
  cytosolOnlyCellposeMask,
  dapiCellposeMask,
} from './cellpose.js';
import { dilateLabels, erodeLabels } from './label-morphology.js';
import { foreground, roundHalfEven } from './pixels.js';
import { WORKFLOWS } from './registry.js';
import { StepRunner, type LabelImage, type MaskStacks, type SegmentationResult, type WorkflowContext } from './types.js';

// ── nuclear expansion ───────────────────────────────────────────────────────────────────────────────────────

/**
 * scPortrait's `_expand_nucleus_mask`: every nucleus centre (numba_mask_centroid, rounded half to even) seeds a
 * fast marching through the nucleus foreground dilated by disk(kernelSize), at speed 1 there; speed 0 outside,
 * which skfmm treats as masked (speeds below machine epsilon), as our travelTime does for pixels not allowed. The
 * watershed markers are the nucleus id under each rounded centre — 0 where a centre falls outside its nucleus,
 * whose cell then stays empty unless a neighbour floods it — then edge labels are removed.
 * An image without nuclei gives an empty mask (upstream's centroid step fails there).
 */
export function expandNuclei(k: Kernels, nuclei: LabelImage, kernelSize: number): LabelImage {
  const { width, height } = nuclei;
  const n = width * height;
  const { y, x } = k.labelCentroids(nuclei);
  if (y.length === 0) return { data: new Uint32Array(n), width, height };
  const allowed = k.binaryDilation(foreground(nuclei), kernelSize, 0);
  const seeds = new Uint8Array(n);
  const markers = new Uint32Array(n);
  for (let i = 0; i < y.length; i++) {
    const at = roundHalfEven(y[i]) * width + roundHalfEven(x[i]);
    seeds[at] = 1;
    markers[at] = nuclei.data[at];
  }
  const image = <T extends Uint8Array | Uint32Array | Float64Array>(data: T) => ({ data, width, height });
  // Unreached pixels hold 0 in upstream's (masked) travel times and max in travelTimeWatershed's: no marker
  // reaches them either way, so the labels agree.
  const speed = image(new Float64Array(n).fill(1));
  const { labels } = k.travelTimeWatershed(image(seeds), allowed, speed, image(markers), { travel: false });
  return k.removeEdgeLabels(labels);
}

async function runNuclearExpansion(
  ctx: WorkflowContext,
  stacks: MaskStacks,
  cfg: NuclearExpansionCellposeConfig,
): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const nuclei = await dapiCellposeMask(run, stacks, cfg);
  const expanded = await run.step('expand nuclei', () => expandNuclei(run.kernels, nuclei, cfg.kernelSize));
  // Upstream quirk kept: MASK_NAMES stays ["nucleus"] but the mask written (and the classes) is the EXPANDED
  // one; the unexpanded nuclei are not kept.
  return cellposeResult(run, cfg.workflow, [expanded], ['nucleus'], expanded, expanded);
}

// ── downsampling ────────────────────────────────────────────────────────────────────────────────────────────

/** Sizes of a downsampled run: the input, the input zero-padded (bottom/right) to multiples of the factor. */
export interface DownsamplePlan {
  factor: number;
  width: number;
  height: number;
  paddedWidth: number;
  paddedHeight: number;
}

export function downsamplePlan(width: number, height: number, factor: number): DownsamplePlan {
  if (!Number.isInteger(factor) || factor < 1) {
    throw new InputError(`downsampling_factor must be an integer ≥ 1, got ${factor}`, 'ERR_SCSEG_ARGUMENT');
  }
  const up = (v: number) => Math.ceil(v / factor) * factor;
  return { factor, width, height, paddedWidth: up(width), paddedHeight: up(height) };
}

/**
 * scPortrait's `_downsample_image` (np.pad with zeros, then downsample_img): the mean of each factor × factor block
 * of the padded planes, then every plane scaled by the maximum block mean over ALL planes to uint16,
 * trunc(mean / max · 65535) (all zeros stay zeros). Integer input sums exactly in float64, as numpy does, so the
 * means are bit-identical; float input is summed in float64 too.
 */
export function downsampleStack(planes: readonly Image2D[], factor: number): { planes: Image2D<Uint16Array>[]; plan: DownsamplePlan } {
  const { width, height } = planes[0];
  if (planes.some((p) => p.width !== width || p.height !== height)) {
    throw new InputError('the channels to downsample differ in size', 'ERR_SCSEG_SHAPE');
  }
  const plan = downsamplePlan(width, height, factor);
  const means = planes.map((p) => blockMeans(p, plan));
  let max = 0;
  for (const m of means) for (let i = 0; i < m.length; i++) if (m[i] > max) max = m[i];
  const w = plan.paddedWidth / factor;
  const h = plan.paddedHeight / factor;
  const scaled = means.map((m) => {
    const out = new Uint16Array(m.length);
    if (max > 0) for (let i = 0; i < m.length; i++) out[i] = Math.trunc((m[i] / max) * 65535);
    return { data: out, width: w, height: h };
  });
  return { planes: scaled, plan };
}

/** Block means of one plane over the zero-padded extent (padding pixels count as 0). */
function blockMeans(plane: Image2D, plan: DownsamplePlan): Float64Array {
  const { factor, width, height } = plan;
  const w = plan.paddedWidth / factor;
  const sums = new Float64Array(w * (plan.paddedHeight / factor));
  const src = plane.data;
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / factor) * w;
    for (let x = 0; x < width; x++) sums[row + Math.floor(x / factor)] += src[y * width + x];
  }
  const count = factor * factor;
  for (let i = 0; i < sums.length; i++) sums[i] /= count;
  return sums;
}

/**
 * scPortrait's `_rescale_downsampled_mask`: each low-resolution pixel repeated factor × factor, eroded by
 * disk(s) and dilated by disk(s + 1) (grey-level, on the padded extent), s = smoothingKernelSize; while that
 * changes the number of distinct values (a label lost), s − 1, s − 2, … are tried on the repeated mask, and at 0
 * the repeated mask is kept unsmoothed. Then cropped to the input size. `smoothing`: the s used, null for none.
 */
export function upsampleMask(
  k: Kernels,
  mask: LabelImage,
  plan: DownsamplePlan,
  smoothingKernelSize: number,
): { labels: LabelImage; smoothing: number | null } {
  const { factor } = plan;
  if (mask.width * factor !== plan.paddedWidth || mask.height * factor !== plan.paddedHeight) {
    throw new InputError(
      `a ${mask.width}×${mask.height} mask does not scale by ${factor} to the padded ${plan.paddedWidth}×${plan.paddedHeight}`,
      'ERR_SCSEG_SHAPE',
    );
  }
  const repeated = repeatPixels(mask, factor);
  const values = distinctValues(k, mask);
  const smooth = (s: number) => dilateLabels(erodeLabels(repeated, s), s + 1);
  let s = smoothingKernelSize;
  let out = smooth(s);
  while (distinctValues(k, out) !== values) {
    s -= 1;
    // upstream stops at 0; from a start at 0 it would reach disk(-1) and fail, here it stops too
    if (s <= 0) return { labels: crop(repeated, plan), smoothing: null };
    out = smooth(s);
  }
  return { labels: crop(out, plan), smoothing: s };
}

/** len(np.unique(mask)): the non-zero ids plus 0 when present. */
function distinctValues(k: Kernels, labels: LabelImage): number {
  const { ids, areas } = k.labelAreas(labels);
  let labelled = 0;
  for (const a of areas) labelled += a;
  return ids.length + (labelled < labels.data.length ? 1 : 0);
}

/** mask.repeat(f, axis=0).repeat(f, axis=1). */
function repeatPixels(mask: LabelImage, f: number): LabelImage {
  const width = mask.width * f;
  const height = mask.height * f;
  const out = new Uint32Array(width * height);
  for (let y = 0; y < mask.height; y++) {
    const row = out.subarray(y * f * width, (y * f + 1) * width);
    for (let x = 0; x < mask.width; x++) row.fill(mask.data[y * mask.width + x], x * f, (x + 1) * f);
    for (let r = 1; r < f; r++) out.copyWithin((y * f + r) * width, y * f * width, (y * f + 1) * width);
  }
  return { data: out, width, height };
}

/** The top-left width × height of the padded mask (the padding was added bottom and right). */
function crop(labels: LabelImage, plan: DownsamplePlan): LabelImage {
  const { width, height } = plan;
  if (labels.width === width && labels.height === height) return labels;
  const out = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) out.set(labels.data.subarray(y * labels.width, y * labels.width + width), y * width);
  return { data: out, width, height };
}

/** The downsampled stacks, in the same per-mask layout. */
function downsampleStacks(stacks: MaskStacks, factor: number): { stacks: MaskStacks; plan: DownsamplePlan } {
  const masks = (['nucleus', 'cytosol'] as const).filter((m) => stacks[m]?.length);
  const all = masks.flatMap((m) => stacks[m]!);
  if (all.length === 0) throw new InputError('no channel was selected to downsample', 'ERR_SCSEG_SHAPE');
  const { planes, plan } = downsampleStack(all, factor);
  const out: MaskStacks = {};
  let next = 0;
  for (const m of masks) out[m] = planes.slice(next, (next += stacks[m]!.length));
  return { stacks: out, plan };
}

/** Ids of the low-resolution mask: upstream takes classes from it, before scaling back up. */
function ids(k: Kernels, mask: LabelImage): Uint32Array {
  return Uint32Array.from(k.labelAreas(mask).ids);
}

async function runCytosolDownsampling(
  ctx: WorkflowContext,
  stacks: MaskStacks,
  cfg: CytosolDownsamplingCellposeConfig,
): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const { factor, smoothingKernelSize } = cfg.downsampling;
  const small = await run.step('downsample', () => downsampleStacks(stacks, factor));
  const masks = await cytosolCellposeMasks(run, small.stacks, cfg);
  const classes = ids(run.kernels, masks.nucleus);
  const up = (m: LabelImage) => upsampleMask(run.kernels, m, small.plan, smoothingKernelSize).labels;
  const nucleus = await run.step('nucleus: upsample', () => up(masks.nucleus));
  const cytosol = await run.step('cytosol: upsample', () => up(masks.cytosol));
  return { ...cellposeResult(run, cfg.workflow, [nucleus, cytosol], ['nucleus', 'cytosol'], nucleus, cytosol), classes };
}

/**
 * Upstream expects a two-channel stack when it pads and exits on one channel; a single cytosol channel is
 * downsampled and segmented here, as CytosolOnlySegmentationCellpose accepts it.
 */
async function runCytosolOnlyDownsampling(
  ctx: WorkflowContext,
  stacks: MaskStacks,
  cfg: CytosolOnlyDownsamplingCellposeConfig,
): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const { factor, smoothingKernelSize } = cfg.downsampling;
  const small = await run.step('downsample', () => downsampleStacks(stacks, factor));
  const mask = await cytosolOnlyCellposeMask(run, small.stacks, cfg);
  const classes = ids(run.kernels, mask);
  const cytosol = await run.step('cytosol: upsample', () => upsampleMask(run.kernels, mask, small.plan, smoothingKernelSize).labels);
  return { ...cellposeResult(run, cfg.workflow, [cytosol], ['cytosol'], cytosol, cytosol), classes };
}

export const nuclearExpansionCellposeWorkflow = cellposeWorkflow<NuclearExpansionCellposeConfig>(
  WORKFLOWS.NuclearExpansionSegmentationCellpose,
  runNuclearExpansion,
);
export const cytosolDownsamplingCellposeWorkflow = cellposeWorkflow<CytosolDownsamplingCellposeConfig>(
  WORKFLOWS.CytosolSegmentationDownsamplingCellpose,
  runCytosolDownsampling,
);
export const cytosolOnlyDownsamplingCellposeWorkflow = cellposeWorkflow<CytosolOnlyDownsamplingCellposeConfig>(
  WORKFLOWS.CytosolOnlySegmentationDownsamplingCellpose,
  runCytosolOnlyDownsampling,
);
