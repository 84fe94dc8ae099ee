/**
 * Cellpose 3.1.1.3's pre-processing and tiling, as `CellposeModel.eval` runs them on one 2-D image without
 * augmentation (cellpose/transforms.py, cellpose/core.py `run_net`; our own code, checked against Cellpose's outputs
 * in test/cellpose/transforms.test.ts):
 *
 * 1. `cellposeInput`: the planes → the network's 2-channel float32 image (`convert_image` + `reshape`);
 * 2. `normalizeCellpose`: `normalize_img` with its defaults (per channel 1st/99th percentile → 0/1, numpy's
 *    percentile, flat channels left alone, a spread ≤ 1e-3 → zeros); `minMaxScale` for `normalize: false`;
 * 3. `resizeLinear`: cv2.resize INTER_LINEAR on float32 (half-pixel centres, float weights, OpenCV's 2×2 area
 *    fast path for exact halving); `rescaledSize` the size `resize_image(rsz=…)` picks;
 * 4. `padding` (`get_pad_yx`: to multiples of 16 plus 8 on each side), `tileGrid` (`make_tiles`: 224 tiles,
 *    overlap 0.1), `cutTiles`, `taperMask`, `averageTiles` (tapered blending) and `runTiled`, the whole of
 *    `run_net` plus the resample step of `_run_net` around a network callback.
 *
 * Images are channels-last (`[H, W, C]` interleaved, as Cellpose holds them); tiles and network outputs are
 * channels-first (`[N, C, h, w]`, as the network takes them). Every function is pure TypeScript, runtime-neutral.
 */
import { InputError } from '../errors.js';
import type { Image2D, PixelArray } from '../image.js';
import type { TileBlend } from '../kernels/validate.js';
import { nextTurn } from '../workflows/types.js';

/** A float32 image of `channels` interleaved channels per pixel (`[H, W, C]`, row-major). */
export interface ChannelImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** Cellpose's `channels` setting: [channel to segment, optional nuclear channel], 1-based, 0 = grayscale / none. */
export type CellposeChannels = readonly [number, number];

const f32 = Math.fround;

function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InputError(`${what}: width and height must be positive integers, got ${width}×${height}`, 'ERR_SCSEG_SHAPE');
  }
}

function checkImage(img: ChannelImage, what: string): void {
  checkSize(img.width, img.height, what);
  if (!Number.isInteger(img.channels) || img.channels < 1) {
    throw new InputError(`${what}: channels must be a positive integer, got ${img.channels}`, 'ERR_SCSEG_SHAPE');
  }
  if (img.data.length !== img.width * img.height * img.channels) {
    throw new InputError(
      `${what}: data has ${img.data.length} values, expected ${img.width}×${img.height}×${img.channels}`, 'ERR_SCSEG_SHAPE');
  }
}

function notFinite(what: string, at: number): InputError {
  return new InputError(`${what} contains NaN or ±Infinity (at index ${at}); Cellpose's input must be finite`, 'ERR_SCSEG_VALUE');
}

function checkFinite(data: ArrayLike<number>, what: string): void {
  // integer pixels are finite by type
  if (data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Uint32Array) return;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) throw notFinite(what, i);
  }
}

/**
 * The network's 2-channel input from the image's planes, as Cellpose's `convert_image` (+ `reshape`) builds it:
 * one plane → [plane, zeros] whatever `channels` says; several planes (scPortrait hands them as [C, H, W], at most 5)
 * → channel 0 = plane `channels[0]` (or, for 0, the float32 mean of all planes), channel 1 = plane `channels[1]`
 * (zeros for 0). scPortrait: nucleus model `[1, 0]`, cytosol model `[2, 1]` on [nucleus, cytosol].
 */
export function cellposeInput(planes: readonly Image2D<PixelArray>[], channels: CellposeChannels): ChannelImage {
  if (planes.length < 1 || planes.length > 5) {
    throw new InputError(`cellposeInput: 1 to 5 planes expected, got ${planes.length}`, 'ERR_SCSEG_SHAPE');
  }
  if (channels.length !== 2 || !channels.every((c) => Number.isInteger(c) && c >= 0)) {
    throw new InputError(`cellposeInput: channels must be two non-negative integers, got [${channels.join(', ')}]`, 'ERR_SCSEG_ARGUMENT');
  }
  const { width, height } = planes[0];
  checkSize(width, height, 'cellposeInput');
  for (const [k, p] of planes.entries()) {
    if (p.width !== width || p.height !== height || p.data.length !== width * height) {
      throw new InputError(`cellposeInput: plane ${k} is ${p.width}×${p.height} (${p.data.length} values), plane 0 is ${width}×${height}`, 'ERR_SCSEG_SHAPE');
    }
    checkFinite(p.data, `cellposeInput: plane ${k}`);
  }
  const n = width * height;
  const out = new Float32Array(n * 2);
  const copy = (src: ArrayLike<number>, c: number) => {
    for (let i = 0; i < n; i++) out[i * 2 + c] = src[i];
  };
  if (planes.length === 1) {
    copy(planes[0].data, 0);
  } else if (channels[0] === 0) {
    // numpy's float32 mean over the channel axis: a float32 sum in plane order, then one division
    const count = planes.length;
    for (let i = 0; i < n; i++) {
      let s = f32(planes[0].data[i]);
      for (let k = 1; k < count; k++) s = f32(s + f32(planes[k].data[i]));
      out[i * 2] = f32(s / count);
    }
  } else {
    for (const c of channels) {
      if (c > planes.length) {
        throw new InputError(`cellposeInput: channels [${channels.join(', ')}] name plane ${c}, but there are ${planes.length}`, 'ERR_SCSEG_ARGUMENT');
      }
    }
    copy(planes[channels[0] - 1].data, 0);
    if (channels[1] > 0) copy(planes[channels[1] - 1].data, 1);
  }
  return { data: out, width, height, channels: 2 };
}

/**
 * numpy.percentile(values, q) with its default 'linear' method, as numpy 1.2x computes it for float32 data:
 * virtual index (n − 1)·q/100, neighbours a ≤ b, and the lerp with (b − a) in float32 and the rest in float64.
 * `sorted` must be sorted ascending and finite.
 */
export function numpyPercentile(sorted: ArrayLike<number>, q: number): number {
  const { prev, next, gamma } = percentileRanks(sorted.length, q);
  return percentileLerp(sorted[prev], sorted[next], gamma);
}

/** The ranks numpy's 'linear' percentile q of n values reads (prev ≤ next) and its lerp weight. */
function percentileRanks(n: number, q: number): { prev: number; next: number; gamma: number } {
  const virtual = (n - 1) * (q / 100);
  let prev = Math.floor(virtual);
  let next = prev + 1;
  if (virtual >= n - 1) prev = next = n - 1;
  return { prev, next, gamma: virtual - (virtual >= n - 1 ? -1 : prev) };
}

function percentileLerp(a: number, b: number, gamma: number): number {
  const d = f32(b - a);
  return gamma >= 0.5 ? b - d * (1 - gamma) : a + d * gamma;
}

/**
 * float32 bits → an int32 key whose order is Float32Array#sort's order of finite values (−0 before +0); the same
 * map turns a key back into the bits.
 */
function orderKey(bits: number): number {
  return bits ^ ((bits >> 31) & 0x7fffffff);
}

/**
 * The keys at the given ranks (ascending order, 0 = the smallest) of `keys`, by two counting passes instead of a
 * sort or a selection: the high 16 bits of the order-preserving unsigned key, then the low 16 bits among the keys
 * in each chosen bucket. Linear, two sequential scans per distinct bucket, `keys` untouched.
 */
function keysAtRanks(keys: Int32Array, ranks: readonly number[]): Map<number, number> {
  const high = new Float64Array(65536);
  for (let i = 0; i < keys.length; i++) high[(keys[i] ^ 0x80000000) >>> 16]++;
  // each rank's bucket and its rank within the bucket
  const wanted = new Map<number, { rank: number; within: number }[]>();
  for (const rank of ranks) {
    let below = 0;
    let bucket = 0;
    while (below + high[bucket] <= rank) below += high[bucket++];
    const list = wanted.get(bucket) ?? [];
    list.push({ rank, within: rank - below });
    wanted.set(bucket, list);
  }
  const at = new Map<number, number>();
  const low = new Float64Array(65536);
  for (const [bucket, list] of wanted) {
    low.fill(0);
    for (let i = 0; i < keys.length; i++) {
      const u = (keys[i] ^ 0x80000000) >>> 0;
      if (u >>> 16 === bucket) low[u & 0xffff]++;
    }
    for (const { rank, within } of list) {
      let below = 0;
      let v = 0;
      while (below + low[v] <= within) below += low[v++];
      at.set(rank, (((bucket << 16) | v) ^ 0x80000000) | 0);
    }
  }
  return at;
}

/**
 * numpyPercentile(sorted(values), q) for each q, without sorting: the ranks it reads are selected (the values at a
 * rank are the same whatever the algorithm). `values` (finite) is overwritten.
 */
function percentilesOf(values: Float32Array, qs: readonly number[]): number[] {
  const n = values.length;
  const keys = new Int32Array(values.buffer, values.byteOffset, n);
  for (let i = 0; i < n; i++) keys[i] = orderKey(keys[i]);
  const bits = new Int32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  const valueOf = (key: number) => {
    bits[0] = orderKey(key);
    return asFloat[0];
  };
  const ranks = [...new Set(qs.flatMap((q) => { const r = percentileRanks(n, q); return [r.prev, r.next]; }))];
  const at = keysAtRanks(keys, ranks);
  return qs.map((q) => {
    const { prev, next, gamma } = percentileRanks(n, q);
    return percentileLerp(valueOf(at.get(prev)!), valueOf(at.get(next)!), gamma);
  });
}

/** Pixels above which `normalize99(downsample=True)` takes its percentiles on a strided subsample (224³). */
const DOWNSAMPLE_ABOVE = 224 ** 3;

/** What `normalize_img`'s defaults take from a whole channel: its 1st and 99th percentiles, unless it is flat. */
export interface ChannelNormalization {
  /** All values equal (np.ptp == 0): the channel is left as it is. */
  readonly flat: boolean;
  readonly p1: number;
  readonly p99: number;
}

/**
 * Collects what `normalizeCellpose` needs of a whole image from windows of it (a sharded run's global pass streams
 * bands): per channel the minimum and maximum, and the values its percentiles are taken on — every pixel, or for
 * images of more than 224³ pixels every (H // 224)-th row and (W // 224)-th column, as Cellpose's
 * `normalize99(downsample=True)` — counted in whole-image coordinates, so any cut into windows gives the same values.
 */
export class NormalizationStats {
  private readonly lo: number[];
  private readonly hi: number[];
  private readonly values: Float32Array[];
  private readonly filled: number[];
  private readonly sy: number;
  private readonly sx: number;

  constructor(readonly width: number, readonly height: number, readonly channels: number) {
    checkSize(width, height, 'NormalizationStats');
    const sub = width * height > DOWNSAMPLE_ABOVE;
    this.sy = sub ? Math.max(1, Math.floor(height / 224)) : 1;
    this.sx = sub ? Math.max(1, Math.floor(width / 224)) : 1;
    const m = Math.ceil(height / this.sy) * Math.ceil(width / this.sx);
    this.lo = Array<number>(channels).fill(Infinity);
    this.hi = Array<number>(channels).fill(-Infinity);
    this.values = Array.from({ length: channels }, () => new Float32Array(m));
    this.filled = Array<number>(channels).fill(0);
  }

  /** Adds the window `img` whose top-left pixel is (x0, y0) of the image; windows must not overlap. */
  add(img: ChannelImage, x0: number, y0: number): void {
    checkImage(img, 'NormalizationStats.add');
    if (img.channels !== this.channels || x0 < 0 || y0 < 0 || x0 + img.width > this.width || y0 + img.height > this.height) {
      throw new InputError(
        `NormalizationStats.add: a ${img.width}×${img.height}×${img.channels} window at ${x0},${y0} is outside the ` +
          `${this.width}×${this.height}×${this.channels} image`, 'ERR_SCSEG_SHAPE');
    }
    const { data, width, height, channels: cn } = img;
    for (let c = 0; c < cn; c++) {
      let lo = this.lo[c];
      let hi = this.hi[c];
      for (let i = c; i < data.length; i += cn) {
        const v = data[i];
        if (v - v !== 0) throw notFinite('normalizeCellpose: the image', i);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      this.lo[c] = lo;
      this.hi[c] = hi;
      const out = this.values[c];
      let m = this.filled[c];
      const firstRow = (this.sy - (y0 % this.sy)) % this.sy;
      const firstCol = (this.sx - (x0 % this.sx)) % this.sx;
      for (let y = firstRow; y < height; y += this.sy) {
        for (let x = firstCol; x < width; x += this.sx) out[m++] = data[(y * width + x) * cn + c];
      }
      this.filled[c] = m;
    }
  }

  /** Each channel's normalisation, once windows covering the image were added. */
  result(): ChannelNormalization[] {
    return this.values.map((values, c) => {
      if (this.filled[c] !== values.length) {
        throw new InputError(`NormalizationStats: ${this.filled[c]} of ${values.length} sampled pixels were added`, 'ERR_SCSEG_SHAPE');
      }
      if (!(f32(this.hi[c] - this.lo[c]) > 0)) return { flat: true, p1: 0, p99: 0 };
      const [p1, p99] = percentilesOf(values, [1, 99]);
      return { flat: false, p1, p99 };
    });
  }
}

/**
 * `normalize_img`'s transform with a whole image's percentiles: per channel not flat, x → (x − p1) / (p99 − p1)
 * in float32 (no clipping), or zeros when p99 − p1 ≤ 1e-3. Returns a new image.
 */
export function applyNormalization(img: ChannelImage, norms: readonly ChannelNormalization[]): ChannelImage {
  checkImage(img, 'applyNormalization');
  if (norms.length !== img.channels) {
    throw new InputError(`applyNormalization: ${norms.length} channel normalisations for ${img.channels} channels`, 'ERR_SCSEG_SHAPE');
  }
  const cn = img.channels;
  const data = img.data;
  const out = new Float32Array(data.length);
  norms.forEach(({ flat, p1, p99 }, c) => {
    if (flat) {
      for (let i = c; i < out.length; i += cn) out[i] = data[i];
    } else if (p99 - p1 > 1e-3) {
      const low = f32(p1);
      const range = f32(p99 - p1);
      for (let i = c; i < out.length; i += cn) out[i] = f32(f32(data[i] - low) / range);
    }
    // else: zeros, as allocated
  });
  return { data: out, width: img.width, height: img.height, channels: cn };
}

/**
 * Cellpose's `normalize_img` with `CellposeModel.eval`'s defaults: per channel whose values are not all equal,
 * x → (x − p1) / (p99 − p1) with numpy's 1st and 99th percentiles (float32 arithmetic, no clipping) — or all zeros
 * when p99 − p1 ≤ 1e-3; an all-equal channel (e.g. the zero second channel of the nucleus model) is left as it is.
 * Images of more than 224³ pixels take their percentiles on every (H // 224)-th row and (W // 224)-th column, as
 * Cellpose does. Returns a new image.
 */
export function normalizeCellpose(img: ChannelImage): ChannelImage {
  checkImage(img, 'normalizeCellpose');
  const stats = new NormalizationStats(img.width, img.height, img.channels);
  stats.add(img, 0, 0);
  return applyNormalization(img, stats.result());
}

/** The range scPortrait's `normalize: false` scaling maps to [0, 1]: all planes' minimum and maximum. */
export interface MinMaxRange {
  readonly lo: number;
  readonly hi: number;
  /** float32 input (the scaling is computed in float32, else in float64). */
  readonly float: boolean;
}

/** The minimum and maximum of `planes` (finite), merged into `into` when given (a window of a larger image). */
export function minMaxRange(planes: readonly Image2D<PixelArray>[], into?: MinMaxRange): MinMaxRange {
  if (planes.length < 1) throw new InputError('minMaxScale: no planes', 'ERR_SCSEG_SHAPE');
  let lo = into?.lo ?? Infinity;
  let hi = into?.hi ?? -Infinity;
  for (const [k, p] of planes.entries()) {
    checkSize(p.width, p.height, `minMaxScale: plane ${k}`);
    if (p.data.length !== p.width * p.height) {
      throw new InputError(`minMaxScale: plane ${k} has ${p.data.length} values for ${p.width}×${p.height}`, 'ERR_SCSEG_SHAPE');
    }
    checkFinite(p.data, `minMaxScale: plane ${k}`);
    for (let i = 0; i < p.data.length; i++) {
      const v = p.data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return { lo, hi, float: planes[0].data instanceof Float32Array };
}

/** `planes` scaled by a whole image's `range` (see minMaxScale). Returns new float32 planes. */
export function scaleMinMax(planes: readonly Image2D<PixelArray>[], range: MinMaxRange): Image2D<Float32Array>[] {
  const { lo, float } = range;
  const spread = float ? f32(range.hi - lo) : range.hi - lo;
  return planes.map((p) => {
    const out = new Float32Array(p.data.length);
    if (spread > 0) {
      for (let i = 0; i < out.length; i++) out[i] = float ? f32(f32(p.data[i] - lo) / spread) : (p.data[i] - lo) / spread;
    }
    return { data: out, width: p.width, height: p.height };
  });
}

/**
 * scPortrait's scaling for `normalize: false` (its Cellpose workflows, before `model.eval`): the whole input — all
 * planes together — to [0, 1] by its global minimum and maximum, `(x − min) / (max − min)`. numpy computes that in
 * float64 for integer images (uint8/uint16 → true division) and in float32 for float32 images; Cellpose then casts
 * to float32: so do we. A constant input (max = min) gives NaN in scPortrait; here it gives zeros (a blank image).
 * Returns new float32 planes.
 */
export function minMaxScale(planes: readonly Image2D<PixelArray>[]): Image2D<Float32Array>[] {
  return scaleMinMax(planes, minMaxRange(planes));
}

/** The size `transforms.resize_image(img, rsz=rescale)` resizes an H×W image to: int(H·rescale) × int(W·rescale). */
export function rescaledSize(height: number, width: number, rescale: number): { height: number; width: number } {
  if (!(rescale > 0) || !Number.isFinite(rescale)) {
    throw new InputError(`rescale must be a positive finite number, got ${rescale}`, 'ERR_SCSEG_ARGUMENT');
  }
  return { height: Math.trunc(height * rescale), width: Math.trunc(width * rescale) };
}

/**
 * One axis of OpenCV's INTER_LINEAR table: source index and float weights of the two taps per output index.
 * Columns outside the source are clamped with weights (1, 0) (`clamp`); rows are not: OpenCV keeps their weights
 * and reads the nearest row for both taps.
 */
function linearTable(srcLen: number, dstLen: number, clamp: boolean): { ofs: Int32Array; w0: Float32Array; w1: Float32Array } {
  const scale = 1 / (dstLen / srcLen); // OpenCV: inv_scale = dst/src, scale = 1/inv_scale (double)
  const ofs = new Int32Array(dstLen);
  const w0 = new Float32Array(dstLen);
  const w1 = new Float32Array(dstLen);
  for (let d = 0; d < dstLen; d++) {
    let fx = f32((d + 0.5) * scale - 0.5);
    let sx = Math.floor(fx);
    fx = f32(fx - sx);
    if (clamp && sx < 0) {
      fx = 0;
      sx = 0;
    }
    if (clamp && sx + 1 >= srcLen) {
      fx = 0;
      sx = srcLen - 1;
    }
    ofs[d] = sx;
    w0[d] = f32(1 - fx);
    w1[d] = fx;
  }
  return { ofs, w0, w1 };
}

/** A rectangle of pixels of a whole image, in that image's coordinates. */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A width × height size. */
export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * cv2.resize(img, (width, height), interpolation=INTER_LINEAR) on a float32 image of any channel count, as
 * OpenCV 4.x computes it: source coordinate (d + 0.5)·(src/dst) − 0.5 rounded to float, weights 1 − f and f in
 * float, the horizontal pass then the vertical pass in float32 (edges as OpenCV: columns clamped, the rows beyond
 * the image read as the edge row with the weights kept); an exact 2× reduction on both axes
 * takes OpenCV's INTER_AREA fast path (((a + b) + c) + d) · 0.25 instead, as cv2 does. Same size → a copy.
 */
export function resizeLinear(img: ChannelImage, height: number, width: number): ChannelImage {
  checkImage(img, 'resizeLinear');
  checkSize(width, height, 'resizeLinear: the target size');
  return resizeLinearRegion(img, { x: 0, y: 0 }, img, { width, height }, { x: 0, y: 0, width, height });
}

/**
 * The pixels `region` of resizeLinear(whole source, dst) computed from `img`, the window of the source whose top-left
 * pixel is `origin`: the same bits as the whole resize wherever the taps fall inside the window (a tap beyond a cut
 * side reads the window's edge pixel instead — callers keep such pixels in their margins).
 */
export function resizeLinearRegion(img: ChannelImage, origin: { x: number; y: number }, src: Size, dst: Size, region: Region): ChannelImage {
  checkImage(img, 'resizeLinearRegion');
  checkSize(src.width, src.height, 'resizeLinearRegion: the source size');
  checkSize(dst.width, dst.height, 'resizeLinearRegion: the target size');
  checkSize(region.width, region.height, 'resizeLinearRegion: the region');
  const { channels: cn, width: lw, height: lh, data } = img;
  const { width, height } = region;
  const out = new Float32Array(width * height * cn);
  const col = (sx: number) => Math.min(Math.max(sx - origin.x, 0), lw - 1);
  const row = (sy: number) => Math.min(Math.max(sy - origin.y, 0), lh - 1);
  if (dst.width === src.width && dst.height === src.height) {
    for (let y = 0; y < height; y++) {
      const r = row(region.y + y) * lw;
      for (let x = 0; x < width; x++) {
        const from = (r + col(region.x + x)) * cn;
        out.set(data.subarray(from, from + cn), (y * width + x) * cn);
      }
    }
    return { data: out, width, height, channels: cn };
  }
  const scaleX = 1 / (dst.width / src.width);
  const scaleY = 1 / (dst.height / src.height);
  if (scaleX === 2 && scaleY === 2) {
    for (let y = 0; y < height; y++) {
      const r0 = row(2 * (region.y + y)) * lw;
      const r1 = row(2 * (region.y + y) + 1) * lw;
      for (let x = 0; x < width; x++) {
        const c0 = col(2 * (region.x + x));
        const c1 = col(2 * (region.x + x) + 1);
        for (let c = 0; c < cn; c++) {
          const s = f32(f32(f32(data[(r0 + c0) * cn + c] + data[(r0 + c1) * cn + c]) + data[(r1 + c0) * cn + c]) + data[(r1 + c1) * cn + c]);
          out[(y * width + x) * cn + c] = f32(s * 0.25);
        }
      }
    }
    return { data: out, width, height, channels: cn };
  }
  const tx = linearTable(src.width, dst.width, true);
  const ty = linearTable(src.height, dst.height, false);
  // the region's columns: window-local taps (the second tap of the last source column is the first, as OpenCV)
  const c0 = new Int32Array(width);
  const c1 = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    const sx = tx.ofs[region.x + x];
    c0[x] = col(sx);
    c1[x] = sx + 1 < src.width ? col(sx + 1) : c0[x];
  }
  // horizontal pass of every window row a vertical tap needs (computed once per row)
  const rowLen = width * cn;
  const rows = new Map<number, Float32Array>();
  const hrow = (sy: number): Float32Array => {
    const ly = row(Math.min(Math.max(sy, 0), src.height - 1));
    let r = rows.get(ly);
    if (r) return r;
    r = new Float32Array(rowLen);
    const base = ly * lw * cn;
    for (let x = 0; x < width; x++) {
      const s0 = base + c0[x] * cn;
      const s1 = base + c1[x] * cn;
      const a0 = tx.w0[region.x + x];
      const a1 = tx.w1[region.x + x];
      for (let c = 0; c < cn; c++) r[x * cn + c] = f32(f32(data[s0 + c] * a0) + f32(data[s1 + c] * a1));
    }
    rows.set(ly, r);
    return r;
  };
  for (let y = 0; y < height; y++) {
    const sy = ty.ofs[region.y + y];
    const row0 = hrow(sy);
    const row1 = hrow(sy + 1);
    const b0 = ty.w0[region.y + y];
    const b1 = ty.w1[region.y + y];
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) out[o + i] = f32(f32(row0[i] * b0) + f32(row1[i] * b1));
    // rows above this one's first tap are not read again (taps only move down)
    for (const key of rows.keys()) if (key < row(Math.min(Math.max(sy, 0), src.height - 1))) rows.delete(key);
  }
  return { data: out, width, height, channels: cn };
}

/**
 * The region of a resize's output (src → dst, whole sizes) that a source window can give: the output pixels whose
 * source coordinate lies in the window, widened by one pixel (their values near cut sides are approximate).
 */
export function resizedRegion(window: Region, src: Size, dst: Size): Region {
  const axis = (from: number, len: number, s: number, d: number): [number, number] => {
    const lo = Math.max(0, Math.floor((from * d) / s) - 1);
    const hi = Math.min(d, Math.ceil(((from + len) * d) / s) + 1);
    return [lo, hi];
  };
  const [x0, x1] = axis(window.x, window.width, src.width, dst.width);
  const [y0, y1] = axis(window.y, window.height, src.height, dst.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Padding of `get_pad_yx(Ly, Lx)` (div 16, extra 1): up to a multiple of 16, split low/high, plus 8 each side. */
export interface Padding {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

export function padding(height: number, width: number): Padding {
  checkSize(width, height, 'padding');
  const split = (len: number): [number, number] => {
    const pad = 16 * Math.ceil(len / 16) - len;
    return [8 + Math.floor(pad / 2), 8 + pad - Math.floor(pad / 2)];
  };
  const [top, bottom] = split(height);
  const [left, right] = split(width);
  return { top, bottom, left, right };
}

/** The image with zero `pad` around it (np.pad mode constant). */
export function padImage(img: ChannelImage, pad: Padding): ChannelImage {
  checkImage(img, 'padImage');
  const width = img.width + pad.left + pad.right;
  const height = img.height + pad.top + pad.bottom;
  const cn = img.channels;
  const out = new Float32Array(width * height * cn);
  for (let y = 0; y < img.height; y++) {
    const from = y * img.width * cn;
    out.set(img.data.subarray(from, from + img.width * cn), ((y + pad.top) * width + pad.left) * cn);
  }
  return { data: out, width, height, channels: cn };
}

/** The window of an image: rows y..y+height-1, columns x..x+width-1 (the crop back after padding / tiling). */
export function cropChannels(img: ChannelImage, y: number, x: number, height: number, width: number): ChannelImage {
  checkImage(img, 'cropChannels');
  if (y < 0 || x < 0 || height < 1 || width < 1 || y + height > img.height || x + width > img.width) {
    throw new InputError(`cropChannels: window ${x},${y} ${width}×${height} is outside the ${img.width}×${img.height} image`, 'ERR_SCSEG_SHAPE');
  }
  const cn = img.channels;
  const out = new Float32Array(width * height * cn);
  for (let r = 0; r < height; r++) {
    const from = ((y + r) * img.width + x) * cn;
    out.set(img.data.subarray(from, from + width * cn), r * width * cn);
  }
  return { data: out, width, height, channels: cn };
}

/**
 * The tiles `make_tiles(bsize, augment=False, tile_overlap)` cuts an H×W image into, row-major (y outer, x inner):
 * tiles of min(bsize, H) × min(bsize, W); per axis 1 tile when the image fits, else ceil((1 + 2·overlap)·L / bsize)
 * tiles at int(linspace(0, L − tile, n)). `ysub[k]`/`xsub[k]`: [start, end) of tile k.
 */
export interface TileGrid {
  readonly height: number;
  readonly width: number;
  readonly tileHeight: number;
  readonly tileWidth: number;
  readonly ny: number;
  readonly nx: number;
  readonly ysub: readonly (readonly [number, number])[];
  readonly xsub: readonly (readonly [number, number])[];
}

export const TILE_SIZE = 224;
export const TILE_OVERLAP = 0.1;

export function tileGrid(height: number, width: number, bsize = TILE_SIZE, tileOverlap = TILE_OVERLAP): TileGrid {
  checkSize(width, height, 'tileGrid');
  if (!Number.isInteger(bsize) || bsize < 1) throw new InputError(`tileGrid: bsize must be a positive integer, got ${bsize}`, 'ERR_SCSEG_ARGUMENT');
  if (!Number.isFinite(tileOverlap)) throw new InputError(`tileGrid: tileOverlap must be finite, got ${tileOverlap}`, 'ERR_SCSEG_ARGUMENT');
  const overlap = Math.min(0.5, Math.max(0.05, tileOverlap));
  const axis = (len: number): { tile: number; starts: number[] } => {
    const tile = Math.min(bsize, len);
    const n = len <= bsize ? 1 : Math.ceil(((1 + 2 * overlap) * len) / bsize);
    const delta = len - tile;
    const step = n > 1 ? delta / (n - 1) : 0;
    const starts = Array.from({ length: n }, (_, i) => (i === n - 1 && n > 1 ? delta : Math.trunc(step === 0 ? 0 : i * step)));
    return { tile, starts };
  };
  const ay = axis(height);
  const ax = axis(width);
  const ysub: [number, number][] = [];
  const xsub: [number, number][] = [];
  for (const y0 of ay.starts) {
    for (const x0 of ax.starts) {
      ysub.push([y0, y0 + ay.tile]);
      xsub.push([x0, x0 + ax.tile]);
    }
  }
  return { height, width, tileHeight: ay.tile, tileWidth: ax.tile, ny: ay.starts.length, nx: ax.starts.length, ysub, xsub };
}

/** The grid's tiles of `img`, channels-first: Float32Array [tiles, C, tileHeight, tileWidth] (the network's batch). */
export function cutTiles(img: ChannelImage, grid: TileGrid): Float32Array {
  checkImage(img, 'cutTiles');
  if (img.width !== grid.width || img.height !== grid.height) {
    throw new InputError(`cutTiles: the grid is for ${grid.width}×${grid.height}, the image is ${img.width}×${img.height}`, 'ERR_SCSEG_SHAPE');
  }
  const { tileHeight: th, tileWidth: tw } = grid;
  const cn = img.channels;
  const out = new Float32Array(grid.ysub.length * cn * th * tw);
  for (let k = 0; k < grid.ysub.length; k++) {
    const y0 = grid.ysub[k][0];
    const x0 = grid.xsub[k][0];
    for (let c = 0; c < cn; c++) {
      const plane = (k * cn + c) * th * tw;
      for (let y = 0; y < th; y++) {
        const row = ((y0 + y) * img.width + x0) * cn + c;
        for (let x = 0; x < tw; x++) out[plane + y * tw + x] = img.data[row + x * cn];
      }
    }
  }
  return out;
}

// exp rounded correctly to double (as glibc's exp, which numpy calls): V8's Math.exp is off by one ulp on some of
// the taper's arguments. Double-double arithmetic: x = k·ln2 + r, e^r by its Taylor series to ~1e-32.
type DD = [number, number];
function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}
function split(a: number): DD {
  const c = 134217729 * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}
function twoProd(a: number, b: number): DD {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}
function ddNorm(h: number, l: number): DD {
  const s = h + l;
  return [s, l - (s - h)];
}
function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  return ddNorm(s, e + a[1] + b[1]);
}
function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return ddNorm(p, e + a[0] * b[1] + a[1] * b[0]);
}
function ddDiv(a: DD, n: number): DD {
  const q = a[0] / n;
  const [p, e] = twoProd(q, n);
  return ddNorm(q, (a[0] - p - e + a[1]) / n);
}
const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];
export function expCorrectlyRounded(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) > 700) return Math.exp(x);
  const k = Math.round(x / LN2[0]);
  const r = ddAdd([x, 0], ddMul([-k, 0], LN2));
  let sum: DD = [1, 0];
  let term: DD = [1, 0];
  for (let n = 1; n < 40 && Math.abs(term[0]) > 1e-40; n++) {
    term = ddDiv(ddMul(term, r), n);
    sum = ddAdd(sum, term);
  }
  return (sum[0] + sum[1]) * 2 ** k;
}

/**
 * `_taper_mask(ly, lx, sig=7.5)` in float64: the outer product of 1 / (1 + exp((|i − (B−1)/2| − (B/2 − 20)) / 7.5))
 * over B = max(224, ly, lx) positions, its centre ly × lx cut out. Row-major Float64Array [ly, lx].
 */
export function taperMask(ly: number, lx: number): Float64Array {
  checkSize(lx, ly, 'taperMask');
  const b = Math.max(224, ly, lx);
  const mean = (b - 1) / 2;
  const m = new Float64Array(b);
  for (let i = 0; i < b; i++) m[i] = 1 / (1 + expCorrectlyRounded((Math.abs(i - mean) - (b / 2 - 20)) / 7.5));
  const y0 = Math.floor(b / 2) - Math.floor(ly / 2);
  const x0 = Math.floor(b / 2) - Math.floor(lx / 2);
  const out = new Float64Array(ly * lx);
  for (let y = 0; y < ly; y++) for (let x = 0; x < lx; x++) out[y * lx + x] = m[x0 + x] * m[y0 + y];
  return out;
}

/**
 * `average_tiles`: the per-tile network outputs `y` (channels-first [tiles, nout, tileHeight, tileWidth]) blended
 * over the grid's image with the taper mask — each tile's y·mask (float64) added into a float32 sum, divided by the
 * summed mask (float64). Returns channels-first Float32Array [nout, height, width].
 */
export function averageTiles(y: Float32Array, nout: number, grid: TileGrid): Float32Array {
  const { tileHeight: th, tileWidth: tw, height, width } = grid;
  const ntiles = grid.ysub.length;
  if (!Number.isInteger(nout) || nout < 1 || y.length !== ntiles * nout * th * tw) {
    throw new InputError(`averageTiles: ${y.length} values for ${ntiles} tiles of ${nout}×${th}×${tw}`, 'ERR_SCSEG_SHAPE');
  }
  const origins = Int32Array.from(grid.ysub.flatMap((ys, k) => [ys[0], grid.xsub[k][0]]));
  return blendTiles({ y, origins, mask: taperMask(th, tw), channels: nout, tileHeight: th, tileWidth: tw }, { width, height });
}

/**
 * `average_tiles` in JavaScript with Kernels#cellposeBlendTiles' contract (the kernel's reference): each tile's
 * outputs times the taper mask added into a float32 sum in tile order, the mask into a float64 sum, then the quotient;
 * tile pixels outside the region are skipped. Returns channels-first Float32Array [channels, height, width].
 */
export function blendTiles(t: TileBlend, region: Size): Float32Array {
  const { y, origins, mask, channels: nout, tileHeight: th, tileWidth: tw } = t;
  const { width, height } = region;
  const sum = new Float32Array(nout * height * width);
  const navg = new Float64Array(height * width);
  for (let k = 0; k < origins.length / 2; k++) {
    addTile(sum, navg, y, k * nout * th * tw, mask, nout, th, tw, width, height, origins[2 * k], origins[2 * k + 1]);
  }
  const hw = height * width;
  for (let c = 0; c < nout; c++) {
    const o = c * hw;
    for (let i = 0; i < hw; i++) sum[o + i] = sum[o + i] / navg[i];
  }
  return sum;
}

/** What the network returns for a batch of n tiles: outputs [n, nout, h, w] and, optionally, styles [n, S]. */
export interface TileOutputs {
  output: Float32Array;
  style?: Float32Array;
}

/** The network as `runTiled` calls it: a batch of tiles [n, 2, h, w] → its outputs (float32). */
export type TileNetwork = (tiles: Float32Array, count: number, height: number, width: number) =>
  Promise<Float32Array | TileOutputs> | Float32Array | TileOutputs;

/** `runTiled`'s result: the outputs channels-last [H, W, nout], and the image's style when the network gave styles. */
export interface TiledOutputs extends ChannelImage {
  /** `run_net`'s style: the tiles' styles summed (float32, tile order) and L2-normalised; null without styles. */
  readonly style: Float32Array | null;
}

export const STYLE_LENGTH = 256;

/** numpy's float32 pairwise sum of a[from..from+n) (8 accumulators per block of ≤ 128, halves above). */
function pairwiseSum(a: Float32Array, from: number, n: number): number {
  if (n < 8) {
    let r = 0;
    for (let i = 0; i < n; i++) r = f32(r + a[from + i]);
    return r;
  }
  if (n <= 128) {
    const r = Array.from(a.subarray(from, from + 8));
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f32(r[j] + a[from + i + j]);
    let res = f32(f32(f32(r[0] + r[1]) + f32(r[2] + r[3])) + f32(f32(r[4] + r[5]) + f32(r[6] + r[7])));
    for (; i < n; i++) res = f32(res + a[from + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f32(pairwiseSum(a, from, n2) + pairwiseSum(a, from + n2, n - n2));
}

/**
 * `run_net`'s style of an image from its tiles' styles ([tiles, S]; S = 256 for Cellpose's networks): summed in
 * float32 in tile order, divided by its L2 norm (float32, numpy's summation order). An all-zero sum — Cellpose
 * divides 0 by 0 and gets NaN — gives zeros here.
 */
export function imageStyle(styles: Float32Array, tiles: number): Float32Array {
  const length = styles.length / tiles;
  if (!Number.isInteger(tiles) || tiles < 1 || !Number.isInteger(length) || length < 1) {
    throw new InputError(`imageStyle: ${styles.length} values are not ${tiles} tiles' styles`, 'ERR_SCSEG_SHAPE');
  }
  const sum = Float32Array.from(styles.subarray(0, length));
  for (let k = 1; k < tiles; k++) for (let j = 0; j < length; j++) sum[j] = sum[j] + styles[k * length + j];
  const sq = Float32Array.from(sum, (v) => v * v);
  // numpy's reduction starts from the first element and adds the pairwise sum of the rest
  const norm = f32(Math.sqrt(f32(sq[0] + pairwiseSum(sq, 1, length - 1))));
  if (!(norm > 0)) return new Float32Array(length);
  for (let j = 0; j < length; j++) sum[j] = sum[j] / norm;
  return sum;
}

export interface RunTiledOptions {
  /** Cellpose's rescale (diam_mean / diameter); 1 = no resizing. */
  rescale?: number;
  /** Resize the outputs back to the input's size (Cellpose's `resample`, default true). */
  resample?: boolean;
  /** Network outputs per pixel (3: dY, dX, cell probability). */
  nout?: number;
  /** Tiles per network call (Cellpose: batch_size 8). */
  batchSize?: number;
  /** Checked before each network call: a stop lands between calls, never inside ONNX Runtime. */
  signal?: AbortSignal;
  bsize?: number;
  tileOverlap?: number;
  /** average_tiles (Kernels#cellposeBlendTiles, bit for bit the same); default: blendTiles, in JavaScript. */
  blend?: (tiles: TileBlend, region: Size) => Float32Array;
}

/**
 * `core.run_net` (2-D, no augment) followed by `_run_net`'s resample step: the normalised image resized by `rescale`
 * (when ≠ 1), padded, cut into tiles, run through `network` in batches, blended, cropped back, and — with `resample`
 * and rescale ≠ 1 — resized back to the input's size. Returns the outputs channels-last [H, W, nout], as Cellpose's
 * `yf` (channel 0 dY, 1 dX, 2 cell probability for Cellpose's networks), and the image's style (`imageStyle`).
 */
export async function runTiled(img: ChannelImage, network: TileNetwork, options: RunTiledOptions = {}): Promise<TiledOutputs> {
  checkImage(img, 'runTiled');
  const rescale = options.rescale ?? 1;
  const size = rescale !== 1 ? rescaledSize(img.height, img.width, rescale) : { height: img.height, width: img.width };
  if (size.height < 1 || size.width < 1) {
    throw new InputError(`runTiled: rescale ${rescale} leaves no pixels of the ${img.width}×${img.height} image`, 'ERR_SCSEG_ARGUMENT');
  }
  const resized = rescale !== 1 ? resizeLinear(img, size.height, size.width) : img;
  const y = await runTiledRegion(resized, { x: 0, y: 0, width: resized.width, height: resized.height }, resized, network, options);
  const outputs = interleave(y);
  return { ...((options.resample ?? true) && rescale !== 1 ? resizeLinear(outputs, img.height, img.width) : outputs), style: y.style };
}

/** Channels-first planes [C, H, W] → a channels-last image. */
function interleave({ planes, width, height, channels }: TiledPlanes): ChannelImage {
  const hw = width * height;
  const data = new Float32Array(hw * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < hw; i++) data[i * channels + c] = planes[c * hw + i];
  return { data, width, height, channels };
}

/**
 * One tile of a region's image, channels-first into `out` at `from` (zeros where the tile, its top-left corner at
 * (tx0, ty0) of the region, lies outside it).
 */
function cutTile(img: ChannelImage, out: Float32Array, from: number, th: number, tw: number, ty0: number, tx0: number): void {
  const { data, width, height, channels: cn } = img;
  const xa = Math.max(0, -tx0);
  const xb = Math.min(tw, width - tx0);
  const ra = Math.max(0, -ty0);
  const rb = Math.min(th, height - ty0);
  for (let c = 0; c < cn; c++) {
    const plane = from + c * th * tw;
    for (let r = ra; r < rb; r++) {
      const src = ((ty0 + r) * width + tx0) * cn + c;
      const dst = plane + r * tw;
      for (let x = xa; x < xb; x++) out[dst + x] = data[src + x * cn];
    }
  }
}

/**
 * One tile's share of `average_tiles` over a region: its outputs (channels-first, at `from` in `y`) times the taper
 * mask added into the float32 `sum` ([nout, height, width]) and the mask into the float64 `navg`, for the tile's
 * pixels inside the region (the tile's top-left corner at (tx0, ty0) of the region, possibly outside it).
 */
function addTile(
  sum: Float32Array, navg: Float64Array, y: Float32Array, from: number, mask: Float64Array,
  nout: number, th: number, tw: number, width: number, height: number, ty0: number, tx0: number,
): void {
  const xa = Math.max(0, -tx0);
  const xb = Math.min(tw, width - tx0);
  const ra = Math.max(0, -ty0);
  const rb = Math.min(th, height - ty0);
  const plane = height * width;
  for (let c = 0; c < nout; c++) {
    const tile = from + c * th * tw;
    for (let r = ra; r < rb; r++) {
      const row = c * plane + (ty0 + r) * width + tx0;
      const src = tile + r * tw;
      const m = r * tw;
      for (let x = xa; x < xb; x++) sum[row + x] += y[src + x] * mask[m + x];
    }
  }
  for (let r = ra; r < rb; r++) {
    const row = (ty0 + r) * width + tx0;
    const m = r * tw;
    for (let x = xa; x < xb; x++) navg[row + x] += mask[m + x];
  }
}

/** The network's outputs over a region, channels-first (the dynamics' layout: dY plane, dX plane, cellprob plane). */
export interface TiledPlanes {
  /** [channels, height, width], row-major. */
  readonly planes: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** `run_net`'s style of the tiles run (see imageStyle); null when the network gave none. */
  readonly style: Float32Array | null;
}

/**
 * Each plane of `planes` ([C, H, W] over `srcRegion` of a `src`-sized image) resized as resizeLinearRegion does
 * (OpenCV treats channels independently): the planes of `region` of the `dst`-sized resize.
 */
export function resizePlanesRegion(planes: TiledPlanes, srcRegion: Region, src: Size, dst: Size, region: Region): TiledPlanes {
  const hw = planes.width * planes.height;
  const out = new Float32Array(planes.channels * region.width * region.height);
  for (let c = 0; c < planes.channels; c++) {
    const plane = { data: planes.planes.subarray(c * hw, (c + 1) * hw), width: planes.width, height: planes.height, channels: 1 };
    out.set(resizeLinearRegion(plane, srcRegion, src, dst, region).data, c * region.width * region.height);
  }
  return { planes: out, width: region.width, height: region.height, channels: planes.channels, style: planes.style };
}

/**
 * `run_net`'s outputs (channels-first) over `region` of a whole (already resized) image of size `whole`, from `img`, that region's
 * pixels: the tiles of the whole image's grid (padding and tile positions depend only on `whole`) that meet the
 * region are cut — zeros beyond the image, as Cellpose pads, and beyond the region — run in batches in grid order,
 * and blended in grid order, so a pixel whose tiles all lie within the region (or the padding) gets exactly the
 * whole-image run's bits. On the whole image this is `run_net`. The style sums the tiles run.
 */
export async function runTiledRegion(
  img: ChannelImage,
  region: Region,
  whole: Size,
  network: TileNetwork,
  options: Omit<RunTiledOptions, 'rescale' | 'resample'> = {},
): Promise<TiledPlanes> {
  checkImage(img, 'runTiledRegion');
  if (img.width !== region.width || img.height !== region.height || region.x < 0 || region.y < 0 ||
      region.x + region.width > whole.width || region.y + region.height > whole.height) {
    throw new InputError(
      `runTiledRegion: a ${img.width}×${img.height} image for region ${region.x},${region.y} ${region.width}×${region.height} ` +
        `of a ${whole.width}×${whole.height} image`, 'ERR_SCSEG_SHAPE');
  }
  const nout = options.nout ?? 3;
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`runTiled: batchSize must be a positive integer, got ${batchSize}`, 'ERR_SCSEG_ARGUMENT');
  const pad = padding(whole.height, whole.width);
  const grid = tileGrid(whole.height + pad.top + pad.bottom, whole.width + pad.left + pad.right, options.bsize ?? TILE_SIZE, options.tileOverlap ?? TILE_OVERLAP);
  const { tileHeight: th, tileWidth: tw } = grid;
  // the region in the padded image's coordinates, and the tiles meeting it (grid order)
  const ry = region.y + pad.top;
  const rx = region.x + pad.left;
  const tiles: number[] = [];
  for (let k = 0; k < grid.ysub.length; k++) {
    const [y0, y1] = grid.ysub[k];
    const [x0, x1] = grid.xsub[k];
    if (y0 < ry + region.height && y1 > ry && x0 < rx + region.width && x1 > rx) tiles.push(k);
  }
  const cn = img.channels;
  const inPer = cn * th * tw;
  const outPer = nout * th * tw;
  const mask = taperMask(th, tw);
  const { width, height } = region;
  // the outputs of every tile, blended in one call at the end
  const kept = new Float32Array(tiles.length * outPer);
  let styles: Float32Array | null = null;
  let styleLength: number | undefined;
  for (let b = 0; b < tiles.length; b += batchSize) {
    if (options.signal) {
      await nextTurn(); // lets a stop request (a message, a signal handler) in
      options.signal.throwIfAborted();
    }
    const batch = tiles.slice(b, b + batchSize);
    const input = new Float32Array(batch.length * inPer);
    for (let t = 0; t < batch.length; t++) {
      const k = batch[t];
      cutTile(img, input, t * inPer, th, tw, grid.ysub[k][0] - ry, grid.xsub[k][0] - rx);
    }
    const result = await network(input, batch.length, th, tw);
    const out = result instanceof Float32Array ? result : result.output;
    if (out.length !== batch.length * outPer) {
      throw new InputError(`runTiled: the network returned ${out.length} values for ${batch.length} tiles of ${nout}×${th}×${tw}`, 'ERR_SCSEG_SHAPE');
    }
    kept.set(out, b * outPer);
    const style = result instanceof Float32Array ? undefined : result.style;
    if (style) {
      styleLength ??= style.length / batch.length;
      if (style.length !== batch.length * styleLength || !Number.isInteger(styleLength) || styleLength < 1) {
        throw new InputError(`runTiled: the network returned ${style.length} style values for ${batch.length} tiles`, 'ERR_SCSEG_SHAPE');
      }
      styles ??= new Float32Array(tiles.length * styleLength);
      styles.set(style, b * styleLength);
    }
  }
  const origins = new Int32Array(2 * tiles.length);
  tiles.forEach((k, t) => {
    origins[2 * t] = grid.ysub[k][0] - ry;
    origins[2 * t + 1] = grid.xsub[k][0] - rx;
  });
  const planes = (options.blend ?? blendTiles)({ y: kept, origins, mask, channels: nout, tileHeight: th, tileWidth: tw }, { width, height });
  return { planes, width, height, channels: nout, style: styles ? imageStyle(styles, tiles.length) : null };
}
