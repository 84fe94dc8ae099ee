/**
 * Whole-image semantics for a window: the steps whose answer depends on where the image ends rather than on a
 * neighbourhood. Inside a window, only the sides that are image edges behave as image edges; cut sides are
 * covered by the caller's margins.
 */
import { InputError } from '../errors.js';
import type { Image2D, PixelWindow } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import type { LocalThreshold } from '../config/types.js';
import { isWholeImage, type GlobalTile, type LabelImage, type WindowPlacement } from './types.js';

/**
 * remove_edge_labels on the image's edges: ids touching a window side that is an image edge. A cell cut by a
 * window side is not removed (in the whole image it may well be inside), so markers next to core cells stay.
 */
export function removeImageEdgeLabels(k: Kernels, labels: LabelImage, placement: WindowPlacement): LabelImage {
  if (isWholeImage(placement)) return k.removeEdgeLabels(labels);
  const { window, imageWidth, imageHeight } = placement;
  const { data, width, height } = labels;
  const ids = new Set<number>();
  const addRow = (y: number) => {
    for (let x = 0; x < width; x++) if (data[y * width + x] !== 0) ids.add(data[y * width + x]);
  };
  const addColumn = (x: number) => {
    for (let y = 0; y < height; y++) if (data[y * width + x] !== 0) ids.add(data[y * width + x]);
  };
  if (window.y === 0) addRow(0);
  if (window.y + window.height === imageHeight) addRow(height - 1);
  if (window.x === 0) addColumn(0);
  if (window.x + window.width === imageWidth) addColumn(width - 1);
  return ids.size > 0 ? k.removeLabels(labels, Uint32Array.from([...ids].sort((a, b) => a - b))) : labels;
}

/** scipy zoom's linear taps along one axis (order 1, grid_mode, mode "mirror"), as native/threshold.hpp. */
interface Tap {
  i0: number;
  i1: number;
  w0: number;
  w1: number;
}

function mirrorCoordinate(c: number, len: number): number {
  if (c < 0) {
    if (len <= 1) return 0;
    const sz2 = 2 * len - 2;
    c = sz2 * Math.trunc(-c / sz2) + c;
    return c <= 1 - len ? c + sz2 : -c;
  }
  if (c > len - 1) {
    if (len <= 1) return 0;
    const sz2 = 2 * len - 2;
    c -= sz2 * Math.trunc(c / sz2);
    return c >= len ? sz2 - c : c;
  }
  return c;
}

function zoomTap(k: number, outLen: number, inLen: number): Tap {
  const zoom = inLen / outLen;
  let cc = k;
  cc += 0.5;
  cc *= zoom;
  cc -= 0.5;
  cc = mirrorCoordinate(cc, inLen);
  const fl = Math.floor(cc);
  let i0 = fl;
  let i1 = fl + 1;
  if (fl < 0 || fl + 1 >= inLen) {
    i0 = Math.trunc(mirrorCoordinate(fl, inLen));
    i1 = Math.trunc(mirrorCoordinate(fl + 1, inLen));
  }
  const w0 = 1 - (cc - fl);
  return { i0, i1, w0, w1: 1 - w0 };
}

/**
 * The taps of output pixels [from, from + count) of the whole image's zoom (outLen ← inLen), with small-map
 * indices made local to the window's small map [origin, origin + localLen); a tap beyond a cut side is clamped
 * (the caller's margin absorbs it).
 */
function windowTaps(from: number, count: number, outLen: number, inLen: number, origin: number, localLen: number): Tap[] {
  const local = (i: number) => Math.min(Math.max(i - origin, 0), localLen - 1);
  const taps: Tap[] = [];
  for (let k = from; k < from + count; k++) {
    const t = zoomTap(k, outLen, inLen);
    taps.push({ i0: local(t.i0), i1: local(t.i1), w0: t.w0, w1: t.w1 });
  }
  return taps;
}

/**
 * segment_local_threshold's threshold map for a window, as the whole image's map: the subsampling grid, the
 * block median and the bilinear zoom are those of the whole image. The window must start on the subsampling grid
 * (x and y multiples of median_step). Its clip to [min, max] of the small map is a no-op (a convex combination
 * rounded to float32 never leaves the range of its taps), so the window's own range gives the same bits.
 */
export function localThresholdMap(
  k: Kernels,
  image: Image2D<Float32Array>,
  t: LocalThreshold,
  placement: WindowPlacement,
): Image2D<Float32Array> {
  if (isWholeImage(placement)) return k.localMedianThreshold(image, t.medianBlock, t.medianStep, -t.threshold);
  const { window, imageWidth, imageHeight } = placement;
  const step = t.medianStep;
  if (window.x % step !== 0 || window.y % step !== 0) {
    throw new InputError(
      `window at (${window.x}, ${window.y}) does not start on the median_step grid (${step}); align windows to it`,
      'ERR_SCSEG_ARGUMENT',
    );
  }
  const { width, height, data } = image;
  const hs = Math.ceil(height / step);
  const ws = Math.ceil(width / step);
  const sub = new Float32Array(hs * ws);
  for (let y = 0; y < hs; y++) for (let x = 0; x < ws; x++) sub[y * ws + x] = data[y * step * width + x * step];
  // Step 1 on the subsampled window: the block median minus the offset, zoomed 1:1 (exact copy).
  const small = k.localMedianThreshold({ data: sub, width: ws, height: hs }, t.medianBlock, 1, -t.threshold).data;
  let lo = small[0];
  let hi = small[0];
  for (const v of small) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const ty = windowTaps(window.y, height, imageHeight, Math.ceil(imageHeight / step), window.y / step, hs);
  const tx = windowTaps(window.x, width, imageWidth, Math.ceil(imageWidth / step), window.x / step, ws);
  const out = new Float32Array(width * height);
  const a = new Float64Array(ws);
  const b = new Float64Array(ws);
  for (let y = 0; y < height; y++) {
    const t0 = ty[y];
    const r0 = t0.i0 * ws;
    const r1 = t0.i1 * ws;
    for (let x = 0; x < ws; x++) {
      a[x] = small[r0 + x] * t0.w0;
      b[x] = small[r1 + x] * t0.w1;
    }
    for (let x = 0; x < width; x++) {
      const u = tx[x];
      let v = 0;
      v += a[u.i0] * u.w0;
      v += a[u.i1] * u.w1;
      v += b[u.i0] * u.w0;
      v += b[u.i1] * u.w1;
      const f = Math.fround(v);
      out[y * width + x] = f < lo ? lo : f > hi ? hi : f;
    }
  }
  return { data: out, width, height };
}

/**
 * The cells of a window's `labels` (the window at `window` in the image) whose centroid lies in `core` (image
 * coordinates), ascending id, with their areas: the cells a window is exact for, and owns when stitching.
 */
export function cellsCentredIn(labels: LabelImage, window: PixelWindow, core: PixelWindow): { id: number; area: number }[] {
  const { data, width } = labels;
  const sums = new Map<number, { n: number; y: number; x: number }>();
  for (let i = 0; i < data.length; i++) {
    const id = data[i];
    if (id === 0) continue;
    let c = sums.get(id);
    if (!c) sums.set(id, (c = { n: 0, y: 0, x: 0 }));
    c.n++;
    c.y += window.y + Math.floor(i / width);
    c.x += window.x + (i % width);
  }
  const out: { id: number; area: number }[] = [];
  for (const [id, c] of sums) {
    const cy = c.y / c.n;
    const cx = c.x / c.n;
    if (cy >= core.y && cy < core.y + core.height && cx >= core.x && cx < core.x + core.width) out.push({ id, area: c.n });
  }
  return out.sort((a, b) => a.id - b.id);
}

/**
 * Cores of `tile` pixels in raster order over a width × height image, each read with `margin` pixels around it
 * (cut at the image's edges): the global pass's sweep tiles, and a sharded run's shards.
 */
export function sweepTiles(width: number, height: number, tile: number, margin: number): GlobalTile[] {
  const tiles: GlobalTile[] = [];
  for (let y = 0; y < height; y += tile) {
    for (let x = 0; x < width; x += tile) {
      const core = { x, y, width: Math.min(tile, width - x), height: Math.min(tile, height - y) };
      const x0 = Math.max(0, x - margin);
      const y0 = Math.max(0, y - margin);
      const x1 = Math.min(width, x + core.width + margin);
      const y1 = Math.min(height, y + core.height + margin);
      tiles.push({ core, window: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } });
    }
  }
  return tiles;
}
