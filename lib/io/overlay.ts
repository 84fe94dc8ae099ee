/**
 * A quick-look PNG of a segmentation: the background channel as percentile-stretched grey, mask outlines on top in
 * one colour per mask, downsampled so the long side is at most `maxSize` pixels.
 */
import zlib from 'node:zlib';
import { InputError } from '../errors.js';
import type { Image2D, PixelArray } from '../image.js';
import type { Kernels } from '../kernels/facade.js';
import { writeFileAtomic } from './atomic.js';
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

/** Writes the overlay as an RGB PNG, atomically. */
export async function writeQcOverlay(
  pngPath: string,
  background: Image2D,
  masks: readonly Image2D<Uint32Array>[],
  options: QcOverlayOptions = {},
): Promise<void> {
  await writeFileAtomic(pngPath, await encodeQcOverlay(background, masks, options));
}

/**
 * The overlay's PNG bytes: rendered on this thread, deflated on libuv's thread pool (outputs.ts writes
 * segmentation.h5 meanwhile, and the PNG to disk after it).
 */
export async function encodeQcOverlay(
  background: Image2D,
  masks: readonly Image2D<Uint32Array>[],
  options: QcOverlayOptions = {},
): Promise<Buffer> {
  const { width, height, rgba } = renderQcOverlay(background, masks, options);
  const bytes = await encodeRgbPngAsync(rgba, width, height);
  options.onProgress?.(masks.length + 1, masks.length + 1);
  return bytes;
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 (PNG's, zlib's): zlib.crc32 where Node has it (≥ 20.15), else a table. */
function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native) return native(bytes);
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * An 8-bit RGB PNG of RGBA pixels (alpha dropped): every row with the Sub filter (the overlay is mostly flat grey
 * runs, which Sub turns into zeros), deflated at level 6 with zlib's RLE strategy — a few times faster than a
 * general encoder's per-row filter trials and default strategy, and about as small for this content.
 */
export function encodeRgbPng(rgba: Uint8Array, width: number, height: number): Buffer {
  return pngFile(width, height, zlib.deflateSync(subFilteredRgb(rgba, width, height), DEFLATE));
}

/** encodeRgbPng with the deflate off the calling thread (same bytes). */
export async function encodeRgbPngAsync(rgba: Uint8Array, width: number, height: number): Promise<Buffer> {
  const raw = subFilteredRgb(rgba, width, height);
  // One output chunk as large as the input: the whole deflate is one thread-pool job. With zlib's default 16 KiB
  // chunks every chunk waits for this thread's event loop, which is busy writing segmentation.h5 meanwhile.
  const options = { ...DEFLATE, chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, raw.length + 1024) };
  const idat = await new Promise<Buffer>((resolve, reject) =>
    zlib.deflate(raw, options, (err, out) => (err ? reject(err) : resolve(out))),
  );
  return pngFile(width, height, idat);
}

const DEFLATE: zlib.ZlibOptions = { level: 6, strategy: zlib.constants.Z_RLE };

/** PNG scanlines of RGBA pixels as RGB, each row with the Sub filter. */
function subFilteredRgb(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const stride = 1 + 3 * width;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const o = y * stride;
    raw[o] = 1; // Sub
    let pr = 0;
    let pg = 0;
    let pb = 0;
    for (let x = 0, i = 4 * y * width, j = o + 1; x < width; x++, i += 4, j += 3) {
      const r = rgba[i];
      const g = rgba[i + 1];
      const b = rgba[i + 2];
      raw[j] = r - pr;
      raw[j + 1] = g - pg;
      raw[j + 2] = b - pb;
      pr = r;
      pg = g;
      pb = b;
    }
  }
  return raw;
}

function pngFile(width: number, height: number, idat: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}
