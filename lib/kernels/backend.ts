/**
 * The raw kernel ABI shared by the native addon and the WASM module (both built from native/binding.cpp).
 * Callers pass preallocated outputs; nothing here validates — see validate.ts and index.ts.
 */
import type { PixelArray } from '../image.js';

export type BackendName = 'native' | 'wasm';

export interface KernelBindings {
  medianFilter(input: PixelArray, width: number, height: number, radius: number, output: PixelArray): void;
  // distance kernels (native/binding/distance.cpp)
  distanceTransform(mask: Uint8Array, width: number, height: number, output: Float64Array): void;
  /** Returns the peaks as a new Int32Array [y0, x0, y1, x1, …]. */
  peakLocalMax(image: Float64Array, width: number, height: number, minDistance: number, footprintRadius: number): Int32Array;
  quantiles(input: PixelArray, width: number, height: number, q: Float64Array, output: Float64Array): void;
  percentileNormalize(
    input: PixelArray,
    width: number,
    height: number,
    lower: number,
    upper: number,
    output: Float32Array,
  ): void;
  normalizeRange(input: PixelArray, width: number, height: number, l: number, u: number, output: Float32Array): void;
  wgaSpeedMap(
    channel: PixelArray,
    nuclei: Uint8Array,
    width: number,
    height: number,
    q02: number,
    q98: number,
    minClip: number,
    maxClip: number,
    output: Float64Array,
  ): void;
  binaryErosion(input: Uint8Array, width: number, height: number, radius: number, outside: number, output: Uint8Array): void;
  binaryDilation(input: Uint8Array, width: number, height: number, radius: number, outside: number, output: Uint8Array): void;
  localMedianThreshold(
    input: Float32Array,
    width: number,
    height: number,
    blockSize: number,
    step: number,
    offset: number,
    output: Float32Array,
  ): void;
  otsuThreshold(input: PixelArray, width: number, height: number): number;
  // label kernels (native/binding/labels.cpp); labels are Uint32Array images, 0 = background
  watershed(
    surface: Float64Array | Float32Array,
    markers: Uint32Array,
    mask: Uint8Array | null,
    width: number,
    height: number,
    output: Uint32Array,
    raiseToParent?: boolean,
  ): void;
  labelCentroids(labels: Uint32Array, width: number, height: number): { ids: Uint32Array; y: Float64Array; x: Float64Array };
  labelAreas(labels: Uint32Array, width: number, height: number): { ids: Uint32Array; areas: Float64Array };
  removeLabels(labels: Uint32Array, width: number, height: number, ids: Uint32Array, output: Uint32Array): void;
  removeEdgeLabels(labels: Uint32Array, width: number, height: number, output: Uint32Array): void;
  contactFilter(labels: Uint32Array, width: number, height: number, threshold: number, output: Uint32Array): void;
  matchNucleusCytosol(
    nucleus: Uint32Array,
    cytosol: Uint32Array,
    width: number,
    height: number,
    threshold: number,
    nucleusOut: Uint32Array,
    cytosolOut: Uint32Array,
  ): void;
  // fast-marching kernels (native/binding/fmm.cpp); +Infinity marks masked / unreached pixels
  fmmDistance(seeds: Uint8Array, allowed: Uint8Array, width: number, height: number, output: Float64Array): void;
  distanceWatershed(
    seeds: Uint8Array,
    allowed: Uint8Array,
    markers: Uint32Array,
    width: number,
    height: number,
    labels: Uint32Array,
  ): void;
  fmmTravelTime(
    seeds: Uint8Array,
    allowed: Uint8Array,
    speed: Float64Array,
    width: number,
    height: number,
    output: Float64Array,
  ): void;
  travelTimeWatershed(
    seeds: Uint8Array,
    allowed: Uint8Array,
    speed: Float64Array,
    markers: Uint32Array,
    width: number,
    height: number,
    travel: Float64Array | null,
    labels: Uint32Array,
    floodLag?: number,
  ): void;
}

export interface Backend {
  readonly name: BackendName;
  /** Where the module was loaded from, for diagnostics. */
  readonly path: string;
  readonly bindings: KernelBindings;
}
