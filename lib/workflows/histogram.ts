/**
 * Whole-image statistics from a value histogram, built window by window: numpy's "linear" quantile and
 * scPortrait's global_otsu give the same bits from the histogram as the kernels give from the whole image
 * (`quantiles` in native/normalize.hpp, `otsuThreshold` in native/threshold.hpp — the arithmetic below follows
 * them operation for operation; Math.fround after each float32 operation is exact float32 arithmetic).
 *
 * Integer planes are counted per value (65 536 bins at most); float32 planes are kept and sorted once, so a
 * float32 input costs 4 bytes per pixel in the global pass.
 */
import { InputError } from '../errors.js';
import type { Image2D, PixelArray } from '../image.js';

/** Distinct values ascending, how often each occurs, and whether the values are float32 data (vs integers). */
export interface ValueHistogram {
  readonly values: Float64Array;
  readonly counts: Float64Array;
  readonly total: number;
  readonly float32: boolean;
}

export class HistogramBuilder {
  private bins: Float64Array | null = null;
  private floats: Float32Array[] = [];
  private float32: boolean | null = null;

  /** Adds rows [rowStart, rowEnd) of `plane`. */
  addRows(plane: Image2D, rowStart: number, rowEnd: number): void {
    const data = plane.data.subarray(rowStart * plane.width, rowEnd * plane.width) as PixelArray;
    const isFloat = data instanceof Float32Array;
    if (this.float32 !== null && this.float32 !== isFloat) {
      throw new InputError('histogram: windows of one channel must share one pixel type', 'ERR_SCSEG_DTYPE');
    }
    this.float32 = isFloat;
    if (isFloat) {
      for (let i = 0; i < data.length; i++) {
        if (Number.isNaN(data[i])) throw new InputError('image contains NaN; replace or mask NaNs first', 'ERR_SCSEG_VALUE');
      }
      this.floats.push(Float32Array.from(data));
      return;
    }
    const bins = (this.bins ??= new Float64Array(data instanceof Uint8Array ? 256 : 65536));
    for (let i = 0; i < data.length; i++) bins[data[i]]++;
  }

  finish(): ValueHistogram {
    if (this.float32 === null) throw new InputError('histogram of an empty image', 'ERR_SCSEG_SHAPE');
    if (!this.float32) {
      const bins = this.bins!;
      const values: number[] = [];
      const counts: number[] = [];
      let total = 0;
      bins.forEach((c, v) => {
        if (c > 0) {
          values.push(v);
          counts.push(c);
          total += c;
        }
      });
      return { values: Float64Array.from(values), counts: Float64Array.from(counts), total, float32: false };
    }
    const all = new Float32Array(this.floats.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of this.floats) {
      all.set(f, at);
      at += f.length;
    }
    this.floats = [];
    all.sort();
    return runLengths(all, true);
  }
}

function runLengths(sorted: ArrayLike<number>, float32: boolean): ValueHistogram {
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i];
    // -0 and +0 are one value for ordering, as they are for the kernels' comparisons.
    if (values.length > 0 && values[values.length - 1] === v) counts[counts.length - 1]++;
    else {
      values.push(v);
      counts.push(1);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts), total: sorted.length, float32 };
}

/** The histogram of f(x) for a non-decreasing f producing float32 values (equal results merge). */
export function mapHistogram(h: ValueHistogram, f: (v: number) => number): ValueHistogram {
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < h.values.length; i++) {
    const v = f(h.values[i]);
    if (values.length > 0 && values[values.length - 1] === v) counts[counts.length - 1] += h.counts[i];
    else {
      values.push(v);
      counts.push(h.counts[i]);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts), total: h.total, float32: true };
}

/** The value of the `rank`-th smallest element (0-based). */
function orderStatistic(h: ValueHistogram, rank: number): number {
  let seen = 0;
  for (let i = 0; i < h.values.length; i++) {
    seen += h.counts[i];
    if (rank < seen) return h.values[i];
  }
  return h.values[h.values.length - 1];
}

/** numpy.quantile(x, q), "linear" method, numpy 1.24's evaluation order (values read as float32). */
export function histogramQuantile(h: ValueHistogram, q: number): number {
  const n = h.total;
  const virtualIndex = (n - 1) * q;
  let prev = Math.floor(virtualIndex);
  let lo: number;
  let hi: number;
  if (virtualIndex >= n - 1) {
    lo = hi = n - 1;
    prev = -1;
  } else if (virtualIndex < 0) {
    lo = hi = 0;
    prev = 0;
  } else {
    lo = prev;
    hi = lo + 1;
  }
  const gamma = virtualIndex - prev;
  const a = Math.fround(orderStatistic(h, lo));
  const b = Math.fround(orderStatistic(h, hi));
  const diff = Math.fround(b - a);
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

/**
 * _normalize_image's scaling with quantiles l, u in numpy 1.x float32 arithmetic — the `normalizeRange` kernel's
 * per-pixel formula: clip((x − f32(l)) / f32(u − l), 0, 1), the division skipped when u == l.
 */
export function unitScaling(l: number, u: number): (x: number) => number {
  const range = u - l;
  const l32 = Math.fround(l);
  const range32 = Math.fround(range);
  return (x) => {
    let y = Math.fround(Math.fround(x) - l32);
    if (range !== 0) y = Math.fround(y / range32);
    return y < 0 ? 0 : y > 1 ? 1 : y;
  };
}

const OTSU_BINS = 512;

/** scPortrait's global_otsu (numpy.histogram with 512 bins, first maximum of the between-class variance). */
export function histogramOtsu(h: ValueHistogram): number {
  // numpy keeps float32 data in float32 for the bin arithmetic; integers go through float64.
  const c = h.float32 ? Math.fround : (v: number) => v;
  const mn = h.values[0];
  const mx = h.values[h.values.length - 1];
  if (!Number.isFinite(mn) || !Number.isFinite(mx)) {
    throw new InputError('otsuThreshold: image contains ±Infinity, which numpy.histogram cannot bin', 'ERR_SCSEG_VALUE');
  }
  let first: number;
  let last: number;
  let norm: number;
  if (mn === mx) {
    first = mn - 0.5;
    last = mx + 0.5;
    norm = OTSU_BINS / (last - first);
  } else {
    first = mn;
    last = mx;
    norm = OTSU_BINS / (h.float32 ? Math.fround(mx - mn) : mx - mn);
  }
  const edge = new Float64Array(OTSU_BINS + 1);
  const stepSize = (last - first) / OTSU_BINS;
  for (let k = 0; k < OTSU_BINS; k++) edge[k] = c(k * stepSize + first);
  edge[OTSU_BINS] = c(last);

  const count = new Float64Array(OTSU_BINS);
  const firstC = c(first);
  const normC = c(norm);
  for (let i = 0; i < h.values.length; i++) {
    const a = c(h.values[i]);
    const f = c(c(a - firstC) * normC);
    let idx = Math.trunc(f);
    if (idx === OTSU_BINS) idx--;
    if (a < edge[idx]) idx--;
    if (idx !== OTSU_BINS - 1 && a >= edge[idx + 1]) idx++;
    count[idx] += h.counts[i];
  }
  const centre = new Float64Array(OTSU_BINS);
  for (let k = 0; k < OTSU_BINS; k++) centre[k] = c(edge[k] + c(c(edge[k + 1] - edge[k]) / 2));

  const w1 = new Float64Array(OTSU_BINS);
  const w2 = new Float64Array(OTSU_BINS);
  const m1 = new Float64Array(OTSU_BINS);
  const m2 = new Float64Array(OTSU_BINS);
  let cw = 0;
  let cs = 0;
  for (let k = 0; k < OTSU_BINS; k++) {
    cw += count[k];
    cs += count[k] * centre[k];
    w1[k] = cw;
    m1[k] = cs / cw;
  }
  cw = 0;
  cs = 0;
  for (let k = OTSU_BINS - 1; k >= 0; k--) {
    cw += count[k];
    cs += count[k] * centre[k];
    w2[k] = cw;
    m2[k] = cs / cw;
  }
  let best = 0;
  let bestVar = 0;
  for (let k = 0; k + 1 < OTSU_BINS; k++) {
    const d = m1[k] - m2[k + 1];
    const v = w1[k] * w2[k + 1] * (d * d);
    if (k === 0 || !(bestVar >= v)) {
      best = k;
      bestVar = v;
      if (Number.isNaN(v)) break;
    }
  }
  return centre[best];
}
