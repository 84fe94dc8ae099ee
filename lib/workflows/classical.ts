/**
 * Steps shared by the thresholding workflows (scPortrait `_ClassicalSegmentation`): input pre-processing and
 * nucleus segmentation. Each function reads like SPEC §2–§3, one kernel call per step.
 */
import type { ClassicalNucleusConfig, QuantileRange, SizeFilter } from '../config/types.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import { sizeFilter } from '../segmentation-ops/size-filter.js';
import { compareMap, compareScalar, foreground, toFloat32, type Mask } from './pixels.js';
import type { LabelImage, StepTimer } from './types.js';

export interface Preprocessed {
  /** scPortrait `maps["input_image"]`: the selected channels — overwritten by the median when not normalised. */
  input: Image2D[];
  /** The current stack after normalisation and median filtering (`maps["median_corrected"]` when filtered). */
  current: Image2D[];
}

/**
 * SPEC §2: optional per-channel percentile normalisation, then optional disk median per channel. Without
 * normalisation the median replaces the input stack itself, as the original filters `maps["input_image"]` in
 * place; with normalisation the input stays raw.
 */
export function preprocess(
  k: Kernels,
  channels: Image2D[],
  normalization: QuantileRange | null,
  medianFilterSize: number | null,
  timer: StepTimer,
): Preprocessed {
  const input = [...channels];
  if (normalization && medianFilterSize !== null && !(channels[0].data instanceof Float32Array)) {
    // SPEC §9: the median commutes with the (monotone) normalisation, so median(normalise(x)) ==
    // normalise(median(x)) bit for bit; the integer median runs on twice as many SIMD lanes as the float one.
    const current = channels.map((c) => {
      const [l, u] = timer.time('normalize', () => k.quantiles(c, [normalization.lower, normalization.upper]));
      const m = timer.time('median', () => k.medianFilter(c, medianFilterSize));
      return timer.time('normalize', () => k.normalizeRange(m, l, u));
    });
    return { input, current };
  }
  let current = [...channels];
  if (normalization) {
    current = timer.time('normalize', () => current.map((c) => k.percentileNormalize(c, normalization.lower, normalization.upper)));
  }
  if (medianFilterSize !== null) {
    const filtered = timer.time('median', () => current.map((c) => k.medianFilter(c, medianFilterSize)));
    if (!normalization) input.splice(0, input.length, ...filtered);
    current = filtered;
  }
  return { input, current };
}

export interface NucleusResult {
  /** Final nucleus labels (edge-, size- and contact-filtered), ids ranked by inscribed radius, never re-indexed. */
  labels: LabelImage;
  /** Foreground of ALL detected nuclei before filtering (`maps["nucleus_mask"]`). */
  detected: Mask;
  /** Centroids of all detected nuclei before filtering, ascending id (`nucleus_centers`). */
  centers: { ids: Uint32Array; y: Float64Array; x: Float64Array };
}

/** SPEC §3.3: threshold, then erosion by disk(speckle) and dilation by disk(speckle − 1). */
function thresholdMask(k: Kernels, image: Image2D, cfg: ClassicalNucleusConfig, timer: StepTimer): Mask {
  const raw = timer.time('nucleus threshold', () => {
    const t = cfg.thresholding;
    if (t.kind === 'local') {
      // threshold_local works in the image's float type; integer input only occurs without any normalisation.
      const f = toFloat32(image);
      // threshold_local(offset=-threshold): the map is the local median + threshold.
      return compareMap(f, k.localMedianThreshold(f, t.medianBlock, t.medianStep, -t.threshold));
    }
    return compareScalar(image, k.otsuThreshold(image));
  });
  return timer.time('nucleus speckle removal', () =>
    k.binaryDilation(k.binaryErosion(raw, cfg.speckleKernel, 1), cfg.speckleKernel - 1, 0),
  );
}

/**
 * SPEC §3.4 (`_generate_labels_from_mask`): seeds at EDT peaks, geodesic distance from the seeds inside the
 * dilated mask, marker watershed. Peak i (in peak_local_max order) becomes label i + 1.
 */
export function labelsFromMask(k: Kernels, mask: Mask, cfg: ClassicalNucleusConfig, timer: StepTimer): LabelImage {
  const { width, height } = mask;
  const peaks = timer.time('nucleus peaks', () =>
    k.peakLocalMax(k.distanceTransform(mask), cfg.minDistance, cfg.peakFootprint),
  );
  const grown = cfg.dilation > 0 ? k.binaryDilation(mask, cfg.dilation, 0) : mask;
  const seeds = new Uint8Array(width * height);
  const markers = new Uint32Array(width * height);
  for (let i = 0; i < peaks.length / 2; i++) {
    const at = peaks[2 * i] * width + peaks[2 * i + 1];
    seeds[at] = 1;
    markers[at] = i + 1;
  }
  // No seed: the original's skfmm call would fail; an image without nuclei simply has no labels.
  if (peaks.length === 0) return { data: new Uint32Array(width * height), width, height };
  return timer.time('nucleus fast marching + watershed', () =>
    k.distanceWatershed({ data: seeds, width, height }, grown, { data: markers, width, height }),
  );
}

export function applySizeFilter(k: Kernels, labels: LabelImage, filter: SizeFilter | null, enabled: boolean): LabelImage {
  return enabled && filter ? sizeFilter(k, labels, filter) : labels;
}

/** SPEC §3 steps 1–9 on the nucleus channel. */
export function segmentNuclei(
  k: Kernels,
  channel: Image2D,
  cfg: ClassicalNucleusConfig,
  filterMasksSize: boolean,
  timer: StepTimer,
): NucleusResult {
  const image = cfg.normalization
    ? timer.time('nucleus normalize', () => k.percentileNormalize(channel, cfg.normalization!.lower, cfg.normalization!.upper))
    : channel;
  const all = labelsFromMask(k, thresholdMask(k, image, cfg, timer), cfg, timer);
  const detected = timer.time('nucleus mask', () => foreground(all));
  const centers = timer.time('nucleus centroids', () => k.labelCentroids(all));
  const labels = timer.time('nucleus filters', () => {
    let l = k.removeEdgeLabels(all);
    l = applySizeFilter(k, l, cfg.sizeFilter, filterMasksSize);
    return cfg.contactFilter !== null ? k.contactFilter(l, cfg.contactFilter) : l;
  });
  return { labels, detected, centers };
}
