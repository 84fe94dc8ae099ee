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

function checkFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      throw new InputError(`${what} contains NaN or ±Infinity (at index ${i}); Cellpose's input must be finite`, 'ERR_SCSEG_VALUE');
    }
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
 * Puts the k-th smallest key of a[lo, hi) at a[k], smaller-or-equal keys before it and greater-or-equal after
 * (quickselect, three-way partitions around pseudo-random pivots: linear on average, duplicates in one pass).
 */
function selectKey(a: Int32Array, lo: number, hi: number, k: number): void {
  if (k === lo) {
    // the smallest (the rank after one just selected): one scan
    let m = lo;
    for (let i = lo + 1; i < hi; i++) if (a[i] < a[m]) m = i;
    const v = a[m];
    a[m] = a[lo];
    a[lo] = v;
    return;
  }
  let seed = 0x9e3779b9;
  while (hi - lo > 1) {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    const pivot = a[lo + ((seed >>> 0) % (hi - lo))];
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i < gt) {
      const v = a[i];
      if (v < pivot) {
        a[i++] = a[lt];
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[--gt];
        a[gt] = v;
      } else i++;
    }
    // [lo, lt) < pivot, [lt, gt) = pivot, [gt, hi) > pivot
    if (k < lt) hi = lt;
    else if (k >= gt) lo = gt;
    else return;
  }
}

/**
 * numpyPercentile(sorted(values), q) for each q (ascending), without sorting: the ranks it reads are selected
 * (the values at a rank are the same whatever the algorithm). `values` (finite) is reordered.
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
  // the ranks in ascending order, each selected among the keys above the last (keys[0, lo) are the lo smallest)
  const ranks = [...new Set(qs.flatMap((q) => { const r = percentileRanks(n, q); return [r.prev, r.next]; }))].sort((x, y) => x - y);
  const at = new Map<number, number>();
  let lo = 0;
  for (const r of ranks) {
    selectKey(keys, lo, n, r);
    at.set(r, valueOf(keys[r]));
    lo = r + 1;
  }
  return qs.map((q) => {
    const { prev, next, gamma } = percentileRanks(n, q);
    return percentileLerp(at.get(prev)!, at.get(next)!, gamma);
  });
}

/** Pixels above which `normalize99(downsample=True)` takes its percentiles on a strided subsample (224³). */
const DOWNSAMPLE_ABOVE = 224 ** 3;

/**
 * Cellpose's `normalize_img` with `CellposeModel.eval`'s defaults: per channel whose values are not all equal,
 * x → (x − p1) / (p99 − p1) with numpy's 1st and 99th percentiles (float32 arithmetic, no clipping) — or all zeros
 * when p99 − p1 ≤ 1e-3; an all-equal channel (e.g. the zero second channel of the nucleus model) is left as it is.
 * Images of more than 224³ pixels take their percentiles on every (H // 224)-th row and (W // 224)-th column, as
 * Cellpose does. Returns a new image.
 */
export function normalizeCellpose(img: ChannelImage): ChannelImage {
  checkImage(img, 'normalizeCellpose');
  checkFinite(img.data, 'normalizeCellpose: the image');
  const { width, height, channels } = img;
  const out = Float32Array.from(img.data);
  const n = width * height;
  const sub = n > DOWNSAMPLE_ABOVE;
  const sy = sub ? Math.max(1, Math.floor(height / 224)) : 1;
  const sx = sub ? Math.max(1, Math.floor(width / 224)) : 1;
  const values = new Float32Array(Math.ceil(height / sy) * Math.ceil(width / sx));
  for (let c = 0; c < channels; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = c; i < out.length; i += channels) {
      const v = out[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(f32(hi - lo) > 0)) continue; // np.ptp(channel) == 0: left unnormalised
    let m = 0;
    for (let y = 0; y < height; y += sy) {
      for (let x = 0; x < width; x += sx) values[m++] = out[(y * width + x) * channels + c];
    }
    const [p1, p99] = percentilesOf(values.subarray(0, m), [1, 99]);
    if (p99 - p1 > 1e-3) {
      const low = f32(p1);
      const range = f32(p99 - p1);
      for (let i = c; i < out.length; i += channels) out[i] = f32(f32(out[i] - low) / range);
    } else {
      for (let i = c; i < out.length; i += channels) out[i] = 0;
    }
  }
  return { data: out, width, height, channels };
}

/**
 * scPortrait's scaling for `normalize: false` (its Cellpose workflows, before `model.eval`): the whole input — all
 * planes together — to [0, 1] by its global minimum and maximum, `(x − min) / (max − min)`. numpy computes that in
 * float64 for integer images (uint8/uint16 → true division) and in float32 for float32 images; Cellpose then casts
 * to float32: so do we. A constant input (max = min) gives NaN in scPortrait; here it gives zeros (a blank image).
 * Returns new float32 planes.
 */
export function minMaxScale(planes: readonly Image2D<PixelArray>[]): Image2D<Float32Array>[] {
  if (planes.length < 1) throw new InputError('minMaxScale: no planes', 'ERR_SCSEG_SHAPE');
  let lo = Infinity;
  let hi = -Infinity;
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
  const float = planes[0].data instanceof Float32Array;
  const range = float ? f32(hi - lo) : hi - lo;
  return planes.map((p) => {
    const out = new Float32Array(p.data.length);
    if (range > 0) {
      for (let i = 0; i < out.length; i++) out[i] = float ? f32(f32(p.data[i] - lo) / range) : (p.data[i] - lo) / range;
    }
    return { data: out, width: p.width, height: p.height };
  });
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
  const { channels: cn, width: sw, height: sh, data: src } = img;
  const out = new Float32Array(width * height * cn);
  if (width === sw && height === sh) {
    out.set(src);
    return { data: out, width, height, channels: cn };
  }
  const scaleX = 1 / (width / sw);
  const scaleY = 1 / (height / sh);
  if (scaleX === 2 && scaleY === 2) {
    const rowLen = sw * cn;
    for (let y = 0; y < height; y++) {
      const r0 = 2 * y * rowLen;
      const r1 = r0 + rowLen;
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < cn; c++) {
          const i = 2 * x * cn + c;
          const s = f32(f32(f32(src[r0 + i] + src[r0 + i + cn]) + src[r1 + i]) + src[r1 + i + cn]);
          out[(y * width + x) * cn + c] = f32(s * 0.25);
        }
      }
    }
    return { data: out, width, height, channels: cn };
  }
  const tx = linearTable(sw, width, true);
  const ty = linearTable(sh, height, false);
  // horizontal pass of every source row a vertical tap needs (computed once per source row)
  const rowLen = width * cn;
  const rows = new Map<number, Float32Array>();
  const hrow = (sy: number): Float32Array => {
    let r = rows.get(sy);
    if (r) return r;
    r = new Float32Array(rowLen);
    const base = sy * sw * cn;
    for (let x = 0; x < width; x++) {
      const s0 = base + tx.ofs[x] * cn;
      const s1 = tx.ofs[x] + 1 < sw ? s0 + cn : s0;
      const a0 = tx.w0[x];
      const a1 = tx.w1[x];
      for (let c = 0; c < cn; c++) r[x * cn + c] = f32(f32(src[s0 + c] * a0) + f32(src[s1 + c] * a1));
    }
    rows.set(sy, r);
    return r;
  };
  for (let y = 0; y < height; y++) {
    const sy = ty.ofs[y];
    const row0 = hrow(Math.min(Math.max(sy, 0), sh - 1));
    const row1 = hrow(Math.min(Math.max(sy + 1, 0), sh - 1));
    const b0 = ty.w0[y];
    const b1 = ty.w1[y];
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) out[o + i] = f32(f32(row0[i] * b0) + f32(row1[i] * b1));
    if (y > 0 && ty.ofs[y - 1] < sy) rows.delete(Math.max(ty.ofs[y - 1], 0));
  }
  return { data: out, width, height, channels: cn };
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
  const mask = taperMask(th, tw);
  const sum = new Float32Array(nout * height * width);
  const navg = new Float64Array(height * width);
  for (let k = 0; k < ntiles; k++) {
    const y0 = grid.ysub[k][0];
    const x0 = grid.xsub[k][0];
    for (let c = 0; c < nout; c++) {
      const t = (k * nout + c) * th * tw;
      const o = c * height * width;
      for (let r = 0; r < th; r++) {
        const row = o + (y0 + r) * width + x0;
        for (let x = 0; x < tw; x++) sum[row + x] = sum[row + x] + y[t + r * tw + x] * mask[r * tw + x];
      }
    }
    for (let r = 0; r < th; r++) {
      const row = (y0 + r) * width + x0;
      for (let x = 0; x < tw; x++) navg[row + x] += mask[r * tw + x];
    }
  }
  const hw = height * width;
  for (let c = 0; c < nout; c++) for (let i = 0; i < hw; i++) sum[c * hw + i] = sum[c * hw + i] / navg[i];
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
  bsize?: number;
  tileOverlap?: number;
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
  const nout = options.nout ?? 3;
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`runTiled: batchSize must be a positive integer, got ${batchSize}`, 'ERR_SCSEG_ARGUMENT');
  const size = rescale !== 1 ? rescaledSize(img.height, img.width, rescale) : { height: img.height, width: img.width };
  if (size.height < 1 || size.width < 1) {
    throw new InputError(`runTiled: rescale ${rescale} leaves no pixels of the ${img.width}×${img.height} image`, 'ERR_SCSEG_ARGUMENT');
  }
  const resized = rescale !== 1 ? resizeLinear(img, size.height, size.width) : img;
  const pad = padding(resized.height, resized.width);
  const padded = padImage(resized, pad);
  const grid = tileGrid(padded.height, padded.width, options.bsize ?? TILE_SIZE, options.tileOverlap ?? TILE_OVERLAP);
  const tiles = cutTiles(padded, grid);
  const ntiles = grid.ysub.length;
  const { tileHeight: th, tileWidth: tw } = grid;
  const inPer = img.channels * th * tw;
  const outPer = nout * th * tw;
  const y = new Float32Array(ntiles * outPer);
  let styles: Float32Array | null = null;
  let styleLength: number | undefined;
  for (let k = 0; k < ntiles; k += batchSize) {
    const count = Math.min(batchSize, ntiles - k);
    const result = await network(tiles.subarray(k * inPer, (k + count) * inPer), count, th, tw);
    const out = result instanceof Float32Array ? result : result.output;
    if (out.length !== count * outPer) {
      throw new InputError(`runTiled: the network returned ${out.length} values for ${count} tiles of ${nout}×${th}×${tw}`, 'ERR_SCSEG_SHAPE');
    }
    y.set(out, k * outPer);
    const style = result instanceof Float32Array ? undefined : result.style;
    if (style) {
      styleLength ??= style.length / count;
      if (style.length !== count * styleLength || !Number.isInteger(styleLength) || styleLength < 1) {
        throw new InputError(`runTiled: the network returned ${style.length} style values for ${count} tiles`, 'ERR_SCSEG_SHAPE');
      }
      styles ??= new Float32Array(ntiles * styleLength);
      styles.set(style, k * styleLength);
    }
  }
  const averaged = averageTiles(y, nout, grid);
  // crop the padding, channels-first → channels-last
  const h = resized.height;
  const w = resized.width;
  const yf = new Float32Array(h * w * nout);
  for (let c = 0; c < nout; c++) {
    const plane = c * padded.height * padded.width;
    for (let r = 0; r < h; r++) {
      const row = plane + (r + pad.top) * padded.width + pad.left;
      for (let x = 0; x < w; x++) yf[(r * w + x) * nout + c] = averaged[row + x];
    }
  }
  const outputs: ChannelImage = { data: yf, width: w, height: h, channels: nout };
  const style = styles ? imageStyle(styles, ntiles) : null;
  return { ...((options.resample ?? true) && rescale !== 1 ? resizeLinear(outputs, img.height, img.width) : outputs), style };
}
