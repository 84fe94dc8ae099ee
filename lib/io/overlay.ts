/**
 * A quick-look PNG of a segmentation: the background channel as percentile-stretched grey, mask outlines on top in
 * one colour per mask, downsampled so the long side is at most `maxSize` pixels.
 */
import { PNG } from 'pngjs';
import { InputError } from '../errors.js';
import type { Image2D, PixelArray } from '../image.js';
import { writeFileAtomic } from './atomic.js';
import type { WriteProgress } from './labels.js';

export type Rgb = readonly [number, number, number];

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

  const f = Math.max(1, Math.ceil(Math.max(W, H) / maxSize));
  const w = Math.ceil(W / f);
  const h = Math.ceil(H / f);
  const column = new Int32Array(W);
  for (let x = 0; x < W; x++) column[x] = Math.floor(x / f);
  // Background: block means, then the stretch.
  const sum = new Float64Array(w * h);
  const count = new Uint32Array(w * h);
  const src = background.data;
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
  const [p0, p1] = percentiles(src, [lo, hi]);
  const scale = p1 > p0 ? 255 / (p1 - p0) : 0;
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const mean = count[i] ? sum[i] / count[i] : p0;
    const g = Math.max(0, Math.min(255, Math.round((mean - p0) * scale)));
    rgba[4 * i] = g; rgba[4 * i + 1] = g; rgba[4 * i + 2] = g; rgba[4 * i + 3] = 255;
  }
  // Outlines at full resolution (a labelled pixel with a 4-neighbour of another label), then "any" per block.
  masks.forEach((mask, m) => {
    const [r, g, b] = colors[m % colors.length];
    const L = mask.data;
    for (let y = 0; y < H; y++) {
      const row = Math.floor(y / f) * w;
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const v = L[i];
        if (v === 0) continue;
        const edge = (x > 0 && L[i - 1] !== v) || (x + 1 < W && L[i + 1] !== v) ||
          (y > 0 && L[i - W] !== v) || (y + 1 < H && L[i + W] !== v);
        if (!edge) continue;
        const o = 4 * (row + column[x]);
        rgba[o] = r; rgba[o + 1] = g; rgba[o + 2] = b;
      }
    }
    options.onProgress?.(m + 1, masks.length + 1);
  });
  return { width: w, height: h, rgba, factor: f };
}

/** Writes the overlay as an RGB PNG, atomically. */
export async function writeQcOverlay(
  pngPath: string,
  background: Image2D,
  masks: readonly Image2D<Uint32Array>[],
  options: QcOverlayOptions = {},
): Promise<void> {
  const { width, height, rgba } = renderQcOverlay(background, masks, options);
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  // One row filter (Sub) instead of pngjs' per-row trial of all five: ~3× faster to encode, about as small here.
  const bytes = PNG.sync.write(png, { colorType: 2, filterType: 1 });
  options.onProgress?.(masks.length + 1, masks.length + 1);
  await writeFileAtomic(pngPath, bytes);
}
