/**
 * The QC overlay's pixels: the background channel as percentile-stretched grey, mask outlines on top in one colour
 * per mask, downsampled so the long side is at most `maxSize` pixels. Environment-neutral (no Node module), so the
 * browser page renders the same overlay; overlay.ts encodes it as PNG and writes it.
 */
import { InputError } from '../errors.js';
import type { Image2D, PixelArray } from '../image.js';
import type { Kernels } from '../kernels/facade.js';
import type { WriteProgress } from './labels.js';

export type Rgb = readonly [number, number, number];

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Mask 0 (nucleus) cyan, mask 1 (cytosol) magenta, then yellow, green, orange. */
export const QC_COLORS: readonly Rgb[] = [[0, 255, 255], [255, 0, 255], [255, 255, 0], [0, 255, 0], [255, 128, 0]];

export interface QcOverlayOptions {
  /** Long side of the PNG at most this many pixels (default 2048); larger images are shrunk by an integer factor. */
  maxSize?: number;
  /** Grey stretch: these percentiles (0–100, numpy "linear") of the background map to black and white (1, 99.5). */
  lowerPercentile?: number;
  upperPercentile?: number;
  /** Outline colour per mask; defaults to QC_COLORS. Later masks are drawn over earlier ones. */
  colors?: readonly Rgb[];
  onProgress?: WriteProgress;
  /**
   * Render with these kernels (native/qc_overlay.hpp: the same bytes, off JavaScript and over the kernels' threads);
   * without them, in JavaScript.
   */
  kernels?: Kernels;
}

/** numpy-style linear-interpolated percentiles; exact via a histogram for integer data, on ≤ 2^20 samples for floats. */
export function percentiles(data: PixelArray, qs: readonly number[]): number[] {
  if (data instanceof Float32Array) {
    const step = Math.max(1, Math.floor(data.length / (1 << 20)));
    const buffer = new Float32Array(Math.ceil(data.length / step));
    let n = 0;
    for (let i = 0; i < data.length; i += step) if (!Number.isNaN(data[i])) buffer[n++] = data[i];
    if (n === 0) return qs.map(() => 0);
    const sorted = buffer.subarray(0, n).sort();
    return qs.map((q) => {
      const pos = (q / 100) * (sorted.length - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(lo + 1, sorted.length - 1);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    });
  }
  const hist = new Float64Array(data instanceof Uint8Array ? 256 : 65536);
  for (let i = 0; i < data.length; i++) hist[data[i]]++;
  const kth = (k: number): number => {
    let acc = 0;
    for (let v = 0; v < hist.length; v++) {
      acc += hist[v];
      if (acc > k) return v;
    }
    return hist.length - 1;
  };
  return qs.map((q) => {
    const pos = (q / 100) * (data.length - 1);
    const lo = Math.floor(pos);
    const a = kth(lo);
    const b = kth(Math.min(lo + 1, data.length - 1));
    return a + (b - a) * (pos - lo);
  });
}

function checkBackground(image: Image2D, what: string): void {
  const d = image?.data;
  if (!(d instanceof Uint8Array || d instanceof Uint16Array || d instanceof Float32Array)) {
    throw new InputError(`${what}: background must be a Uint8Array, Uint16Array or Float32Array image`, 'ERR_SCSEG_DTYPE');
  }
  if (!Number.isSafeInteger(image.width) || !Number.isSafeInteger(image.height) || image.width <= 0 ||
      image.height <= 0 || d.length !== image.width * image.height) {
    throw new InputError(`${what}: background ${image.width}×${image.height} does not match ${d.length} pixels`, 'ERR_SCSEG_SHAPE');
  }
}

/** Renders the overlay into RGBA pixels (exported for tests and for callers that encode elsewhere). */
export function renderQcOverlay(
  background: Image2D,
  masks: readonly Image2D<Uint32Array>[],
  options: QcOverlayOptions = {},
): { width: number; height: number; rgba: Uint8Array; factor: number } {
  checkBackground(background, 'QC overlay');
  const { width: W, height: H } = background;
  masks.forEach((m, i) => {
    if (!(m?.data instanceof Uint32Array) || m.width !== W || m.height !== H || m.data.length !== W * H) {
      throw new InputError(`QC overlay: mask ${i} must be a ${W}×${H} Uint32Array label image`, 'ERR_SCSEG_SHAPE');
    }
  });
  const maxSize = options.maxSize ?? 2048;
  const lo = options.lowerPercentile ?? 1;
  const hi = options.upperPercentile ?? 99.5;
  if (!Number.isSafeInteger(maxSize) || maxSize < 1) throw new InputError('QC overlay: maxSize must be a positive integer', 'ERR_SCSEG_ARGUMENT');
  if (!(lo >= 0 && hi <= 100 && lo < hi)) throw new InputError('QC overlay: need 0 ≤ lowerPercentile < upperPercentile ≤ 100', 'ERR_SCSEG_ARGUMENT');
  const colors = options.colors ?? QC_COLORS;
  const colorsOk = Array.isArray(colors) && (colors.length > 0 || masks.length === 0) &&
    colors.every((c) => Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
  if (!colorsOk) throw new InputError('QC overlay: colors must be [r, g, b] triples of integers 0–255, at least one', 'ERR_SCSEG_ARGUMENT');

  const f = Math.max(1, Math.ceil(Math.max(W, H) / maxSize));
  const src = background.data;
  const [p0, p1] = percentiles(src, [lo, hi]);
  const scale = p1 > p0 ? 255 / (p1 - p0) : 0;
  if (options.kernels) {
    const { width, height, rgba } = options.kernels.qcOverlay(background, masks, { factor: f, p0, scale, colors });
    masks.forEach((_, m) => options.onProgress?.(m + 1, masks.length + 1));
    return { width, height, rgba, factor: f };
  }
  const w = Math.ceil(W / f);
  const h = Math.ceil(H / f);
  const column = new Int32Array(W);
  for (let x = 0; x < W; x++) column[x] = Math.floor(x / f);
  const rgba = new Uint8Array(w * h * 4);
  // Whole pixels as one 32-bit store each (R, G, B, A in memory order on a little-endian host; else bytewise).
  const px = LITTLE_ENDIAN ? new Uint32Array(rgba.buffer) : undefined;
  const put = (i: number, r: number, g: number, b: number) => {
    if (px) px[i] = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
    else rgba.set([r, g, b, 255], 4 * i);
  };
  const stretch = (mean: number) => Math.max(0, Math.min(255, Math.round((mean - p0) * scale)));
  if (f === 1) {
    // full size: each pixel stretched (NaN shows as the low end, as an empty block does); integer images through
    // a table of every value's grey
    if (src instanceof Float32Array) {
      for (let i = 0; i < w * h; i++) {
        const v = src[i];
        const g = stretch(v === v ? v : p0);
        put(i, g, g, g);
      }
    } else {
      const lut = new Uint32Array(src instanceof Uint8Array ? 256 : 65536);
      for (let v = 0; v < lut.length; v++) lut[v] = stretch(v);
      for (let i = 0; i < w * h; i++) {
        const g = lut[src[i]];
        put(i, g, g, g);
      }
    }
  } else {
    // block means, then the stretch
    const sum = new Float64Array(w * h);
    const count = new Uint32Array(w * h);
    for (let y = 0; y < H; y++) {
      const row = Math.floor(y / f) * w;
      for (let x = 0, i = y * W; x < W; x++, i++) {
        const v = src[i];
        if (v !== v) continue; // NaN
        const o = row + column[x];
        sum[o] += v;
        count[o]++;
      }
    }
    for (let i = 0; i < w * h; i++) {
      const g = stretch(count[i] ? sum[i] / count[i] : p0);
      put(i, g, g, g);
    }
  }
  // Outlines at full resolution (a labelled pixel with a 4-neighbour of another label), then "any" per block.
  masks.forEach((mask, m) => {
    const [r, g, b] = colors[m % colors.length];
    const L = mask.data;
    for (let y = 0; y < H; y++) {
      const row = Math.floor(y / f) * w;
      const top = y > 0;
      const bottom = y + 1 < H;
      for (let x = 0, i = y * W; x < W; x++, i++) {
        const v = L[i];
        if (v === 0) continue;
        if ((x > 0 && L[i - 1] !== v) || (x + 1 < W && L[i + 1] !== v) || (top && L[i - W] !== v) || (bottom && L[i + W] !== v)) {
          put(row + column[x], r, g, b);
        }
      }
    }
    options.onProgress?.(m + 1, masks.length + 1);
  });
  return { width: w, height: h, rgba, factor: f };
}
