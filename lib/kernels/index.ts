/**
 * The kernel facade: one validated, typed API over two interchangeable backends (onnxruntime's pattern).
 *
 * Backend choice: `SCSEG_BACKEND=native|wasm` forces one (and fails loudly if it cannot load); unset, the
 * native addon is tried first and the WASM build is the automatic fallback. Loading is synchronous, so the
 * same facade works inside worker threads.
 */
import { BackendError, InputError, InternalError, ScsegError } from '../errors.js';
import { allocLike, type Image2D, type PixelArray } from '../image.js';
import type { Backend, BackendName } from './backend.js';
import { loadNativeBackend } from './native.js';
import {
  assertFiniteNumber,
  assertImage,
  assertIntegerInRange,
  assertNumberInRange,
  assertLabelImage,
  assertNoNaNValues,
  assertSameShape,
  assertTypedImage,
  isTypedArrayOf,
} from './validate.js';
import { loadWasmBackend } from './wasm.js';

export type { Backend, BackendName } from './backend.js';

/** Largest median radius accepted (the histogram algorithm is O(r) per pixel; this is a sanity bound). */
export const MAX_MEDIAN_RADIUS = 4096;
/** WASM linear memory is 4 GiB at most; kernels use ~16 bytes/pixel of scratch. Larger images: tile or go native. */
const WASM_MAX_PIXELS = 2 ** 27;
/** Fast marching holds ~35 bytes/pixel in WASM memory (inputs, output, 17 bytes/pixel of state): half the limit. */
const WASM_MAX_FMM_PIXELS = 2 ** 26;

const loaded = new Map<BackendName, Backend>();

export function loadBackend(name: BackendName): Backend {
  let b = loaded.get(name);
  if (!b) {
    b = name === 'native' ? loadNativeBackend() : loadWasmBackend();
    loaded.set(name, b);
  }
  return b;
}

function requestedBackend(): BackendName | 'auto' {
  const v = (process.env.SCSEG_BACKEND ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'native' || v === 'wasm') return v;
  throw new BackendError(`SCSEG_BACKEND must be "native", "wasm" or "auto", got "${process.env.SCSEG_BACKEND}"`);
}

/** Resolves the backend for this thread: the forced one, or native with WASM as fallback. */
export function resolveBackend(choice: BackendName | 'auto' = requestedBackend()): Backend {
  if (choice !== 'auto') return loadBackend(choice);
  try {
    return loadBackend('native');
  } catch (nativeErr) {
    try {
      return loadBackend('wasm');
    } catch (wasmErr) {
      throw new BackendError(
        `no kernel backend could be loaded.\nnative: ${(nativeErr as Error).message}\nwasm: ${(wasmErr as Error).message}`,
      );
    }
  }
}

/** Native errors carry a `code`; map them onto our hierarchy so callers see one error type per cause. */
function rethrow(err: unknown, kernel: string): never {
  if (err instanceof ScsegError) throw err;
  const e = err as { code?: string; message?: string };
  const message = e?.message ?? String(err);
  if (e?.code && e.code !== 'ERR_SCSEG_INTERNAL' && e.code.startsWith('ERR_SCSEG_')) throw new InputError(message, e.code);
  throw new InternalError(`${kernel} failed: ${message}`, { cause: err });
}

/** Largest peakLocalMax footprint radius (the maximum filter costs O(radius) per pixel). */
export const MAX_PEAK_FOOTPRINT_RADIUS = 4096;
/** Largest disk radius of binaryErosion / binaryDilation (cost grows with radius / 64 per pixel). */
export const MAX_MORPHOLOGY_RADIUS = 4096;
/** Largest localMedianThreshold block (the window median costs O(block) per downsampled pixel). */
export const MAX_MEDIAN_BLOCK = 4095;

function assertMask(mask: Image2D<Uint8Array>, kernel: string): void {
  assertImage(mask, `${kernel} mask`);
  if (!(mask.data instanceof Uint8Array)) {
    const got = (mask.data as object).constructor.name;
    throw new InputError(`${kernel}: mask data must be a Uint8Array of 0/1, got ${got}`, 'ERR_SCSEG_DTYPE');
  }
}

function assertOutside(outside: unknown, kernel: string): asserts outside is 0 | 1 {
  if (outside !== 0 && outside !== 1) {
    throw new InputError(
      `${kernel} outside (value beyond the image border) must be 0 or 1, got ${String(outside)}`,
      'ERR_SCSEG_ARGUMENT',
    );
  }
}

/** Validated kernels bound to one backend. */
export class Kernels {
  constructor(readonly backend: Backend) {}

  get backendName(): BackendName {
    return this.backend.name;
  }

  private checkCapacity(image: Pick<Image2D, 'width' | 'height'>, kernel: string, maxPixels = WASM_MAX_PIXELS): void {
    if (this.backend.name === 'wasm' && image.width * image.height > maxPixels) {
      throw new InputError(
        `${kernel}: ${image.width}×${image.height} exceeds what the WASM backend can hold in its 4 GiB memory; ` +
          'process the image in tiles (sharded segmentation) or use the native backend',
        'ERR_SCSEG_TOO_LARGE',
      );
    }
  }

  /**
   * Median over a disk of `radius` (skimage.filters.median(image, disk(radius)): scipy median_filter with
   * mode "nearest", i.e. edge pixels replicated). Returns a new image of the input's dtype.
   */
  medianFilter<T extends PixelArray>(image: Image2D<T>, radius: number): Image2D<T> {
    assertImage(image);
    assertIntegerInRange(radius, 0, MAX_MEDIAN_RADIUS, 'medianFilter radius');
    this.checkCapacity(image, 'medianFilter');
    const out = allocLike(image.data, image.data.length);
    try {
      this.backend.bindings.medianFilter(image.data, image.width, image.height, radius, out);
    } catch (err) {
      rethrow(err, 'medianFilter');
    }
    return { data: out, width: image.width, height: image.height };
  }

  /** numpy.quantile(image, q) for each q in [0, 1] ("linear" method, numpy 1.x precision), as float64. */
  quantiles(image: Image2D, q: readonly number[]): Float64Array {
    assertImage(image);
    q.forEach((v, i) => assertNumberInRange(v, 0, 1, `quantiles q[${i}]`));
    this.checkCapacity(image, 'quantiles');
    const out = new Float64Array(q.length);
    try {
      this.backend.bindings.quantiles(image.data, image.width, image.height, Float64Array.from(q), out);
    } catch (err) {
      rethrow(err, 'quantiles');
    }
    return out;
  }

  /**
   * scPortrait's percentile_normalization of one channel: numpy "linear" quantiles `lower` and `upper`
   * (fractions in [0, 1]), then (x − l)/(u − l) clipped to [0, 1], in float32.
   */
  percentileNormalize(image: Image2D, lower: number, upper: number): Image2D<Float32Array> {
    assertImage(image);
    assertNumberInRange(lower, 0, 1, 'percentileNormalize lower quantile');
    assertNumberInRange(upper, 0, 1, 'percentileNormalize upper quantile');
    this.checkCapacity(image, 'percentileNormalize');
    const out = new Float32Array(image.data.length);
    try {
      this.backend.bindings.percentileNormalize(image.data, image.width, image.height, lower, upper, out);
    } catch (err) {
      rethrow(err, 'percentileNormalize');
    }
    return { data: out, width: image.width, height: image.height };
  }

  /**
   * percentileNormalize with the quantiles `l`, `u` already known (scPortrait's `_normalize_image`): (x − l)/(u − l)
   * clipped to [0, 1] in float32, the division skipped when u == l. Same bits as percentileNormalize.
   */
  normalizeRange(image: Image2D, l: number, u: number): Image2D<Float32Array> {
    assertImage(image);
    if (!Number.isFinite(l) || !Number.isFinite(u)) {
      throw new InputError(`normalizeRange: quantiles must be finite numbers, got ${l} and ${u}`, 'ERR_SCSEG_ARGUMENT');
    }
    this.checkCapacity(image, 'normalizeRange');
    const out = new Float32Array(image.data.length);
    try {
      this.backend.bindings.normalizeRange(image.data, image.width, image.height, l, u, out);
    } catch (err) {
      rethrow(err, 'normalizeRange');
    }
    return { data: out, width: image.width, height: image.height };
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
    assertImage(channel);
    assertTypedImage(nuclei, [Uint8Array], 'wgaSpeedMap nuclei');
    assertSameShape(channel, nuclei, 'wgaSpeedMap channel', 'wgaSpeedMap nuclei');
    if (!(Number.isFinite(clip.min) && Number.isFinite(clip.max) && clip.max > clip.min)) {
      throw new InputError(`wgaSpeedMap: clip range must satisfy min < max, got [${clip.min}, ${clip.max}]`, 'ERR_SCSEG_ARGUMENT');
    }
    this.checkCapacity(channel, 'wgaSpeedMap');
    const out = new Float64Array(channel.data.length);
    try {
      this.backend.bindings.wgaSpeedMap(channel.data, nuclei.data, channel.width, channel.height, quantiles[0], quantiles[1], clip.min, clip.max, out);
    } catch (err) {
      rethrow(err, 'wgaSpeedMap');
    }
    return { data: out, width: channel.width, height: channel.height };
  }

  /**
   * Binary erosion by disk(radius) (dy² + dx² ≤ radius²): a pixel stays 1 iff every pixel of its disk is 1.
   * Non-zero mask bytes count as 1; the result is 0/1. `outside` is the value assumed beyond the image border:
   * 1 reproduces skimage.morphology.binary_erosion (scipy border_value=True, so nothing erodes in from the
   * border), 0 makes the border eat in by `radius`.
   */
  binaryErosion(mask: Image2D<Uint8Array>, radius: number, outside: 0 | 1): Image2D<Uint8Array> {
    return this.diskMorphology('binaryErosion', mask, radius, outside);
  }

  /**
   * Binary dilation by disk(radius): a pixel becomes 1 iff some pixel of its disk is 1. Non-zero mask bytes
   * count as 1; the result is 0/1. `outside` is the value assumed beyond the image border. outside = 0 is
   * exactly skimage.morphology.dilation(mask, disk(radius)) — scipy grey_dilation with mode "reflect" — on a
   * 0/1 bool or float mask (mirrored border pixels are never closer than in-image ones; see native/morphology.hpp).
   */
  binaryDilation(mask: Image2D<Uint8Array>, radius: number, outside: 0 | 1): Image2D<Uint8Array> {
    return this.diskMorphology('binaryDilation', mask, radius, outside);
  }

  private diskMorphology(
    kernel: 'binaryErosion' | 'binaryDilation',
    mask: Image2D<Uint8Array>,
    radius: number,
    outside: 0 | 1,
  ): Image2D<Uint8Array> {
    assertMask(mask, kernel);
    assertIntegerInRange(radius, 0, MAX_MORPHOLOGY_RADIUS, `${kernel} radius`);
    assertOutside(outside, kernel);
    this.checkCapacity(mask, kernel);
    const out = new Uint8Array(mask.data.length);
    try {
      this.backend.bindings[kernel](mask.data, mask.width, mask.height, radius, outside, out);
    } catch (err) {
      rethrow(err, kernel);
    }
    return { data: out, width: mask.width, height: mask.height };
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
    assertImage(image);
    if (!(image.data instanceof Float32Array)) {
      throw new InputError(
        'localMedianThreshold: image must be float32 (the normalised nucleus channel), got ' +
          (image.data as object).constructor.name,
        'ERR_SCSEG_DTYPE',
      );
    }
    assertIntegerInRange(blockSize, 1, MAX_MEDIAN_BLOCK, 'localMedianThreshold blockSize (median_block)');
    if (blockSize % 2 === 0) {
      const msg = `localMedianThreshold blockSize (median_block) must be odd, got ${blockSize}`;
      throw new InputError(msg, 'ERR_SCSEG_ARGUMENT');
    }
    assertIntegerInRange(step, 1, 2 ** 31 - 1, 'localMedianThreshold step (median_step)');
    assertNumberInRange(offset, -1e38, 1e38, 'localMedianThreshold offset');
    this.checkCapacity(image, 'localMedianThreshold');
    const out = new Float32Array(image.data.length);
    try {
      this.backend.bindings.localMedianThreshold(image.data, image.width, image.height, blockSize, step, offset, out);
    } catch (err) {
      rethrow(err, 'localMedianThreshold');
    }
    return { data: out, width: image.width, height: image.height };
  }

  /**
   * scPortrait's global_otsu: numpy.histogram(image, bins=512) over [min, max] (numpy's bin arithmetic:
   * float32 for float32 images, float64 otherwise), bin centres, between-class variance in float64; returns
   * the centre of the first bin maximising it (a float32 value for float32 images). A constant image gives
   * the centre of the first bin of [v − 0.5, v + 0.5] (numpy.argmax stops at the first NaN), as the original.
   */
  otsuThreshold(image: Image2D): number {
    assertImage(image);
    this.checkCapacity(image, 'otsuThreshold');
    try {
      return this.backend.bindings.otsuThreshold(image.data, image.width, image.height);
    } catch (err) {
      // NaN is excluded above, so a value error here means ±Infinity (the kernel checks in the same pass).
      if ((err as { code?: string })?.code === 'ERR_SCSEG_VALUE') {
        const msg = 'otsuThreshold: image contains ±Infinity, which numpy.histogram cannot bin';
        throw new InputError(msg, 'ERR_SCSEG_VALUE');
      }
      rethrow(err, 'otsuThreshold');
    }
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
   */
  watershed(
    surface: Image2D<Float64Array | Float32Array>,
    markers: Image2D<Uint32Array>,
    mask: Image2D<Uint8Array> | null,
    options: { raiseToParent?: boolean } = {},
  ): Image2D<Uint32Array> {
    assertTypedImage(surface, [Float64Array, Float32Array], 'watershed surface');
    assertLabelImage(markers, 'watershed markers');
    assertSameShape(surface, markers, 'watershed surface', 'watershed markers');
    if (mask !== null) {
      assertTypedImage(mask, [Uint8Array], 'watershed mask');
      assertSameShape(surface, mask, 'watershed surface', 'watershed mask');
    }
    if (options === null || typeof options !== 'object' || !['undefined', 'boolean'].includes(typeof options.raiseToParent)) {
      throw new InputError('watershed options must be { raiseToParent?: boolean }', 'ERR_SCSEG_ARGUMENT');
    }
    assertNoNaNValues(surface.data, 'watershed surface');
    this.checkCapacity(surface, 'watershed');
    const out = new Uint32Array(markers.data.length);
    try {
      const { width, height } = surface;
      this.backend.bindings.watershed(surface.data, markers.data, mask?.data ?? null, width, height, out, options.raiseToParent === true);
    } catch (err) {
      rethrow(err, 'watershed');
    }
    return { data: out, width: surface.width, height: surface.height };
  }

  /**
   * numba_mask_centroid: for each non-zero id present (ascending), the mean row `y` and mean column `x` of its
   * pixels — float64 sums in raster order divided by the pixel count, bit-identical to the original.
   * An image without labels gives empty arrays (the original crashes there).
   */
  labelCentroids(labels: Image2D<Uint32Array>): { ids: Uint32Array; y: Float64Array; x: Float64Array } {
    assertLabelImage(labels, 'labelCentroids labels');
    this.checkCapacity(labels, 'labelCentroids');
    try {
      return this.backend.bindings.labelCentroids(labels.data, labels.width, labels.height);
    } catch (err) {
      rethrow(err, 'labelCentroids');
    }
  }

  /** remove_edge_labels: every id occurring in the first/last row or column is set to 0 everywhere. */
  removeEdgeLabels(labels: Image2D<Uint32Array>): Image2D<Uint32Array> {
    assertLabelImage(labels, 'removeEdgeLabels labels');
    this.checkCapacity(labels, 'removeEdgeLabels');
    const out = new Uint32Array(labels.data.length);
    try {
      this.backend.bindings.removeEdgeLabels(labels.data, labels.width, labels.height, out);
    } catch (err) {
      rethrow(err, 'removeEdgeLabels');
    }
    return { data: out, width: labels.width, height: labels.height };
  }

  /** Pixel count of every non-zero id present, ids ascending (the building block of the size filter). */
  labelAreas(labels: Image2D<Uint32Array>): { ids: Uint32Array; areas: Float64Array } {
    assertLabelImage(labels, 'labelAreas labels');
    this.checkCapacity(labels, 'labelAreas');
    try {
      return this.backend.bindings.labelAreas(labels.data, labels.width, labels.height);
    } catch (err) {
      rethrow(err, 'labelAreas');
    }
  }

  /** A copy of `labels` with every id in `ids` set to 0 (absent ids, duplicates and 0 are harmless). */
  removeLabels(labels: Image2D<Uint32Array>, ids: Uint32Array): Image2D<Uint32Array> {
    assertLabelImage(labels, 'removeLabels labels');
    if (!isTypedArrayOf(ids, Uint32Array)) {
      throw new InputError(`removeLabels: ids must be a Uint32Array, got ${(ids as object)?.constructor?.name ?? typeof ids}`, 'ERR_SCSEG_DTYPE');
    }
    this.checkCapacity(labels, 'removeLabels');
    const out = new Uint32Array(labels.data.length);
    try {
      this.backend.bindings.removeLabels(labels.data, labels.width, labels.height, ids, out);
    } catch (err) {
      rethrow(err, 'removeLabels');
    }
    return { data: out, width: labels.width, height: labels.height };
  }

  /**
   * contact_filter(labels, threshold, reindex=False, background=0): per id (0 included) two counters start
   * at 1; every interior pixel (not in the first/last row/column) of id c adds, over its 4 neighbours n,
   * [n == 0] to bg[c] and [n != c] to other[c]. Ids ≠ 0 with bg/other < threshold (float64, strict) become 0.
   */
  contactFilter(labels: Image2D<Uint32Array>, threshold: number): Image2D<Uint32Array> {
    assertLabelImage(labels, 'contactFilter labels');
    assertFiniteNumber(threshold, 'contactFilter threshold');
    this.checkCapacity(labels, 'contactFilter');
    const out = new Uint32Array(labels.data.length);
    try {
      this.backend.bindings.contactFilter(labels.data, labels.width, labels.height, threshold, out);
    } catch (err) {
      rethrow(err, 'contactFilter');
    }
    return { data: out, width: labels.width, height: labels.height };
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
    assertLabelImage(nucleus, 'matchNucleusCytosol nucleus');
    assertLabelImage(cytosol, 'matchNucleusCytosol cytosol');
    assertSameShape(nucleus, cytosol, 'matchNucleusCytosol nucleus', 'matchNucleusCytosol cytosol');
    assertFiniteNumber(threshold, 'matchNucleusCytosol threshold');
    this.checkCapacity(nucleus, 'matchNucleusCytosol');
    const { width, height } = nucleus;
    const nucleusOut = new Uint32Array(nucleus.data.length);
    const cytosolOut = new Uint32Array(cytosol.data.length);
    try {
      this.backend.bindings.matchNucleusCytosol(nucleus.data, cytosol.data, width, height, threshold, nucleusOut, cytosolOut);
    } catch (err) {
      rethrow(err, 'matchNucleusCytosol');
    }
    return { nucleus: { data: nucleusOut, width, height }, cytosol: { data: cytosolOut, width, height } };
  }

  // ── distance kernels (native/edt.hpp, native/peaks.hpp) ───────────────────────────────────────────────────

  /**
   * scipy.ndimage.distance_transform_edt(mask), bit-identical: for each non-zero pixel the Euclidean distance
   * to the nearest zero pixel inside the image (the border is not background), 0 on zero pixels, float64
   * (sqrt of the exact integer squared distance). A mask with no zero pixel reproduces scipy's answer for that
   * case: pixel (y, x) gets sqrt((y + 1)² + x²).
   */
  distanceTransform(mask: Image2D<Uint8Array>): Image2D<Float64Array> {
    assertTypedImage(mask, [Uint8Array], 'distanceTransform mask');
    this.checkCapacity(mask, 'distanceTransform');
    const out = new Float64Array(mask.data.length);
    try {
      this.backend.bindings.distanceTransform(mask.data, mask.width, mask.height, out);
    } catch (err) {
      rethrow(err, 'distanceTransform');
    }
    return { data: out, width: mask.width, height: mask.height };
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
    assertTypedImage(image, [Float64Array], 'peakLocalMax image');
    assertIntegerInRange(minDistance, 0, 2 ** 31 - 1, 'peakLocalMax minDistance');
    assertIntegerInRange(footprintRadius, 0, MAX_PEAK_FOOTPRINT_RADIUS, 'peakLocalMax footprintRadius');
    // NaN is rejected by the kernel itself (ERR_SCSEG_VALUE → InputError) in its min/max pass: no second scan here.
    this.checkCapacity(image, 'peakLocalMax');
    try {
      // Copied into this realm's Int32Array: the native addon creates its arrays in the main realm, which
      // breaks `instanceof` checks in vm contexts (jest) downstream. Peaks are few; the copy is free.
      return new Int32Array(
        this.backend.bindings.peakLocalMax(image.data, image.width, image.height, minDistance, footprintRadius),
      );
    } catch (err) {
      rethrow(err, 'peakLocalMax');
    }
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
    assertFmmMasks(seeds, allowed, 'fmmDistance');
    this.checkCapacity(seeds, 'fmmDistance', WASM_MAX_FMM_PIXELS);
    const out = new Float64Array(seeds.data.length);
    try {
      this.backend.bindings.fmmDistance(seeds.data, allowed.data, seeds.width, seeds.height, out);
    } catch (err) {
      rethrow(err, 'fmmDistance');
    }
    return { data: out, width: seeds.width, height: seeds.height };
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
  ): Image2D<Uint32Array> {
    assertFmmMasks(seeds, allowed, 'distanceWatershed');
    assertLabelImage(markers, 'distanceWatershed markers');
    assertSameShape(seeds, markers, 'distanceWatershed seeds', 'distanceWatershed markers');
    this.checkCapacity(seeds, 'distanceWatershed', WASM_MAX_FMM_PIXELS);
    const { width, height } = seeds;
    const labels = new Uint32Array(seeds.data.length);
    try {
      this.backend.bindings.distanceWatershed(seeds.data, allowed.data, markers.data, width, height, labels);
    } catch (err) {
      rethrow(err, 'distanceWatershed');
    }
    return { data: labels, width, height };
  }

  /**
   * skfmm.travel_time(phi, speed, dx=1) as scPortrait calls it, bit-identical to scikit-fmm 2022.08: the
   * arrival time from the seed pixels through the allowed pixels at `speed` (Float64Array of the same shape,
   * finite and > 0 everywhere, else InputError ERR_SCSEG_VALUE; like skfmm, pixels slower than
   * Number.EPSILON count as not allowed). Seeds, +Infinity and the no-seed case as in fmmDistance.
   */
  travelTime(seeds: Image2D<Uint8Array>, allowed: Image2D<Uint8Array>, speed: Image2D<Float64Array>): Image2D<Float64Array> {
    assertFmmMasks(seeds, allowed, 'travelTime');
    assertTypedImage(speed, [Float64Array], 'travelTime speed');
    assertSameShape(seeds, speed, 'travelTime seeds', 'travelTime speed');
    assertPositiveSpeed(speed.data, 'travelTime speed');
    this.checkCapacity(seeds, 'travelTime', WASM_MAX_FMM_PIXELS);
    const out = new Float64Array(seeds.data.length);
    try {
      this.backend.bindings.fmmTravelTime(seeds.data, allowed.data, speed.data, seeds.width, seeds.height, out);
    } catch (err) {
      rethrow(err, 'travelTime');
    }
    return { data: out, width: seeds.width, height: seeds.height };
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
    options?: { floodLag?: number; travel?: true },
  ): { travel: Image2D<Float64Array>; labels: Image2D<Uint32Array> };
  travelTimeWatershed(
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    markers: Image2D<Uint32Array>,
    options: { floodLag?: number; travel: false },
  ): { travel: null; labels: Image2D<Uint32Array> };
  travelTimeWatershed(
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    markers: Image2D<Uint32Array>,
    options: { floodLag?: number; travel?: boolean } = {},
  ): { travel: Image2D<Float64Array> | null; labels: Image2D<Uint32Array> } {
    if (options.floodLag !== undefined && !Number.isFinite(options.floodLag)) {
      throw new InputError(`travelTimeWatershed: floodLag must be a finite number, got ${options.floodLag}`, 'ERR_SCSEG_ARGUMENT');
    }
    assertFmmMasks(seeds, allowed, 'travelTimeWatershed');
    assertTypedImage(speed, [Float64Array], 'travelTimeWatershed speed');
    assertSameShape(seeds, speed, 'travelTimeWatershed seeds', 'travelTimeWatershed speed');
    assertPositiveSpeed(speed.data, 'travelTimeWatershed speed');
    assertLabelImage(markers, 'travelTimeWatershed markers');
    assertSameShape(seeds, markers, 'travelTimeWatershed seeds', 'travelTimeWatershed markers');
    this.checkCapacity(seeds, 'travelTimeWatershed', WASM_MAX_FMM_PIXELS);
    const { width, height } = seeds;
    const travel = options.travel === false ? null : new Float64Array(seeds.data.length);
    const labels = new Uint32Array(seeds.data.length);
    try {
      this.backend.bindings.travelTimeWatershed(
        seeds.data, allowed.data, speed.data, markers.data, width, height, travel, labels, options.floodLag,
      );
    } catch (err) {
      rethrow(err, 'travelTimeWatershed');
    }
    return { travel: travel && { data: travel, width, height }, labels: { data: labels, width, height } };
  }
}

function assertFmmMasks(seeds: Image2D<Uint8Array>, allowed: Image2D<Uint8Array>, kernel: string): void {
  assertTypedImage(seeds, [Uint8Array], `${kernel} seeds`);
  assertTypedImage(allowed, [Uint8Array], `${kernel} allowed`);
  assertSameShape(seeds, allowed, `${kernel} seeds`, `${kernel} allowed`);
}

/** Fast-marching speeds must be finite and > 0 (skfmm would silently mask ≤ 0 and produce NaN times for NaN). */
function assertPositiveSpeed(data: Float64Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v > 0) || v === Infinity) {
      throw new InputError(
        `${what} must be finite and > 0 everywhere; found ${String(v)} at index ${i}`,
        'ERR_SCSEG_VALUE',
      );
    }
  }
}

const facades = new Map<BackendName, Kernels>();

/** Kernels on the requested backend (`name`), or on the one SCSEG_BACKEND / auto-detection selects. */
export function kernels(name?: BackendName | 'auto'): Kernels {
  const b = resolveBackend(name);
  let k = facades.get(b.name);
  if (!k) {
    k = new Kernels(b);
    facades.set(b.name, k);
  }
  return k;
}

/** Name of the backend the default facade uses in this thread. */
export function activeBackend(): BackendName {
  return kernels().backendName;
}
