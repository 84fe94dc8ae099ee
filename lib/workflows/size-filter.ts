/**
 * scPortrait's `SizeFilter(filter_threshold, log=True, confidence_interval).filter(mask)` (SPEC §5), on the
 * label kernels `labelAreas` + `removeLabels`.
 *
 * Quirks kept for parity:
 * - areas come from `np.unique(mask, return_counts=True)` minus its FIRST value, meant to be the background:
 *   a mask without any 0 pixel loses its smallest id from the filter (that id is always kept);
 * - removal is strict: ids with area < min or area > max; an area equal to a threshold is kept;
 * - automatic thresholds: a 1-component sklearn GaussianMixture on log(area) is just the mean μ and the
 *   biased variance σ² (+ reg_covar 1e-6), both divided by n + 10·eps as sklearn does; the thresholds are
 *   exp(μ + σ·Φ⁻¹(p)) for p = (1 − ci)/2 and 1 − (1 − ci)/2.
 * Differences: sklearn sums with BLAS (order unspecified), so μ and σ may differ from the original in the last
 * bits — irrelevant unless a threshold lands within ~1e-12 of an integer area. With fewer than two objects
 * sklearn refuses to fit (ValueError); here the mask is returned unchanged.
 */
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';

/** Explicit `[min_size, max_size]`, or automatic thresholds from `confidence_interval`. */
export type SizeThresholds = { min: number; max: number } | { confidenceInterval: number };

export interface SizeFilterResult {
  labels: Image2D<Uint32Array>;
  /** The [lower, upper] area thresholds applied (null when the automatic fit had too few objects). */
  thresholds: [number, number] | null;
  /** Removed ids, ascending. */
  removed: Uint32Array;
}

/** sklearn's GaussianMixture adds 10·eps to every component's responsibility sum. */
const GMM_NK_EPSILON = 10 * Number.EPSILON;
/** sklearn GaussianMixture's default reg_covar. */
const GMM_REG_COVAR = 1e-6;

/** Sum with Neumaier compensation: the closest float64 to the exact sum that BLAS may or may not reach. */
function compensatedSum(values: Float64Array): number {
  let sum = 0;
  let c = 0;
  for (const v of values) {
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + c;
}

function polynomial(coefficients: readonly number[], x: number): number {
  let r = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) r = r * x + coefficients[i];
  return r;
}

// Wichura (1988), Algorithm AS 241 PPND16: Φ⁻¹ to about 1e-16 relative accuracy. Coefficients lowest order first.
const CENTRAL_NUM = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const CENTRAL_DEN = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
  39307.89580009271061, 28729.085735721942674, 5226.495278852854561,
];
const NEAR_NUM = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
];
const NEAR_DEN = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
const TAIL_NUM = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const TAIL_DEN = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];

/** Inverse of the standard normal CDF (scipy.stats.norm.ppf): −∞ at 0, +∞ at 1, NaN outside [0, 1]. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(CENTRAL_NUM, r)) / polynomial(CENTRAL_DEN, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = polynomial(NEAR_NUM, r) / polynomial(NEAR_DEN, r);
  } else {
    r -= 5;
    x = polynomial(TAIL_NUM, r) / polynomial(TAIL_DEN, r);
  }
  return q < 0 ? -x : x;
}

/**
 * SizeFilter._calculate_filtering_threshold with log=True, n_components=1: returns [lower, upper] area
 * thresholds, or null for fewer than two areas (sklearn cannot fit those).
 */
export function automaticSizeThresholds(areas: Float64Array, confidenceInterval: number): [number, number] | null {
  const n = areas.length;
  if (n < 2) return null;
  const logs = areas.map(Math.log);
  const nk = n + GMM_NK_EPSILON;
  const mean = compensatedSum(logs) / nk;
  const squares = logs.map((v) => (v - mean) * (v - mean));
  const variance = compensatedSum(squares) / nk + GMM_REG_COVAR;
  const sigma = Math.sqrt(variance);
  const percent = 1 - confidenceInterval;
  const lower = mean + sigma * normalQuantile(percent / 2);
  const upper = mean + sigma * normalQuantile(1 - percent / 2);
  return [Math.exp(lower), Math.exp(upper)];
}

function assertThresholds(t: SizeThresholds): void {
  if (t === null || typeof t !== 'object') {
    throw new InputError('sizeFilter thresholds must be { min, max } or { confidenceInterval }', 'ERR_SCSEG_ARGUMENT');
  }
  if ('confidenceInterval' in t) {
    const ci = t.confidenceInterval;
    if (typeof ci !== 'number' || !(ci >= 0 && ci <= 1)) {
      throw new InputError(`sizeFilter confidenceInterval must be a number in [0, 1], got ${String(ci)}`, 'ERR_SCSEG_ARGUMENT');
    }
    return;
  }
  for (const key of ['min', 'max'] as const) {
    const v = (t as { min?: unknown; max?: unknown })[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InputError(`sizeFilter ${key} must be a finite number, got ${String(v)}`, 'ERR_SCSEG_ARGUMENT');
    }
  }
}

/**
 * How many leading ids SizeFilter skips: np.unique's first value is meant to be the background, so a mask without
 * any background pixel (areas, in id order, cover all `pixels`) loses its smallest id from the filter.
 */
export function skippedLeadingIds(areas: Float64Array, pixels: number): 0 | 1 {
  let total = 0;
  for (const a of areas) total += a;
  return total === pixels && areas.length > 0 ? 1 : 0;
}

/** Automatic thresholds as SizeFilter fits them to a mask's areas (id order); [0, ∞] (keep all) when it cannot. */
export function fittedSizeThresholds(areas: Float64Array, pixels: number, confidenceInterval: number): [number, number] {
  const fitted = areas.subarray(skippedLeadingIds(areas, pixels));
  return automaticSizeThresholds(fitted, confidenceInterval) ?? [0, Number.POSITIVE_INFINITY];
}

/** The size filter with its thresholds and the removed ids (for logs and QC). */
export function sizeFilterDetails(k: Kernels, labels: Image2D<Uint32Array>, thresholds: SizeThresholds): SizeFilterResult {
  assertThresholds(thresholds);
  const all = k.labelAreas(labels);
  const skip = skippedLeadingIds(all.areas, labels.width * labels.height);
  const ids = all.ids.subarray(skip);
  const areas = all.areas.subarray(skip);
  const range: [number, number] | null =
    'confidenceInterval' in thresholds
      ? automaticSizeThresholds(areas, thresholds.confidenceInterval)
      : [thresholds.min, thresholds.max];
  if (range === null) return { labels: { ...labels, data: labels.data.slice() }, thresholds: null, removed: new Uint32Array(0) };
  const removed: number[] = [];
  for (let i = 0; i < ids.length; i++) if (areas[i] < range[0] || areas[i] > range[1]) removed.push(ids[i]);
  const removedIds = Uint32Array.from(removed);
  return { labels: k.removeLabels(labels, removedIds), thresholds: range, removed: removedIds };
}

/** SizeFilter.filter(mask): a new label image without the ids outside the size range (no re-indexing). */
export function sizeFilter(k: Kernels, labels: Image2D<Uint32Array>, thresholds: SizeThresholds): Image2D<Uint32Array> {
  return sizeFilterDetails(k, labels, thresholds).labels;
}
