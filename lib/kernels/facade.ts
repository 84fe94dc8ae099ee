/**
 * The Kernels facade: one validated, typed API over any backend, with the thread budget of its calls. Every
 * method is one declarative `call`: check the arguments (validate.ts, against the module's own limits), check the
 * backend can hold the image, run the binding with this facade's thread budget, map its errors onto ours.
 * Environment-neutral: no Node import here.
 */
import { InputError, InternalError, ScsegError } from '../errors.js';
import { allocLike, type Image2D, type KernelArray, type PixelArray } from '../image.js';
import type { Backend, BackendName, KernelBindings, KernelLimits } from './backend.js';
import {
  assertCapacity,
  assertThreads,
  kernelChecks,
  resolveCellposeCleanOptions,
  resolveCellposeMaskOptions,
  type CellposeCleanOptions,
  type CellposeMaskOptions,
  type FlowField,
  type KernelArgs,
  type KernelName,
  type QcOverlayParams,
  type Shape,
  type TileBlend,
} from './validate.js';

export type { CellposeCleanOptions, CellposeMaskOptions, FlowField, QcOverlayParams, TileBlend } from './validate.js';

/** Native errors carry a `code`; map them onto our hierarchy so callers see one error type per cause. */
function rethrow(err: unknown, kernel: string, valueError?: string): never {
  if (err instanceof ScsegError) throw err;
  const e = err as { code?: string; message?: string };
  const message = e?.message ?? String(err);
  if (valueError && e?.code === 'ERR_SCSEG_VALUE') throw new InputError(`${kernel}: ${valueError}`, e.code);
  if (e?.code && e.code !== 'ERR_SCSEG_INTERNAL' && e.code.startsWith('ERR_SCSEG_')) throw new InputError(message, e.code);
  throw new InternalError(`${kernel} failed: ${message}`, { cause: err });
}

/** An output array as an image of `shape`. */
function shaped<T extends KernelArray>(data: T, shape: Shape): Image2D<T> {
  return { data, width: shape.width, height: shape.height };
}

/** Facades per backend and thread budget: `withThreads` hands out the same object for the same pair. */
const facades = new WeakMap<Backend, Map<number, Kernels>>();

/** Validated kernels bound to one (initialised) backend and one thread budget. */
export class Kernels {
  /** The facade over `backend` with `threads` threads per call (one object per pair). */
  static on(backend: Backend, threads: number): Kernels {
    let byThreads = facades.get(backend);
    if (!byThreads) {
      byThreads = new Map();
      facades.set(backend, byThreads);
    }
    let k = byThreads.get(threads);
    if (!k) {
      k = new Kernels(backend, threads);
      byThreads.set(threads, k);
    }
    return k;
  }

  /**
   * `threads`: the thread budget of every kernel call (1..limits.maxThreads); the native build splits rows across
   * at most that many threads, WASM always runs on the calling thread. Results never depend on it.
   */
  constructor(
    readonly backend: Backend,
    readonly threads: number = 1,
  ) {
    assertThreads(threads, backend.limits.maxThreads);
  }

  get backendName(): BackendName {
    return this.backend.name;
  }

  /** The limits of the backend's module (native/limits.hpp). */
  get limits(): KernelLimits {
    return this.backend.limits;
  }

  /** The same backend with another thread budget. */
  withThreads(threads: number): Kernels {
    assertThreads(threads, this.limits.maxThreads);
    return Kernels.on(this.backend, threads);
  }

  /**
   * Checks `args` with the kernel's check, checks the backend holds the image, then runs the binding with this
   * facade's thread budget; binding errors become InputError / InternalError (`valueError` rewords a value error).
   */
  private call<K extends KernelName, R>(
    kernel: K,
    args: KernelArgs<K>,
    run: (bindings: KernelBindings, threads: number) => R,
    valueError?: string,
  ): R {
    const check = kernelChecks[kernel] as unknown as (limits: KernelLimits, ...a: KernelArgs<K>) => Shape;
    const shape = check(this.limits, ...args);
    assertCapacity(kernel, shape, this.limits, this.backend.name);
    try {
      return run(this.backend.bindings, this.threads);
    } catch (err) {
      rethrow(err, kernel, valueError);
    }
  }

  /**
   * Median over a disk of `radius` (skimage.filters.median(image, disk(radius)): scipy median_filter with
   * mode "nearest", i.e. edge pixels replicated). Returns a new image of the input's dtype.
   */
  medianFilter<T extends PixelArray>(image: Image2D<T>, radius: number): Image2D<T> {
    return this.call('medianFilter', [image, radius], (b, threads) => {
      const out = allocLike(image.data, image.data.length);
      b.medianFilter(image.data, image.width, image.height, radius, out, threads);
      return shaped(out, image);
    });
  }

  /** numpy.quantile(image, q) for each q in [0, 1] ("linear" method, numpy 1.x precision), as float64. */
  quantiles(image: Image2D, q: readonly number[]): Float64Array {
    return this.call('quantiles', [image, q], (b, threads) => {
      // No quantile asked, none computed (emnapi cannot sync a zero-length output array back from WASM).
      if (q.length === 0) return new Float64Array(0);
      const out = new Float64Array(q.length);
      b.quantiles(image.data, image.width, image.height, Float64Array.from(q), out, threads);
      return out;
    });
  }

  /**
   * scPortrait's percentile_normalization of one channel: numpy "linear" quantiles `lower` and `upper`
   * (fractions in [0, 1]), then (x − l)/(u − l) clipped to [0, 1], in float32.
   */
  percentileNormalize(image: Image2D, lower: number, upper: number): Image2D<Float32Array> {
    return this.call('percentileNormalize', [image, lower, upper], (b, threads) => {
      const out = new Float32Array(image.data.length);
      b.percentileNormalize(image.data, image.width, image.height, lower, upper, out, threads);
      return shaped(out, image);
    });
  }

  /**
   * percentileNormalize with the quantiles `l`, `u` already known (scPortrait's `_normalize_image`): (x − l)/(u − l)
   * clipped to [0, 1] in float32, the division skipped when u == l. Same bits as percentileNormalize.
   */
  normalizeRange(image: Image2D, l: number, u: number): Image2D<Float32Array> {
    return this.call('normalizeRange', [image, l, u], (b, threads) => {
      const out = new Float32Array(image.data.length);
      b.normalizeRange(image.data, image.width, image.height, l, u, out, threads);
      return shaped(out, image);
    });
  }

  /**
   * scPortrait WGA's fast-marching speed (SPEC §4.6) from the normalised cytosol channel, its 2 % / 98 % quantiles
   * and the nucleus mask: p = clip((x − q02)/q98, 0, 1) − nucleus in float32 then float64, 1 − clip(p, 0, 1),
   * clipped to [minClip, maxClip] and rescaled to [0.1, 1].
   */
  wgaSpeedMap(
    channel: Image2D,
    nuclei: Image2D<Uint8Array>,
    quantiles: readonly [number, number],
    clip: { min: number; max: number },
  ): Image2D<Float64Array> {
    return this.call('wgaSpeedMap', [channel, nuclei, quantiles, clip], (b, threads) => {
      const out = new Float64Array(channel.data.length);
      const [q02, q98] = quantiles;
      b.wgaSpeedMap(channel.data, nuclei.data, channel.width, channel.height, q02, q98, clip.min, clip.max, out, threads);
      return shaped(out, channel);
    });
  }

  /**
   * Binary erosion by disk(radius) (dy² + dx² ≤ radius²): a pixel stays 1 iff every pixel of its disk is 1.
   * Non-zero mask bytes count as 1; the result is 0/1. `outside` is the value assumed beyond the image border:
   * 1 reproduces skimage.morphology.binary_erosion (scipy border_value=True, so nothing erodes in from the
   * border), 0 makes the border eat in by `radius`.
   */
  binaryErosion(mask: Image2D<Uint8Array>, radius: number, outside: 0 | 1): Image2D<Uint8Array> {
    return this.call('binaryErosion', [mask, radius, outside], (b) => {
      const out = new Uint8Array(mask.data.length);
      b.binaryErosion(mask.data, mask.width, mask.height, radius, outside, out);
      return shaped(out, mask);
    });
  }

  /**
   * Binary dilation by disk(radius): a pixel becomes 1 iff some pixel of its disk is 1. Non-zero mask bytes
   * count as 1; the result is 0/1. `outside` is the value assumed beyond the image border. outside = 0 is
   * exactly skimage.morphology.dilation(mask, disk(radius)) — scipy grey_dilation with mode "reflect" — on a
   * 0/1 bool or float mask (mirrored border pixels are never closer than in-image ones; see native/morphology.hpp).
   */
  binaryDilation(mask: Image2D<Uint8Array>, radius: number, outside: 0 | 1): Image2D<Uint8Array> {
    return this.call('binaryDilation', [mask, radius, outside], (b) => {
      const out = new Uint8Array(mask.data.length);
      b.binaryDilation(mask.data, mask.width, mask.height, radius, outside, out);
      return shaped(out, mask);
    });
  }

  /**
   * Threshold map of scPortrait's segment_local_threshold, bit-exact (float32):
   * `resize(threshold_local(image[::step, ::step], blockSize, method="median", offset), (H, W))`, i.e.
   * the median over a blockSize × blockSize SQUARE of the subsampled image (border mode "reflect",
   * d c b a | a b c d) minus `offset` (rounded to float32, subtracted in float32), then bilinear upsampling
   * to the full size with pixel centres aligned (scipy zoom, grid_mode, border "mirror"), clipped to the
   * small map's [min, max]. `offset` follows threshold_local's sign: the workflow passes offset = −threshold.
   * `blockSize` is the config's `median_block` and must be odd; `step` is `median_step` (≥ 1).
   */
  localMedianThreshold(
    image: Image2D<Float32Array>,
    blockSize: number,
    step: number,
    offset: number,
  ): Image2D<Float32Array> {
    return this.call('localMedianThreshold', [image, blockSize, step, offset], (b, threads) => {
      const out = new Float32Array(image.data.length);
      b.localMedianThreshold(image.data, image.width, image.height, blockSize, step, offset, out, threads);
      return shaped(out, image);
    });
  }

  /**
   * scPortrait's global_otsu: numpy.histogram(image, bins=512) over [min, max] (numpy's bin arithmetic:
   * float32 for float32 images, float64 otherwise), bin centres, between-class variance in float64; returns
   * the centre of the first bin maximising it (a float32 value for float32 images). A constant image gives
   * the centre of the first bin of [v − 0.5, v + 0.5] (numpy.argmax stops at the first NaN), as the original.
   */
  otsuThreshold(image: Image2D): number {
    // NaN is excluded by the check, so a value error from the kernel means ±Infinity, or float32 values whose bin
    // arithmetic overflows (a range above 3.4e38 or below ~1.5e-36, a constant image beyond ±2^53): numpy raises.
    return this.call(
      'otsuThreshold',
      [image],
      (b) => b.otsuThreshold(image.data, image.width, image.height),
      'image contains ±Infinity, or float32 values whose range numpy.histogram cannot bin (wider than 3.4e38 or ' +
        'narrower than ~1.5e-36, or a constant image beyond ±2^53); rescale the image first',
    );
  }

  // ── label kernels (native/watershed.hpp, native/labels.hpp) ─────────────────────────────────────────────

  /**
   * skimage.segmentation.watershed(surface, markers, mask=mask) with its defaults (4-connectivity,
   * compactness 0, no watershed line), bit-identical to scikit-image 0.19–0.24: markers outside the mask
   * (mask byte 0) are dropped; pixels flood in increasing surface value, equal values first-in-first-out,
   * markers of equal value in skimage's own heap order; mask pixels no marker reaches stay 0. `mask` null =
   * everywhere. The surface must not contain NaN.
   * `raiseToParent: true` gives scikit-image ≥ 0.25.2 instead, which raises each pushed pixel's priority to
   * that of the pixel it was reached from; results differ from 0.19–0.24 only where priorities tie.
   * `markerRanks` (also taken by distanceWatershed and travelTimeWatershed): one distinct rank ≥ 0 per non-zero
   * marker in raster order; markers of equal value then pop in rank order instead of skimage's heap order, which
   * depends on every marker of the image — a window passes the whole image's order to flood as the whole image.
   */
  watershed(
    surface: Image2D<Float64Array | Float32Array>,
    markers: Image2D<Uint32Array>,
    mask: Image2D<Uint8Array> | null,
    options: { raiseToParent?: boolean; markerRanks?: Int32Array } = {},
  ): Image2D<Uint32Array> {
    return this.call('watershed', [surface, markers, mask, options], (b, threads) => {
      const out = new Uint32Array(markers.data.length);
      const raise = options.raiseToParent === true;
      const ranks = options.markerRanks ?? null;
      b.watershed(surface.data, markers.data, mask?.data ?? null, surface.width, surface.height, out, raise, ranks, threads);
      return shaped(out, surface);
    });
  }

  /**
   * numba_mask_centroid: for each non-zero id present (ascending), the mean row `y` and mean column `x` of its
   * pixels — float64 sums in raster order divided by the pixel count, bit-identical to the original.
   * An image without labels gives empty arrays (the original crashes there).
   */
  labelCentroids(labels: Image2D<Uint32Array>): { ids: Uint32Array; y: Float64Array; x: Float64Array } {
    return this.call('labelCentroids', [labels], (b, threads) =>
      b.labelCentroids(labels.data, labels.width, labels.height, threads),
    );
  }

  /** remove_edge_labels: every id occurring in the first/last row or column is set to 0 everywhere. */
  removeEdgeLabels(labels: Image2D<Uint32Array>): Image2D<Uint32Array> {
    return this.call('removeEdgeLabels', [labels], (b, threads) => {
      const out = new Uint32Array(labels.data.length);
      b.removeEdgeLabels(labels.data, labels.width, labels.height, out, threads);
      return shaped(out, labels);
    });
  }

  /** Pixel count of every non-zero id present, ids ascending (the building block of the size filter). */
  labelAreas(labels: Image2D<Uint32Array>): { ids: Uint32Array; areas: Float64Array } {
    return this.call('labelAreas', [labels], (b, threads) => b.labelAreas(labels.data, labels.width, labels.height, threads));
  }

  /** A copy of `labels` with every id in `ids` set to 0 (absent ids, duplicates and 0 are harmless). */
  removeLabels(labels: Image2D<Uint32Array>, ids: Uint32Array): Image2D<Uint32Array> {
    return this.call('removeLabels', [labels, ids], (b, threads) => {
      const out = new Uint32Array(labels.data.length);
      b.removeLabels(labels.data, labels.width, labels.height, ids, out, threads);
      return shaped(out, labels);
    });
  }

  /**
   * contact_filter(labels, threshold, reindex=False, background=0): per id (0 included) two counters start
   * at 1; every interior pixel (not in the first/last row/column) of id c adds, over its 4 neighbours n,
   * [n == 0] to bg[c] and [n != c] to other[c]. Ids ≠ 0 with bg/other < threshold (float64, strict) become 0.
   */
  contactFilter(labels: Image2D<Uint32Array>, threshold: number): Image2D<Uint32Array> {
    return this.call('contactFilter', [labels, threshold], (b, threads) => {
      const out = new Uint32Array(labels.data.length);
      b.contactFilter(labels.data, labels.width, labels.height, threshold, out, threads);
      return shaped(out, labels);
    });
  }

  /**
   * MatchNucleusCytosolIds(filtering_threshold = threshold).filter(nucleus, cytosol), without downsampling.
   * Nucleus ids = unique values minus the FIRST one (normally 0; a mask without background skips its smallest
   * id, which is then kept untouched). A nucleus with any pixel on cytosol 0 is discarded; otherwise it matches
   * the smallest cytosol id covering ≥ threshold of its pixels (none → discarded). Cytosol ids (unique values
   * minus the first) matched by no nucleus are discarded; a cytosol matched by several nuclei is discarded with
   * all of them. Discarded ids become 0; each remaining matched cytosol is renamed to its nucleus id.
   */
  matchNucleusCytosol(
    nucleus: Image2D<Uint32Array>,
    cytosol: Image2D<Uint32Array>,
    threshold: number,
  ): { nucleus: Image2D<Uint32Array>; cytosol: Image2D<Uint32Array> } {
    return this.call('matchNucleusCytosol', [nucleus, cytosol, threshold], (b, threads) => {
      const nucleusOut = new Uint32Array(nucleus.data.length);
      const cytosolOut = new Uint32Array(cytosol.data.length);
      const { width, height } = nucleus;
      b.matchNucleusCytosol(nucleus.data, cytosol.data, width, height, threshold, nucleusOut, cytosolOut, threads);
      return { nucleus: shaped(nucleusOut, nucleus), cytosol: shaped(cytosolOut, nucleus) };
    });
  }

  // ── distance kernels (native/edt.hpp, native/peaks.hpp) ───────────────────────────────────────────────────

  /**
   * scipy.ndimage.distance_transform_edt(mask), bit-identical: for each non-zero pixel the Euclidean distance
   * to the nearest zero pixel inside the image (the border is not background), 0 on zero pixels, float64
   * (sqrt of the exact integer squared distance). A mask with no zero pixel reproduces scipy's answer for that
   * case: pixel (y, x) gets sqrt((y + 1)² + x²).
   */
  distanceTransform(mask: Image2D<Uint8Array>): Image2D<Float64Array> {
    return this.call('distanceTransform', [mask], (b, threads) => {
      const out = new Float64Array(mask.data.length);
      b.distanceTransform(mask.data, mask.width, mask.height, out, threads);
      return shaped(out, mask);
    });
  }

  /**
   * skimage (>= 0.20) peak_local_max(image, min_distance=minDistance, footprint=disk(footprintRadius)) with
   * default arguments, as [y0, x0, y1, x1, …]. Candidates: pixels > min(image) that equal the maximum over
   * the in-image part of their disk (skimage's maximum_filter mode "nearest"; footprintRadius 0 or a 1-pixel
   * image: every pixel > min), none for a constant image; those within minDistance of an image edge are
   * dropped. Order: value descending, equal values row-major (stable sort). Then greedily, in that order, a
   * candidate is kept iff its Chebyshev distance to every kept peak is ≥ minDistance. NaN is rejected.
   */
  peakLocalMax(image: Image2D<Float64Array>, minDistance: number, footprintRadius: number): Int32Array {
    // Copied into this realm's Int32Array: the native addon creates its arrays in the main realm, which breaks
    // `instanceof` checks in vm contexts (jest) downstream. Peaks are few; the copy is free.
    return this.call('peakLocalMax', [image, minDistance, footprintRadius], (b) =>
      new Int32Array(b.peakLocalMax(image.data, image.width, image.height, minDistance, footprintRadius)),
    );
  }

  // ── fast marching (native/fmm.hpp) ──────────────────────────────────────────────────────────────────────────

  /**
   * skfmm.distance(phi, dx=1) as scPortrait calls it (phi = 0 at the seeds, 1 elsewhere, masked where not
   * allowed; second order), bit-identical to scikit-fmm 2022.08: the geodesic distance from the seed pixels
   * through the allowed pixels. `seeds` and `allowed` are Uint8Array masks of one shape (non-zero = yes); seeds
   * outside `allowed` are ignored, like masked zeros in the original. Returns float64: 0 at the seeds, the
   * distance at every allowed pixel a seed can reach, and +Infinity where skfmm's result is masked (pixels not
   * allowed, allowed pixels no seed reaches) — so the original's `.filled(max(result))` is "replace +Infinity by
   * the largest finite value". Without any usable seed every pixel is +Infinity (skfmm raises ValueError there).
   */
  fmmDistance(seeds: Image2D<Uint8Array>, allowed: Image2D<Uint8Array>): Image2D<Float64Array> {
    return this.call('fmmDistance', [seeds, allowed], (b, threads) => {
      const out = new Float64Array(seeds.data.length);
      b.fmmDistance(seeds.data, allowed.data, seeds.width, seeds.height, out, threads);
      return shaped(out, seeds);
    });
  }

  /**
   * The classical workflows' nucleus labelling in one call, bit-identical to
   * watershed(fmmDistance(seeds, allowed), markers, allowed) — without handing the 8-byte-per-pixel distance
   * back and forth.
   */
  distanceWatershed(
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    markers: Image2D<Uint32Array>,
    options: { markerRanks?: Int32Array } = {},
  ): Image2D<Uint32Array> {
    return this.call('distanceWatershed', [seeds, allowed, markers, options], (b, threads) => {
      const labels = new Uint32Array(seeds.data.length);
      const ranks = options.markerRanks ?? null;
      b.distanceWatershed(seeds.data, allowed.data, markers.data, seeds.width, seeds.height, labels, ranks, threads);
      return shaped(labels, seeds);
    });
  }

  /**
   * skfmm.travel_time(phi, speed, dx=1) as scPortrait calls it, bit-identical to scikit-fmm 2022.08: the
   * arrival time from the seed pixels through the allowed pixels at `speed` (Float64Array of the same shape,
   * finite and > 0 everywhere, else InputError ERR_SCSEG_VALUE; like skfmm, pixels slower than
   * Number.EPSILON count as not allowed). Seeds, +Infinity and the no-seed case as in fmmDistance.
   * `targets`: stop the march once every open target pixel is frozen; their values are the full march's (a
   * frozen value never changes), other pixels not reached by then read +Infinity. A global pass needs the
   * travel times next to the nucleus centres only, which freeze first.
   */
  travelTime(
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    options: { targets?: Image2D<Uint8Array> } = {},
  ): Image2D<Float64Array> {
    return this.call('travelTime', [seeds, allowed, speed, options], (b) => {
      const out = new Float64Array(seeds.data.length);
      b.fmmTravelTime(seeds.data, allowed.data, speed.data, seeds.width, seeds.height, out, options.targets?.data ?? null);
      return shaped(out, seeds);
    });
  }

  /**
   * scPortrait's WGA cytosol flooding in one call, bit-identical to travelTime(seeds, allowed, speed), the
   * unreached (+Infinity) times replaced by the largest time reached (`.filled(max)`), then
   * watershed(travel, markers, allowed). No seed inside `allowed`: all labels 0 and travel left +Infinity.
   * Native builds flood on a second thread right behind the fast-marching front (same result, less time).
   * `options.travel: false` returns the labels only (travel null), sparing the 8 bytes per pixel of times.
   * `options.floodLag` is a testing hook: how far (in travel time) behind the front that flood pops; a negative
   * lag forces pops out of order and so exercises the exact rerun that then follows.
   */
  travelTimeWatershed(
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    markers: Image2D<Uint32Array>,
    options?: { floodLag?: number; travel?: true; markerRanks?: Int32Array },
  ): { travel: Image2D<Float64Array>; labels: Image2D<Uint32Array> };
  travelTimeWatershed(
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    markers: Image2D<Uint32Array>,
    options: { floodLag?: number; travel: false; markerRanks?: Int32Array },
  ): { travel: null; labels: Image2D<Uint32Array> };
  travelTimeWatershed(
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    markers: Image2D<Uint32Array>,
    options: { floodLag?: number; travel?: boolean; markerRanks?: Int32Array } = {},
  ): { travel: Image2D<Float64Array> | null; labels: Image2D<Uint32Array> } {
    return this.call('travelTimeWatershed', [seeds, allowed, speed, markers, options], (b, threads) => {
      const { width, height } = seeds;
      const travel = options.travel === false ? null : new Float64Array(seeds.data.length);
      const labels = new Uint32Array(seeds.data.length);
      const lag = options.floodLag;
      const ranks = options.markerRanks ?? null;
      b.travelTimeWatershed(seeds.data, allowed.data, speed.data, markers.data, width, height, travel, labels, lag, ranks, threads);
      return { travel: travel && shaped(travel, seeds), labels: shaped(labels, seeds) };
    });
  }

  // ── Cellpose (native/cellpose_dynamics.hpp, native/cellpose_flows.hpp) ────────────────────────────────────────

  /**
   * Cellpose 3.1.1.3's masks from the network's outputs, label for label: `resize_and_compute_masks` on one 2-D
   * image without GPU or resizing (what `CellposeModel.eval` runs). `dP`: the flows [2, H, W] (dY, dX) at the
   * network's scale; `cellprob`: the cell-probability logits [H, W]. Pixels with cellprob > cellprobThreshold
   * follow the flows for `niter` Euler steps (Cellpose's CPU interpolation, bit for bit); converged points are
   * clustered into masks (histogram peaks, 5 growth steps); masks larger than maxSizeFraction of the image go;
   * with flowThreshold > 0, masks whose flows disagree with the flows of the mask itself go; then holes are filled
   * and masks smaller than minSize removed — by default with Cellpose's label-gap quirk (the removal after a flow
   * error can hit the wrong masks; `fixLabelGapQuirk: true` removes exactly the small ones). Labels 1..n.
   * Flows must be finite (else InputError ERR_SCSEG_VALUE); NaN cellprob counts as below the threshold.
   */
  cellposeMasks(dP: FlowField, cellprob: Image2D<Float32Array>, options: CellposeMaskOptions): Image2D<Uint32Array> {
    return this.call(
      'cellposeMasks',
      [dP, cellprob, options],
      (b, threads) => {
        const o = resolveCellposeMaskOptions(options, this.limits);
        const labels = new Uint32Array(cellprob.data.length);
        const { width, height } = cellprob;
        b.cellposeMasks(
          dP.data,
          cellprob.data,
          width,
          height,
          o.niter,
          o.cellprobThreshold,
          o.flowThreshold,
          o.minSize,
          o.maxSizeFraction,
          o.imagePixels,
          o.fixLabelGapQuirk,
          o.clean,
          o.interp,
          labels,
          threads,
        );
        return shaped(labels, cellprob);
      },
      'dP (the flows) contains NaN or ±Infinity; Cellpose\'s flows must be finite',
    );
  }

  /**
   * Cellpose's `fill_holes_and_remove_small_masks(minSize)` on a copy of `labels` (labels may have gaps): what
   * `cellposeMasks` runs last, for masks resized in between (`CellposeModel.eval` with `resample: false`).
   */
  cellposeCleanMasks(labels: Image2D<Uint32Array>, options: CellposeCleanOptions = {}): Image2D<Uint32Array> {
    return this.call('cellposeCleanMasks', [labels, options], (b) => {
      const o = resolveCellposeCleanOptions(options);
      const out = Uint32Array.from(labels.data);
      b.cellposeCleanMasks(out, labels.width, labels.height, o.minSize, o.fixLabelGapQuirk);
      return shaped(out, labels);
    });
  }

  /**
   * Cellpose 3.1.1.3's `masks_to_flows` (CPU path) of a label image: per mask, heat diffused from its centre (the
   * pixel nearest the mean of its pixels) for 2·(box height + box width + 4) steps, its gradient normalised to unit
   * length. Returns [2, H, W] (dY, dX), Cellpose's float64 values rounded to float32; 0 outside the masks.
   */
  cellposeMasksToFlows(labels: Image2D<Uint32Array>): FlowField {
    return this.call('cellposeMasksToFlows', [labels], (b, threads) => {
      const flows = new Float32Array(2 * labels.data.length);
      b.cellposeMasksToFlows(labels.data, labels.width, labels.height, flows, threads);
      return { data: flows, width: labels.width, height: labels.height };
    });
  }

  /**
   * Cellpose's `average_tiles` over a `region` (native/cellpose_tiles.hpp): each tile's outputs times the taper mask
   * added into a float32 sum in tile order (product and addition in float64), the mask into a float64 sum, then the
   * quotient as float32 — the planes [channels, height, width]. Tile pixels outside the region are skipped; a region
   * pixel no tile covers is NaN (0 / 0).
   */
  cellposeBlendTiles(tiles: TileBlend, region: { width: number; height: number }): Float32Array {
    return this.call('cellposeBlendTiles', [tiles, region], (b, threads) => {
      const n = tiles.channels * region.width * region.height;
      let out: Float32Array;
      try {
        out = new Float32Array(n);
      } catch (err) {
        throw new InputError(`cellposeBlendTiles: ${n} blended values (${tiles.channels} × ${region.width} × ${region.height}) do not fit in memory`, 'ERR_SCSEG_TOO_LARGE', { cause: err });
      }
      b.cellposeBlendTiles(tiles.y, tiles.origins, tiles.mask, tiles.channels, tiles.tileHeight, tiles.tileWidth, region.width, region.height, out, threads);
      return out;
    });
  }

  // ── QC overlay (native/qc_overlay.hpp) ──────────────────────────────────────────────────────────────────────

  /**
   * The QC overlay's pixels (lib/io/overlay.ts renderQcOverlay, byte for byte): RGBA (R, G, B, 255 in memory order)
   * of ceil(W / factor) × ceil(H / factor). Grey: the background pixel (factor 1) or the mean of the block's non-NaN
   * pixels (float64 sums in raster order; an empty block → p0), then Math.round((mean − p0) · scale) clamped to
   * 0..255 (NaN → 0). Outlines: a labelled pixel with a 4-neighbour of another label, at full resolution, colours its
   * block; later masks over earlier ones. NaN and ±Infinity in the background are allowed.
   */
  qcOverlay(
    background: Image2D,
    masks: readonly Image2D<Uint32Array>[],
    params: QcOverlayParams,
  ): { width: number; height: number; rgba: Uint8Array } {
    return this.call('qcOverlay', [background, masks, params], (b, threads) => {
      const { width: W, height: H } = background;
      const width = Math.ceil(W / params.factor);
      const height = Math.ceil(H / params.factor);
      const rgba = new Uint8Array(width * height * 4);
      const colors = new Uint8Array(3 * masks.length);
      masks.forEach((_, k) => colors.set(params.colors[k % params.colors.length], 3 * k));
      const data = masks.map((m) => m.data);
      b.qcOverlay(background.data, W, H, params.factor, params.p0, params.scale, colors, rgba, threads, data);
      return { width, height, rgba };
    });
  }
}
