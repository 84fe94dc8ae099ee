/**
 * Steps shared by the thresholding workflows (scPortrait `_ClassicalSegmentation`): input pre-processing and
 * nucleus segmentation. Each function reads like SPEC §2–§3, one kernel call per step. Whole-image values come
 * from `GlobalValues` (computed on a whole image, given in a window pass); image edges from the placement.
 */
import type { ClassicalNucleusConfig, DapiConfig, MaskName, QuantileRange, SizeFilter, WgaConfig } from '../config/types.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import type { GlobalValues } from './globals.js';
import { compareMap, compareScalar, foreground, toFloat32, type Mask } from './pixels.js';
import { fittedSizeThresholds, sizeFilter } from './size-filter.js';
import { StepRunner, type LabelImage, type MaskStacks, type WindowPlacement } from './types.js';
import type { CellArea, TileSweep } from './classical-global.js';
import { localThresholdMap, removeImageEdgeLabels } from './window.js';
import { coreCellAreas, markerEntries, windowMarkerRanks, type MarkerEntry, type MarkerOrder } from './marker-order.js';

type Range = [number, number];

/** Every whole-image value of the classical workflows. */
export interface ClassicalGlobals {
  /** Top-level `lower_/upper_quantile_normalization` quantiles of each mask's input channel. */
  nucleusInput?: Range;
  cytosolInput?: Range;
  /** Quantiles of the nucleus section's normalisation. */
  nucleusNormalization?: Range;
  /** global_otsu of the nucleus image (global-threshold branch). */
  nucleusOtsu?: number;
  /** Automatic size thresholds (filter_masks_size without min_size/max_size); [0, ∞] when too few cells. */
  nucleusSizeThresholds?: Range;
  /** Quantiles of the cytosol section's normalisation. */
  cytosolNormalization?: Range;
  /** The cytosol threshold (`threshold`, else global_otsu). */
  cytosolThreshold?: number;
  /** 2 % / 98 % quantiles of the potential-map channel. */
  speedQuantiles?: Range;
  cytosolSizeThresholds?: Range;
  /** The whole image's pop order of the nucleus / cytosol watershed markers (window passes only). */
  nucleusMarkerOrder?: MarkerOrder;
  cytosolMarkerOrder?: MarkerOrder;
}

export type ClassicalValues = GlobalValues<ClassicalGlobals>;

export interface Preprocessed {
  /** scPortrait `maps["input_image"]`: the selected channels — overwritten by the median when not normalised. */
  input: Image2D[];
  /** The current stack after normalisation and median filtering (`maps["median_corrected"]` when filtered). */
  current: Image2D[];
}

const INPUT_KEY = { nucleus: 'nucleusInput', cytosol: 'cytosolInput' } as const;

/**
 * SPEC §2: optional per-channel percentile normalisation, then optional disk median per channel. Without
 * normalisation the median replaces the input stack itself, as the original filters `maps["input_image"]` in
 * place; with normalisation the input stays raw. `channels[i]` feeds mask `masks[i]`.
 */
export async function preprocess(
  run: StepRunner,
  channels: Image2D[],
  masks: readonly MaskName[],
  normalization: QuantileRange | null,
  medianFilterSize: number | null,
  globals: ClassicalValues,
): Promise<Preprocessed> {
  const k = run.kernels;
  const input = [...channels];
  const bounds = (c: Image2D, i: number): Range =>
    globals.get(INPUT_KEY[masks[i]], () => quantilePair(k, c, normalization!));
  if (normalization && medianFilterSize !== null && !(channels[0].data instanceof Float32Array)) {
    // SPEC §9: the median commutes with the (monotone) normalisation, so median(normalise(x)) ==
    // normalise(median(x)) bit for bit; the integer median runs on twice as many SIMD lanes as the float one.
    const current: Image2D[] = [];
    for (const [i, c] of channels.entries()) {
      const [l, u] = await run.step('normalize', () => bounds(c, i));
      const m = await run.step('median', () => k.medianFilter(c, medianFilterSize));
      current.push(await run.step('normalize', () => k.normalizeRange(m, l, u)));
    }
    return { input, current };
  }
  let current = [...channels];
  if (normalization) {
    current = await run.step('normalize', () => current.map((c, i) => k.normalizeRange(c, ...bounds(c, i))));
  }
  if (medianFilterSize !== null) {
    const filtered = await run.step('median', () => current.map((c) => k.medianFilter(c, medianFilterSize)));
    if (!normalization) input.splice(0, input.length, ...filtered);
    current = filtered;
  }
  return { input, current };
}

/** numpy.quantile at the range's two bounds (percentile_normalization's l and u). */
export function quantilePair(k: Kernels, image: Image2D, range: QuantileRange): Range {
  const [l, u] = k.quantiles(image, [range.lower, range.upper]);
  return [l, u];
}

export interface NucleusResult {
  /** Final nucleus labels (edge-, size- and contact-filtered), ids ranked by inscribed radius, never re-indexed. */
  labels: LabelImage;
  /** Foreground of ALL detected nuclei before filtering (`maps["nucleus_mask"]`). */
  detected: Mask;
  /** Centroids of all detected nuclei before filtering, ascending id (`nucleus_centers`). */
  centers: { ids: Uint32Array; y: Float64Array; x: Float64Array };
  /** Nucleus i's seed pixel holds i (the peaks, as markers). */
  markers: LabelImage;
}

/** SPEC §3.3: threshold, then erosion by disk(speckle) and dilation by disk(speckle − 1). */
async function thresholdMask(
  run: StepRunner,
  image: Image2D,
  cfg: ClassicalNucleusConfig,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<Mask> {
  const k = run.kernels;
  const raw = await run.step('nucleus threshold', () => {
    const t = cfg.thresholding;
    if (t.kind === 'local') {
      // threshold_local works in the image's float type; integer input only occurs without any normalisation.
      const f = toFloat32(image);
      // threshold_local(offset=-threshold): the map is the local median + threshold.
      return compareMap(f, localThresholdMap(k, f, t, placement));
    }
    return compareScalar(image, globals.get('nucleusOtsu', () => k.otsuThreshold(image)));
  });
  return run.step('nucleus speckle removal', () =>
    k.binaryDilation(k.binaryErosion(raw, cfg.speckleKernel, 1), cfg.speckleKernel - 1, 0),
  );
}

export interface NucleusSeeds {
  /** EDT peaks (peak_local_max order): seed pixels, and markers labelled 1, 2, … in that order. */
  seeds: Mask;
  markers: LabelImage;
  /** The mask grown by `dilation`: where the geodesic distance runs and the watershed floods. */
  grown: Mask;
  /** The Euclidean distance transform the peaks were found on (their peak_local_max priority). */
  edt: Float64Array;
  count: number;
}

/** SPEC §3.4a–b: seeds at the peaks of the mask's Euclidean distance transform. */
export async function nucleusSeeds(run: StepRunner, mask: Mask, cfg: ClassicalNucleusConfig): Promise<NucleusSeeds> {
  const k = run.kernels;
  const { width, height } = mask;
  const edt = await run.step('nucleus distance transform', () => k.distanceTransform(mask));
  const peaks = await run.step('nucleus peaks', () => k.peakLocalMax(edt, cfg.minDistance, cfg.peakFootprint));
  const grown = cfg.dilation > 0 ? k.binaryDilation(mask, cfg.dilation, 0) : mask;
  const seeds = new Uint8Array(width * height);
  const markers = new Uint32Array(width * height);
  for (let i = 0; i < peaks.length / 2; i++) {
    const at = peaks[2 * i] * width + peaks[2 * i + 1];
    seeds[at] = 1;
    markers[at] = i + 1;
  }
  const image = <T extends Uint8Array | Uint32Array>(data: T) => ({ data, width, height });
  return { seeds: image(seeds), markers: image(markers), grown, edt: edt.data, count: peaks.length / 2 };
}

/**
 * SPEC §3.4 (`_generate_labels_from_mask`): seeds at EDT peaks, geodesic distance from the seeds inside the
 * dilated mask, marker watershed. Peak i (in peak_local_max order) becomes label i + 1. A window floods its
 * markers in the whole image's order.
 */
export async function labelsFromMask(
  run: StepRunner,
  mask: Mask,
  cfg: ClassicalNucleusConfig,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<{ labels: LabelImage; markers: LabelImage }> {
  const k = run.kernels;
  const s = await nucleusSeeds(run, mask, cfg);
  // No seed: the original's skfmm call would fail; an image without nuclei simply has no labels.
  if (s.count === 0) return { labels: s.markers, markers: s.markers };
  const order = globals.optional('nucleusMarkerOrder');
  const markerRanks = order && windowMarkerRanks(s.markers, placement, order);
  const labels = await run.step('nucleus fast marching + watershed', () =>
    k.distanceWatershed(s.seeds, s.grown, s.markers, { markerRanks }),
  );
  return { labels, markers: s.markers };
}

/**
 * SPEC §5: scPortrait's SizeFilter when `filter_masks_size` is on. Automatic thresholds come from the areas of
 * the whole image's cells, so they are a global value.
 */
export function applySizeFilter(
  k: Kernels,
  labels: LabelImage,
  filter: SizeFilter | null,
  enabled: boolean,
  globals: ClassicalValues,
  key: 'nucleusSizeThresholds' | 'cytosolSizeThresholds',
): LabelImage {
  if (!enabled || !filter) return labels;
  if (filter.kind === 'thresholds') return sizeFilter(k, labels, { min: filter.min, max: filter.max });
  const [min, max] = globals.get(key, () => {
    const { areas } = k.labelAreas(labels);
    return fittedSizeThresholds(areas, labels.width * labels.height, filter.confidenceInterval);
  });
  return sizeFilter(k, labels, { min, max });
}

/** Removes ids touching the image's edges, then the size and contact filters (SPEC §3.6–3.8, §4.9). */
export function filterLabels(
  run: StepRunner,
  step: string,
  labels: LabelImage,
  filters: { sizeFilter: SizeFilter | null; contactFilter: number | null },
  filterMasksSize: boolean,
  globals: ClassicalValues,
  key: 'nucleusSizeThresholds' | 'cytosolSizeThresholds',
  placement: WindowPlacement,
): Promise<LabelImage> {
  const k = run.kernels;
  return run.step(step, () => {
    let l = removeImageEdgeLabels(k, labels, placement);
    l = applySizeFilter(k, l, filters.sizeFilter, filterMasksSize, globals, key);
    return filters.contactFilter !== null ? k.contactFilter(l, filters.contactFilter) : l;
  });
}

/** SPEC §3.1–3.3: the optional nucleus normalisation, the threshold and the speckle removal. */
export async function nucleusMask(
  run: StepRunner,
  channel: Image2D,
  cfg: ClassicalNucleusConfig,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<Mask> {
  const k = run.kernels;
  const norm = cfg.normalization;
  const image = norm
    ? await run.step('nucleus normalize', () =>
        k.normalizeRange(channel, ...globals.get('nucleusNormalization', () => quantilePair(k, channel, norm))),
      )
    : channel;
  return thresholdMask(run, image, cfg, globals, placement);
}

/** The normalised, median-filtered nucleus channel of a window and its thresholded mask. */
async function windowNucleusMask(
  run: StepRunner,
  stacks: MaskStacks,
  cfg: WgaConfig | DapiConfig,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<Mask> {
  const { current } = await preprocess(run, [stacks.nucleus![0]], ['nucleus'], cfg.normalization, cfg.medianFilterSize, globals);
  return nucleusMask(run, current[0], cfg.nucleus, globals, placement);
}

/** The nucleus markers inside `core` with their neighbourhood on the geodesic-distance surface (marker order). */
export const nucleusMarkers: TileSweep<WgaConfig | DapiConfig, MarkerEntry> = async (ctx, stacks, cfg, globals, placement, core) => {
  const run = new StepRunner(ctx);
  const s = await nucleusSeeds(run, await windowNucleusMask(run, stacks, cfg, globals, placement), cfg.nucleus);
  if (s.count === 0) return [];
  const distance = await run.step('nucleus fast marching', () => run.kernels.fmmDistance(s.seeds, s.grown).data);
  return markerEntries(s.markers, s.grown, (i) => distance[i], placement, core, (i) => s.edt[i]);
};

/** Areas of the nuclei centred in `core` after edge removal, under their whole-image labels (size thresholds). */
export const nucleusAreas: TileSweep<WgaConfig | DapiConfig, CellArea> = async (ctx, stacks, cfg, globals, placement, core) => {
  const run = new StepRunner(ctx);
  const mask = await windowNucleusMask(run, stacks, cfg, globals, placement);
  const { labels, markers } = await labelsFromMask(run, mask, cfg.nucleus, globals, placement);
  const kept = removeImageEdgeLabels(run.kernels, labels, placement);
  return coreCellAreas(kept, markers, globals.optional('nucleusMarkerOrder')!, placement, core);
};

/** SPEC §3 steps 1–9 on the nucleus channel. */
export async function segmentNuclei(
  run: StepRunner,
  channel: Image2D,
  cfg: ClassicalNucleusConfig,
  filterMasksSize: boolean,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<NucleusResult> {
  const k = run.kernels;
  const { labels: all, markers } = await labelsFromMask(run, await nucleusMask(run, channel, cfg, globals, placement), cfg, globals, placement);
  const detected = await run.step('nucleus mask', () => foreground(all));
  const centers = await run.step('nucleus centroids', () => k.labelCentroids(all));
  const labels = await filterLabels(run, 'nucleus filters', all, cfg, filterMasksSize, globals, 'nucleusSizeThresholds', placement);
  return { labels, detected, centers, markers };
}
