/**
 * Argument checks for every kernel, in one place: kernels trust what passes here. `kernelChecks` holds one check
 * per kernel of the facade, against the limits the backend's module exports; the bindings only re-check memory
 * safety (types and lengths).
 */
import { InputError } from '../errors.js';
import type { Image2D, KernelArray, PixelArray } from '../image.js';
import type { BackendName, KernelLimits } from './backend.js';

const PIXEL_TYPES = 'Uint8Array, Uint16Array or Float32Array';
const PIXEL_CTORS = [Uint8Array, Uint16Array, Float32Array] as const;

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

export function assertPixelArray(data: unknown, what: string): asserts data is PixelArray {
  if (!(data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Float32Array) ||
      data instanceof Uint8ClampedArray) {
    throw new InputError(`${what}: pixel data must be a ${PIXEL_TYPES}, got ${typeName(data)}`, 'ERR_SCSEG_DTYPE');
  }
}

export function assertDimension(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InputError(`${what} must be a positive integer, got ${String(value)}`, 'ERR_SCSEG_SHAPE');
  }
}

export function assertImage(image: Image2D, what = 'image'): void {
  assertTypedImage(image, PIXEL_CTORS, what);
  if (image.data instanceof Float32Array) assertNoNaN(image.data, what);
}

export function assertNoNaN(data: Float32Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) {
      throw new InputError(`${what}: contains NaN (first at index ${i}); replace or mask NaNs first`, 'ERR_SCSEG_VALUE');
    }
  }
}

export function assertIntegerInRange(value: unknown, min: number, max: number, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InputError(`${what} must be an integer in [${min}, ${max}], got ${String(value)}`, 'ERR_SCSEG_ARGUMENT');
  }
}

export function assertNumberInRange(value: unknown, min: number, max: number, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InputError(`${what} must be a number in [${min}, ${max}], got ${String(value)}`, 'ERR_SCSEG_ARGUMENT');
  }
}

// ---- label images, surfaces and masks --------------------------------------------------------------------

type TypedArrayCtor = new (n: number) => KernelArray;

/**
 * `value instanceof C` across realms: typed arrays made by the native addon belong to Node's main realm,
 * which is not the realm of code run in a vm context (jest), so instanceof would wrongly fail there.
 */
export function isTypedArrayOf(value: unknown, C: TypedArrayCtor): boolean {
  return Object.prototype.toString.call(value) === `[object ${C.name}]`;
}

/** `image` is { data, width, height } with data one of the typed arrays `ctors` and width×height elements. */
export function assertTypedImage(image: Image2D<KernelArray>, ctors: readonly TypedArrayCtor[], what: string): void {
  if (image === null || typeof image !== 'object') {
    throw new InputError(`${what} must be an object { data, width, height }`, 'ERR_SCSEG_SHAPE');
  }
  const data = image.data as unknown;
  if (!ctors.some((C) => isTypedArrayOf(data, C))) {
    throw new InputError(
      `${what}: data must be a ${ctors.map((C) => C.name).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${typeName(data)}`,
      'ERR_SCSEG_DTYPE',
    );
  }
  assertDimension(image.width, `${what}.width`);
  assertDimension(image.height, `${what}.height`);
  if (image.data.length !== image.width * image.height) {
    throw new InputError(
      `${what}: data has ${image.data.length} elements but width×height = ${image.width}×${image.height} = ` +
        `${image.width * image.height}`,
      'ERR_SCSEG_SHAPE',
    );
  }
}

export function assertLabelImage(image: Image2D<Uint32Array>, what: string): void {
  assertTypedImage(image, [Uint32Array], what);
}

/** Both images have the same width and height. */
export function assertSameShape(a: Image2D<KernelArray>, b: Image2D<KernelArray>, whatA: string, whatB: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new InputError(
      `${whatB} is ${b.width}×${b.height} but ${whatA} is ${a.width}×${a.height}; they must have the same shape`,
      'ERR_SCSEG_SHAPE',
    );
  }
}

/** Float surfaces must be NaN-free (NaN has no place in a priority order). ±Infinity is allowed. */
export function assertNoNaNValues(data: Float32Array | Float64Array, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) {
      throw new InputError(`${what}: contains NaN (first at index ${i}); replace or mask NaNs first`, 'ERR_SCSEG_VALUE');
    }
  }
}

export function assertFiniteNumber(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InputError(`${what} must be a finite number, got ${String(value)}`, 'ERR_SCSEG_ARGUMENT');
  }
}

// ---- thread budgets and capacity ---------------------------------------------------------------------------

/** A thread budget: an integer in [1, max]. */
export function assertThreads(value: unknown, max: number, what = 'threads'): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InputError(`${what} must be an integer in [1, ${max}], got ${String(value)}`, 'ERR_SCSEG_ARGUMENT');
  }
}

/** The fast-marching kernels hold more state per pixel: limits.maxFastMarchingPixels bounds them. */
const FAST_MARCHING = new Set<KernelName>(['fmmDistance', 'distanceWatershed', 'travelTime']);
/** So do the Cellpose dynamics: limits.maxCellposePixels. */
const CELLPOSE = new Set<KernelName>(['cellposeMasks', 'cellposeCleanMasks', 'cellposeMasksToFlows', 'cellposeBlendTiles']);

/** A backend as messages name it. */
export function backendTitle(backend: BackendName): string {
  return backend === 'wasm' ? 'WASM' : backend;
}

/** What to do with an image too large for `backend` (ERR_SCSEG_TOO_LARGE's advice): the native backend, sharding. */
export function tooLargeAdvice(backend: BackendName, sharded = 'which works on windows of it'): string {
  return `${backend === 'wasm' ? 'use the native backend, or ' : ''}segment it sharded (--shard-size, ShardedSegmentation), ${sharded}`;
}

/** The image fits the backend's memory (only WASM's 4 GiB ever binds, and torch's int32 histogram natively). */
export function assertCapacity(kernel: KernelName, shape: Shape, limits: KernelLimits, backend: BackendName): void {
  const max = CELLPOSE.has(kernel)
    ? limits.maxCellposePixels
    : FAST_MARCHING.has(kernel)
      ? limits.maxFastMarchingPixels
      : kernel === 'travelTimeWatershed'
        ? limits.maxTravelWatershedPixels
        : limits.maxPixels;
  if (shape.width * shape.height > max) {
    throw new InputError(
      `${kernel}: ${shape.width}×${shape.height} exceeds what the ${backendTitle(backend)} backend can hold ` +
        `(${max} pixels${backend === 'wasm' ? ' in its 4 GiB memory' : ''}); ${tooLargeAdvice(backend)}`,
      'ERR_SCSEG_TOO_LARGE',
    );
  }
}

/**
 * An image of width × height (sizes as read from a file header: anything up to 2^64) can be held whole by the
 * backend's kernels — checked in 64-bit before any of it is read or allocated.
 */
export function assertImageFits(what: string, width: number, height: number, limits: KernelLimits, backend: BackendName): void {
  const pixels = BigInt(width) * BigInt(height);
  if (pixels > BigInt(limits.maxPixels)) {
    throw new InputError(
      `${what}: ${width}×${height} (${pixels} pixels) is more than the ${backendTitle(backend)} backend ` +
        `can hold in memory (${limits.maxPixels} pixels${backend === 'wasm' ? ' in its 4 GiB' : ''}); ` +
        tooLargeAdvice(backend, 'which reads it window by window'),
      'ERR_SCSEG_TOO_LARGE',
    );
  }
}

// ---- per-kernel checks -------------------------------------------------------------------------------------

/** The shape a kernel call works on (its capacity is checked against it). */
export type Shape = Pick<Image2D, 'width' | 'height'>;

function assertMask(mask: Image2D<Uint8Array>, kernel: string): void {
  assertImage(mask, `${kernel} mask`);
  if (!(mask.data instanceof Uint8Array)) {
    const got = (mask.data as object).constructor.name;
    throw new InputError(`${kernel}: mask data must be a Uint8Array of 0/1, got ${got}`, 'ERR_SCSEG_DTYPE');
  }
}

/** An options argument is an object (a default `= {}` covers only undefined, not null). */
function assertOptions(options: unknown, kernel: string, expected: string): void {
  if (options === null || typeof options !== 'object') {
    throw new InputError(`${kernel} options must be an object ${expected}, got ${typeName(options)}`, 'ERR_SCSEG_ARGUMENT');
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
      throw new InputError(`${what} must be finite and > 0 everywhere; found ${String(v)} at index ${i}`, 'ERR_SCSEG_VALUE');
    }
  }
}

function diskMorphology(kernel: string, limits: KernelLimits, mask: Image2D<Uint8Array>, radius: number, outside: 0 | 1): Shape {
  assertMask(mask, kernel);
  assertIntegerInRange(radius, 0, limits.maxMorphologyRadius, `${kernel} radius`);
  assertOutside(outside, kernel);
  return mask;
}

/**
 * A flow field as Cellpose's dP: { data, width, height } with data a Float32Array of 2 × width × height elements,
 * the dY plane then the dX plane.
 */
export interface FlowField {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/**
 * cellposeBlendTiles' tiles: the network's outputs of each tile and where each tile lies in the region blended
 * (Cellpose's average_tiles).
 */
export interface TileBlend {
  /** The tiles' outputs, [tiles, channels, tileHeight, tileWidth]. */
  readonly y: Float32Array;
  /** Each tile's top-left pixel as (row, column) in the region's coordinates; tiles may reach outside the region. */
  readonly origins: Int32Array;
  /** The taper mask, [tileHeight, tileWidth]. */
  readonly mask: Float64Array;
  readonly channels: number;
  readonly tileHeight: number;
  readonly tileWidth: number;
}

function assertTileBlend(t: TileBlend, region: { width: number; height: number }): Shape {
  assertOptions(t, 'cellposeBlendTiles', '{ y, origins, mask, channels, tileHeight, tileWidth }');
  const what = (k: string) => `cellposeBlendTiles ${k}`;
  for (const [k, C] of [['y', Float32Array], ['origins', Int32Array], ['mask', Float64Array]] as const) {
    if (!isTypedArrayOf(t[k], C)) throw new InputError(`${what(k)} must be a ${C.name}, got ${typeName(t[k])}`, 'ERR_SCSEG_DTYPE');
  }
  assertIntegerInRange(t.channels, 1, 64, what('channels'));
  assertIntegerInRange(t.tileHeight, 1, 1 << 16, what('tileHeight'));
  assertIntegerInRange(t.tileWidth, 1, 1 << 16, what('tileWidth'));
  assertOptions(region, 'cellposeBlendTiles', 'the region { width, height }');
  assertIntegerInRange(region.width, 1, Number.MAX_SAFE_INTEGER, what('width'));
  assertIntegerInRange(region.height, 1, Number.MAX_SAFE_INTEGER, what('height'));
  const tile = t.tileHeight * t.tileWidth;
  if (t.origins.length % 2 !== 0) throw new InputError(`${what('origins')} must hold (row, column) pairs, got ${t.origins.length} values`, 'ERR_SCSEG_SHAPE');
  if (t.mask.length !== tile) throw new InputError(`${what('mask')} must have ${tile} values (tileHeight × tileWidth), got ${t.mask.length}`, 'ERR_SCSEG_SHAPE');
  const want = (t.origins.length / 2) * t.channels * tile;
  if (t.y.length !== want) {
    throw new InputError(`${what('y')} must have ${want} values (${t.origins.length / 2} tiles × ${t.channels} × ${t.tileHeight} × ${t.tileWidth}), got ${t.y.length}`, 'ERR_SCSEG_SHAPE');
  }
  return { width: region.width, height: region.height };
}

/** cellposeMasks' options; every one but niter has Cellpose's default. */
export interface CellposeMaskOptions {
  /** Euler steps of the flow dynamics (Cellpose: 200 / rescale, truncated), an integer ≥ 1. */
  readonly niter: number;
  /** Pixels with cellprob > this (compared in float32) follow the flows. Default 0. */
  readonly cellprobThreshold?: number;
  /** Masks whose flow error exceeds this are removed; 0 skips the step. Default 0.4. */
  readonly flowThreshold?: number;
  /** Masks smaller than this (pixels) are removed; ≤ 0 removes none (holes are still filled). Default 15. */
  readonly minSize?: number;
  /** Masks larger than this fraction of the image are removed. Default 0.4. */
  readonly maxSizeFraction?: number;
  /**
   * The image's pixel count that maxSizeFraction applies to. Default (0): these flows' width × height; a window of a
   * larger image passes the whole image's count, so the window removes the same masks.
   */
  readonly imagePixels?: number;
  /** false (default): Cellpose's label-gap quirk in the small-mask removal, for parity; true: what it meant. */
  readonly fixLabelGapQuirk?: boolean;
  /**
   * true (default): fill holes and remove small masks (Cellpose's `fill_holes_and_remove_small_masks`); false: stop
   * after the flow-error step, for callers that resize the masks first and then run `cellposeCleanMasks`.
   */
  readonly clean?: boolean;
  /**
   * true (default): Euler steps with bilinear interpolation of the flows (`steps_interp`); false: the flow at the
   * truncated position (`steps2D`), what Cellpose's size model runs (`eval(interp=False)`).
   */
  readonly interp?: boolean;
}

/** `cellposeCleanMasks`' options (Cellpose's defaults). */
export interface CellposeCleanOptions {
  /** Masks smaller than this (pixels) are removed; ≤ 0 removes none (holes are still filled). Default 15. */
  readonly minSize?: number;
  /** See CellposeMaskOptions.fixLabelGapQuirk. */
  readonly fixLabelGapQuirk?: boolean;
}

/** CellposeMaskOptions with every default filled in. */
export type ResolvedCellposeMaskOptions = Required<CellposeMaskOptions>;

function assertFlowField(flows: FlowField, what: string): void {
  if (flows === null || typeof flows !== 'object') {
    throw new InputError(`${what} must be an object { data, width, height } (data: [2, height, width])`, 'ERR_SCSEG_SHAPE');
  }
  if (!isTypedArrayOf(flows.data, Float32Array)) {
    throw new InputError(`${what}: data must be a Float32Array, got ${typeName(flows.data)}`, 'ERR_SCSEG_DTYPE');
  }
  assertDimension(flows.width, `${what}.width`);
  assertDimension(flows.height, `${what}.height`);
  if (flows.data.length !== 2 * flows.width * flows.height) {
    throw new InputError(
      `${what}: data has ${flows.data.length} elements but a [2, height, width] flow field of ${flows.width}×${flows.height} ` +
        `has ${2 * flows.width * flows.height}`,
      'ERR_SCSEG_SHAPE',
    );
  }
}

/** Checks cellposeMasks' options and fills in Cellpose's defaults. */
export function resolveCellposeMaskOptions(options: CellposeMaskOptions, limits: KernelLimits): ResolvedCellposeMaskOptions {
  if (options === null || typeof options !== 'object') {
    throw new InputError('cellposeMasks options must be an object { niter, cellprobThreshold?, flowThreshold?, … }', 'ERR_SCSEG_ARGUMENT');
  }
  const o = {
    niter: options.niter,
    cellprobThreshold: options.cellprobThreshold ?? 0,
    flowThreshold: options.flowThreshold ?? 0.4,
    minSize: options.minSize ?? 15,
    maxSizeFraction: options.maxSizeFraction ?? 0.4,
    imagePixels: options.imagePixels ?? 0,
    fixLabelGapQuirk: options.fixLabelGapQuirk ?? false,
    clean: options.clean ?? true,
    interp: options.interp ?? true,
  };
  assertIntegerInRange(o.niter, 1, limits.maxCellposeIterations, 'cellposeMasks niter');
  assertFiniteNumber(o.cellprobThreshold, 'cellposeMasks cellprobThreshold');
  assertNumberInRange(o.flowThreshold, 0, Number.MAX_VALUE, 'cellposeMasks flowThreshold');
  assertIntegerInRange(o.minSize, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'cellposeMasks minSize');
  assertNumberInRange(o.maxSizeFraction, 0, Number.MAX_VALUE, 'cellposeMasks maxSizeFraction');
  assertNumberInRange(o.imagePixels, 0, Number.MAX_VALUE, 'cellposeMasks imagePixels');
  if (typeof o.fixLabelGapQuirk !== 'boolean') {
    throw new InputError(`cellposeMasks fixLabelGapQuirk must be a boolean, got ${String(o.fixLabelGapQuirk)}`, 'ERR_SCSEG_ARGUMENT');
  }
  for (const key of ['clean', 'interp'] as const) {
    if (typeof o[key] !== 'boolean') {
      throw new InputError(`cellposeMasks ${key} must be a boolean, got ${String(o[key])}`, 'ERR_SCSEG_ARGUMENT');
    }
  }
  return o;
}

/** Checks cellposeCleanMasks' options and fills in Cellpose's defaults. */
export function resolveCellposeCleanOptions(options: CellposeCleanOptions): Required<CellposeCleanOptions> {
  if (options === null || typeof options !== 'object') {
    throw new InputError('cellposeCleanMasks options must be an object { minSize?, fixLabelGapQuirk? }', 'ERR_SCSEG_ARGUMENT');
  }
  const o = { minSize: options.minSize ?? 15, fixLabelGapQuirk: options.fixLabelGapQuirk ?? false };
  assertIntegerInRange(o.minSize, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'cellposeCleanMasks minSize');
  if (typeof o.fixLabelGapQuirk !== 'boolean') {
    throw new InputError(`cellposeCleanMasks fixLabelGapQuirk must be a boolean, got ${String(o.fixLabelGapQuirk)}`, 'ERR_SCSEG_ARGUMENT');
  }
  return o;
}

function speedAndSeeds(kernel: string, seeds: Image2D<Uint8Array>, allowed: Image2D<Uint8Array>, speed: Image2D<Float64Array>): void {
  assertFmmMasks(seeds, allowed, kernel);
  assertTypedImage(speed, [Float64Array], `${kernel} speed`);
  assertSameShape(seeds, speed, `${kernel} seeds`, `${kernel} speed`);
  assertPositiveSpeed(speed.data, `${kernel} speed`);
}

/** qcOverlay's parameters (lib/io/overlay.ts computes them): downsampling, the grey stretch, the outline colours. */
export interface QcOverlayParams {
  /** An integer ≥ 1: the overlay is ceil(width / factor) × ceil(height / factor), each pixel a factor² block. */
  readonly factor: number;
  /**
   * Grey = Math.round((value − p0) · scale) clamped to 0..255; a NaN result (∞ · 0, a NaN p0) gives 0. Any p0 (a
   * percentile of a background holding ±Infinity may be NaN); scale ≥ 0.
   */
  readonly p0: number;
  readonly scale: number;
  /** Outline colours, [r, g, b] with integers 0..255: mask k gets colors[k % colors.length]; at least one if masks. */
  readonly colors: readonly (readonly number[])[];
}

/** A value in a message: numbers as written, anything else (a Symbol, a BigInt, an object) by its type. */
function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeName(v);
}

function assertQcOverlayParams(params: QcOverlayParams, maskCount: number): void {
  assertOptions(params, 'qcOverlay', '{ factor, p0, scale, colors }');
  assertIntegerInRange(params.factor, 1, Number.MAX_SAFE_INTEGER, 'qcOverlay factor');
  if (typeof params.p0 !== 'number') {
    throw new InputError(`qcOverlay p0 must be a number, got ${typeName(params.p0)}`, 'ERR_SCSEG_ARGUMENT');
  }
  if (typeof params.scale !== 'number' || !(params.scale >= 0)) {
    throw new InputError(`qcOverlay scale must be a number ≥ 0, got ${shown(params.scale)}`, 'ERR_SCSEG_ARGUMENT');
  }
  const colors = params.colors as unknown;
  if (!Array.isArray(colors) || (maskCount > 0 && colors.length === 0)) {
    throw new InputError('qcOverlay colors must be an array of [r, g, b] (at least one when there are masks)', 'ERR_SCSEG_ARGUMENT');
  }
  colors.forEach((c: unknown, i) => {
    if (!Array.isArray(c) || c.length !== 3 || !c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
      const got = Array.isArray(c) ? `[${c.map(shown).join(', ')}]` : shown(c);
      throw new InputError(`qcOverlay colors[${i}] must be [r, g, b] with integers 0–255, got ${got}`, 'ERR_SCSEG_ARGUMENT');
    }
  });
}

/** One check per facade kernel: throws InputError for anything the kernel does not accept, returns its shape. */
export const kernelChecks = {
  medianFilter(limits: KernelLimits, image: Image2D, radius: number): Shape {
    assertImage(image);
    assertIntegerInRange(radius, 0, limits.maxMedianRadius, 'medianFilter radius');
    return image;
  },
  quantiles(_limits: KernelLimits, image: Image2D, q: readonly number[]): Shape {
    assertImage(image);
    if (!Array.isArray(q) && !(ArrayBuffer.isView(q) && !(q instanceof DataView))) {
      throw new InputError(`quantiles: q must be an array of numbers in [0, 1], got ${typeName(q)}`, 'ERR_SCSEG_ARGUMENT');
    }
    q.forEach((v, i) => assertNumberInRange(v, 0, 1, `quantiles q[${i}]`));
    return image;
  },
  percentileNormalize(_limits: KernelLimits, image: Image2D, lower: number, upper: number): Shape {
    assertImage(image);
    assertNumberInRange(lower, 0, 1, 'percentileNormalize lower quantile');
    assertNumberInRange(upper, 0, 1, 'percentileNormalize upper quantile');
    return image;
  },
  normalizeRange(_limits: KernelLimits, image: Image2D, l: number, u: number): Shape {
    assertImage(image);
    if (!Number.isFinite(l) || !Number.isFinite(u)) {
      throw new InputError(`normalizeRange: quantiles must be finite numbers, got ${String(l)} and ${String(u)}`, 'ERR_SCSEG_ARGUMENT');
    }
    return image;
  },
  wgaSpeedMap(
    _limits: KernelLimits,
    channel: Image2D,
    nuclei: Image2D<Uint8Array>,
    quantiles: readonly [number, number],
    clip: { min: number; max: number },
  ): Shape {
    assertImage(channel);
    assertTypedImage(nuclei, [Uint8Array], 'wgaSpeedMap nuclei');
    assertSameShape(channel, nuclei, 'wgaSpeedMap channel', 'wgaSpeedMap nuclei');
    if (!Array.isArray(quantiles) || quantiles.length !== 2 || quantiles.some((v) => typeof v !== 'number')) {
      throw new InputError('wgaSpeedMap: quantiles must be [q02, q98], two numbers', 'ERR_SCSEG_ARGUMENT');
    }
    if (clip === null || typeof clip !== 'object') {
      throw new InputError(`wgaSpeedMap: clip must be { min, max }, got ${typeName(clip)}`, 'ERR_SCSEG_ARGUMENT');
    }
    if (!(Number.isFinite(clip.min) && Number.isFinite(clip.max) && clip.max > clip.min)) {
      throw new InputError(`wgaSpeedMap: clip range must satisfy min < max, got [${String(clip.min)}, ${String(clip.max)}]`, 'ERR_SCSEG_ARGUMENT');
    }
    return channel;
  },
  binaryErosion(limits: KernelLimits, mask: Image2D<Uint8Array>, radius: number, outside: 0 | 1): Shape {
    return diskMorphology('binaryErosion', limits, mask, radius, outside);
  },
  binaryDilation(limits: KernelLimits, mask: Image2D<Uint8Array>, radius: number, outside: 0 | 1): Shape {
    return diskMorphology('binaryDilation', limits, mask, radius, outside);
  },
  localMedianThreshold(limits: KernelLimits, image: Image2D<Float32Array>, blockSize: number, step: number, offset: number): Shape {
    assertImage(image);
    if (!(image.data instanceof Float32Array)) {
      throw new InputError(
        'localMedianThreshold: image must be float32 (the normalised nucleus channel), got ' +
          (image.data as object).constructor.name,
        'ERR_SCSEG_DTYPE',
      );
    }
    assertIntegerInRange(blockSize, 1, limits.maxMedianBlock, 'localMedianThreshold blockSize (median_block)');
    if (blockSize % 2 === 0) {
      throw new InputError(`localMedianThreshold blockSize (median_block) must be odd, got ${blockSize}`, 'ERR_SCSEG_ARGUMENT');
    }
    assertIntegerInRange(step, 1, 2 ** 31 - 1, 'localMedianThreshold step (median_step)');
    assertNumberInRange(offset, -1e38, 1e38, 'localMedianThreshold offset');
    return image;
  },
  otsuThreshold(_limits: KernelLimits, image: Image2D): Shape {
    assertImage(image);
    return image;
  },
  watershed(
    _limits: KernelLimits,
    surface: Image2D<Float64Array | Float32Array>,
    markers: Image2D<Uint32Array>,
    mask: Image2D<Uint8Array> | null,
    options: { raiseToParent?: boolean; markerRanks?: Int32Array },
  ): Shape {
    assertTypedImage(surface, [Float64Array, Float32Array], 'watershed surface');
    assertLabelImage(markers, 'watershed markers');
    assertSameShape(surface, markers, 'watershed surface', 'watershed markers');
    if (mask !== null) {
      assertTypedImage(mask, [Uint8Array], 'watershed mask');
      assertSameShape(surface, mask, 'watershed surface', 'watershed mask');
    }
    if (options === null || typeof options !== 'object' || !['undefined', 'boolean'].includes(typeof options.raiseToParent)) {
      throw new InputError('watershed options must be { raiseToParent?: boolean, markerRanks?: Int32Array }', 'ERR_SCSEG_ARGUMENT');
    }
    assertMarkerRanks(options.markerRanks, markers.data, 'watershed');
    assertNoNaNValues(surface.data, 'watershed surface');
    return surface;
  },
  labelCentroids(_limits: KernelLimits, labels: Image2D<Uint32Array>): Shape {
    assertLabelImage(labels, 'labelCentroids labels');
    return labels;
  },
  removeEdgeLabels(_limits: KernelLimits, labels: Image2D<Uint32Array>): Shape {
    assertLabelImage(labels, 'removeEdgeLabels labels');
    return labels;
  },
  labelAreas(_limits: KernelLimits, labels: Image2D<Uint32Array>): Shape {
    assertLabelImage(labels, 'labelAreas labels');
    return labels;
  },
  removeLabels(_limits: KernelLimits, labels: Image2D<Uint32Array>, ids: Uint32Array): Shape {
    assertLabelImage(labels, 'removeLabels labels');
    if (!isTypedArrayOf(ids, Uint32Array)) {
      throw new InputError(`removeLabels: ids must be a Uint32Array, got ${typeName(ids)}`, 'ERR_SCSEG_DTYPE');
    }
    return labels;
  },
  contactFilter(_limits: KernelLimits, labels: Image2D<Uint32Array>, threshold: number): Shape {
    assertLabelImage(labels, 'contactFilter labels');
    assertFiniteNumber(threshold, 'contactFilter threshold');
    return labels;
  },
  matchNucleusCytosol(
    _limits: KernelLimits,
    nucleus: Image2D<Uint32Array>,
    cytosol: Image2D<Uint32Array>,
    threshold: number,
  ): Shape {
    assertLabelImage(nucleus, 'matchNucleusCytosol nucleus');
    assertLabelImage(cytosol, 'matchNucleusCytosol cytosol');
    assertSameShape(nucleus, cytosol, 'matchNucleusCytosol nucleus', 'matchNucleusCytosol cytosol');
    assertFiniteNumber(threshold, 'matchNucleusCytosol threshold');
    return nucleus;
  },
  distanceTransform(_limits: KernelLimits, mask: Image2D<Uint8Array>): Shape {
    assertTypedImage(mask, [Uint8Array], 'distanceTransform mask');
    return mask;
  },
  peakLocalMax(limits: KernelLimits, image: Image2D<Float64Array>, minDistance: number, footprintRadius: number): Shape {
    assertTypedImage(image, [Float64Array], 'peakLocalMax image');
    assertIntegerInRange(minDistance, 0, 2 ** 31 - 1, 'peakLocalMax minDistance');
    assertIntegerInRange(footprintRadius, 0, limits.maxPeakFootprintRadius, 'peakLocalMax footprintRadius');
    // NaN is rejected by the kernel itself (ERR_SCSEG_VALUE → InputError) in its min/max pass: no second scan here.
    return image;
  },
  fmmDistance(_limits: KernelLimits, seeds: Image2D<Uint8Array>, allowed: Image2D<Uint8Array>): Shape {
    assertFmmMasks(seeds, allowed, 'fmmDistance');
    return seeds;
  },
  distanceWatershed(
    _limits: KernelLimits,
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    markers: Image2D<Uint32Array>,
    options: { markerRanks?: Int32Array },
  ): Shape {
    assertOptions(options, 'distanceWatershed', '{ markerRanks?: Int32Array }');
    assertFmmMasks(seeds, allowed, 'distanceWatershed');
    assertLabelImage(markers, 'distanceWatershed markers');
    assertSameShape(seeds, markers, 'distanceWatershed seeds', 'distanceWatershed markers');
    assertMarkerRanks(options.markerRanks, markers.data, 'distanceWatershed');
    return seeds;
  },
  travelTime(
    _limits: KernelLimits,
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    options: { targets?: Image2D<Uint8Array> },
  ): Shape {
    assertOptions(options, 'travelTime', '{ targets?: mask image }');
    speedAndSeeds('travelTime', seeds, allowed, speed);
    if (options.targets !== undefined) {
      assertMask(options.targets, 'travelTime targets');
      assertSameShape(seeds, options.targets, 'travelTime seeds', 'travelTime targets');
    }
    return seeds;
  },
  travelTimeWatershed(
    _limits: KernelLimits,
    seeds: Image2D<Uint8Array>,
    allowed: Image2D<Uint8Array>,
    speed: Image2D<Float64Array>,
    markers: Image2D<Uint32Array>,
    options: { floodLag?: number; travel?: boolean; markerRanks?: Int32Array },
  ): Shape {
    assertOptions(options, 'travelTimeWatershed', '{ floodLag?, travel?, markerRanks? }');
    if (options.floodLag !== undefined && !Number.isFinite(options.floodLag)) {
      throw new InputError(`travelTimeWatershed: floodLag must be a finite number, got ${String(options.floodLag)}`, 'ERR_SCSEG_ARGUMENT');
    }
    speedAndSeeds('travelTimeWatershed', seeds, allowed, speed);
    assertLabelImage(markers, 'travelTimeWatershed markers');
    assertSameShape(seeds, markers, 'travelTimeWatershed seeds', 'travelTimeWatershed markers');
    assertMarkerRanks(options.markerRanks, markers.data, 'travelTimeWatershed');
    return seeds;
  },
  cellposeMasks(limits: KernelLimits, dP: FlowField, cellprob: Image2D<Float32Array>, options: CellposeMaskOptions): Shape {
    assertFlowField(dP, 'cellposeMasks dP');
    assertTypedImage(cellprob, [Float32Array], 'cellposeMasks cellprob');
    assertSameShape(dP, cellprob, 'cellposeMasks dP', 'cellposeMasks cellprob');
    resolveCellposeMaskOptions(options, limits);
    // Non-finite flows are rejected by the kernel itself (ERR_SCSEG_VALUE → InputError): no second scan here.
    return dP;
  },
  cellposeCleanMasks(_limits: KernelLimits, labels: Image2D<Uint32Array>, options: CellposeCleanOptions): Shape {
    assertLabelImage(labels, 'cellposeCleanMasks labels');
    resolveCellposeCleanOptions(options);
    return labels;
  },
  cellposeMasksToFlows(_limits: KernelLimits, labels: Image2D<Uint32Array>): Shape {
    assertLabelImage(labels, 'cellposeMasksToFlows labels');
    return labels;
  },
  // NaN and ±Infinity in the outputs are carried through (cellposeMasks rejects non-finite flows): no value check.
  cellposeBlendTiles(_limits: KernelLimits, tiles: TileBlend, region: { width: number; height: number }): Shape {
    return assertTileBlend(tiles, region);
  },
  qcOverlay(_limits: KernelLimits, background: Image2D, masks: readonly Image2D<Uint32Array>[], params: QcOverlayParams): Shape {
    // NaN and ±Infinity are part of what the overlay shows (NaN pixels are skipped): no value check.
    assertTypedImage(background, PIXEL_CTORS, 'qcOverlay background');
    if (!Array.isArray(masks)) {
      throw new InputError(`qcOverlay masks must be an array of label images, got ${typeName(masks)}`, 'ERR_SCSEG_ARGUMENT');
    }
    masks.forEach((m, i) => {
      assertLabelImage(m, `qcOverlay masks[${i}]`);
      assertSameShape(background, m, 'qcOverlay background', `qcOverlay masks[${i}]`);
    });
    assertQcOverlayParams(params, masks.length);
    return background;
  },
};

export type KernelName = keyof typeof kernelChecks;

/** An explicit marker order: one distinct rank ≥ 0 per non-zero marker, in raster order of the markers. */
function assertMarkerRanks(ranks: Int32Array | undefined, markers: Uint32Array, kernel: string): void {
  if (ranks === undefined) return;
  if (!isTypedArrayOf(ranks, Int32Array)) {
    throw new InputError(`${kernel}: markerRanks must be an Int32Array, got ${typeName(ranks)}`, 'ERR_SCSEG_DTYPE');
  }
  let count = 0;
  for (let i = 0; i < markers.length; i++) count += +(markers[i] !== 0);
  if (ranks.length !== count) {
    throw new InputError(`${kernel}: markerRanks has ${ranks.length} ranks for ${count} markers`, 'ERR_SCSEG_SHAPE');
  }
  const sorted = Int32Array.from(ranks).sort();
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i] < 0 || (i > 0 && sorted[i] === sorted[i - 1])) {
      throw new InputError(`${kernel}: markerRanks must be distinct and ≥ 0 (found ${sorted[i]})`, 'ERR_SCSEG_ARGUMENT');
    }
  }
}
/** The facade arguments of a kernel, as its check takes them. */
export type KernelArgs<K extends KernelName> = (typeof kernelChecks)[K] extends (limits: KernelLimits, ...args: infer A) => Shape
  ? A
  : never;
