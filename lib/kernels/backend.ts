/**
 * What a kernel backend is: the raw kernel ABI shared by the native addon and the WASM module (both built from
 * native/binding/), the limits the module exports, and the `Backend` interface the registry resolves
 * (onnxruntime-js's pattern). Environment-neutral: no Node import here.
 * Callers pass preallocated outputs; nothing in the ABI validates beyond memory safety — see validate.ts.
 */
import { BackendError } from '../errors.js';
import type { PixelArray } from '../image.js';

export type BackendName = 'native' | 'wasm';

/** native/limits.hpp as the module exports it: every bound a kernel puts on its arguments. */
export interface KernelLimits {
  readonly maxMedianRadius: number;
  readonly maxMorphologyRadius: number;
  readonly maxPeakFootprintRadius: number;
  readonly maxMedianBlock: number;
  /** Largest thread budget of one call. */
  readonly maxThreads: number;
  /** Pixels per image the module's memory holds (WASM: 4 GiB of linear memory; native: 2^53 − 1). */
  readonly maxPixels: number;
  /** The same for the fast-marching kernels, which hold more state per pixel. */
  readonly maxFastMarchingPixels: number;
  /** The same for travelTimeWatershed (WGA's cytosol: march and flood at once, in one run's memory). */
  readonly maxTravelWatershedPixels: number;
  /** The same for the Cellpose dynamics (WASM: ~50 bytes per pixel in 4 GiB; native: torch's int32 histogram). */
  readonly maxCellposePixels: number;
  /** Largest `niter` (Euler steps) of cellposeMasks. */
  readonly maxCellposeIterations: number;
}

/**
 * The raw kernels. `threads` is the call's thread budget (1..limits.maxThreads); the WASM build accepts it and
 * runs on the calling thread.
 */
export interface KernelBindings {
  readonly limits: KernelLimits;
  medianFilter(input: PixelArray, width: number, height: number, radius: number, output: PixelArray, threads: number): void;
  // normalisation (native/binding/normalize.cpp)
  quantiles(input: PixelArray, width: number, height: number, q: Float64Array, output: Float64Array, threads: number): void;
  percentileNormalize(
    input: PixelArray,
    width: number,
    height: number,
    lower: number,
    upper: number,
    output: Float32Array,
    threads: number,
  ): void;
  normalizeRange(input: PixelArray, width: number, height: number, l: number, u: number, output: Float32Array, threads: number): void;
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
    threads: number,
  ): void;
  // morphology and thresholds (native/binding/morphology.cpp, threshold.cpp)
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
    threads: number,
  ): void;
  otsuThreshold(input: PixelArray, width: number, height: number): number;
  // distance kernels (native/binding/edt.cpp, peaks.cpp)
  distanceTransform(mask: Uint8Array, width: number, height: number, output: Float64Array, threads: number): void;
  /** Returns the peaks as a new Int32Array [y0, x0, y1, x1, …]. */
  peakLocalMax(image: Float64Array, width: number, height: number, minDistance: number, footprintRadius: number): Int32Array;
  // label kernels (native/binding/watershed.cpp, labels.cpp); labels are Uint32Array images, 0 = background
  watershed(
    surface: Float64Array | Float32Array,
    markers: Uint32Array,
    mask: Uint8Array | null,
    width: number,
    height: number,
    output: Uint32Array,
    raiseToParent: boolean,
    markerRanks: Int32Array | null,
    threads: number,
  ): void;
  labelCentroids(labels: Uint32Array, width: number, height: number, threads: number): { ids: Uint32Array; y: Float64Array; x: Float64Array };
  labelAreas(labels: Uint32Array, width: number, height: number, threads: number): { ids: Uint32Array; areas: Float64Array };
  removeLabels(labels: Uint32Array, width: number, height: number, ids: Uint32Array, output: Uint32Array, threads: number): void;
  removeEdgeLabels(labels: Uint32Array, width: number, height: number, output: Uint32Array, threads: number): void;
  contactFilter(labels: Uint32Array, width: number, height: number, threshold: number, output: Uint32Array, threads: number): void;
  matchNucleusCytosol(
    nucleus: Uint32Array,
    cytosol: Uint32Array,
    width: number,
    height: number,
    threshold: number,
    nucleusOut: Uint32Array,
    cytosolOut: Uint32Array,
    threads: number,
  ): void;
  // fast marching (native/binding/fmm.cpp, distance_watershed.cpp, travel_watershed.cpp); +Infinity marks
  // masked / unreached pixels
  fmmDistance(seeds: Uint8Array, allowed: Uint8Array, width: number, height: number, output: Float64Array, threads: number): void;
  fmmTravelTime(
    seeds: Uint8Array, allowed: Uint8Array, speed: Float64Array, width: number, height: number, output: Float64Array,
    targets?: Uint8Array | null,
  ): void;
  distanceWatershed(
    seeds: Uint8Array,
    allowed: Uint8Array,
    markers: Uint32Array,
    width: number,
    height: number,
    labels: Uint32Array,
    markerRanks: Int32Array | null,
    threads: number,
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
    floodLag: number | undefined,
    markerRanks: Int32Array | null,
    threads: number,
  ): void;
  // Cellpose (native/binding/cellpose.cpp); flow fields are Float32Array [2, height, width]: dY plane, dX plane
  cellposeMasks(
    dP: Float32Array,
    cellprob: Float32Array,
    width: number,
    height: number,
    niter: number,
    cellprobThreshold: number,
    flowThreshold: number,
    minSize: number,
    maxSizeFraction: number,
    imagePixels: number,
    fixLabelGapQuirk: boolean,
    clean: boolean,
    interp: boolean,
    labels: Uint32Array,
    threads: number,
  ): void;
  cellposeCleanMasks(labels: Uint32Array, width: number, height: number, minSize: number, fixLabelGapQuirk: boolean): void;
  cellposeMasksToFlows(labels: Uint32Array, width: number, height: number, flows: Float32Array, threads: number): void;
  cellposeBlendTiles(
    y: Float32Array,
    origins: Int32Array,
    mask: Float64Array,
    channels: number,
    tileHeight: number,
    tileWidth: number,
    width: number,
    height: number,
    out: Float32Array,
    threads: number,
  ): void;
  // QC overlay (native/binding/qc_overlay.cpp); rgba holds ceil(width/factor) × ceil(height/factor) × 4 bytes,
  // colors 3 bytes per mask; the masks come last
  qcOverlay(
    background: PixelArray,
    width: number,
    height: number,
    factor: number,
    p0: number,
    scale: number,
    colors: Uint8Array,
    rgba: Uint8Array,
    threads: number,
    masks: readonly Uint32Array[],
  ): void;
}

/** A kernel module, loaded lazily: `init` (or `initSync` where the environment has one) before `bindings`. */
export interface Backend {
  readonly name: BackendName;
  /** Where the module was loaded from (file, URL, "bytes"), for diagnostics; known once initialised. */
  readonly path: string;
  /** Loads the module; resolves at once when already loaded, rejects with a BackendError when it cannot load. */
  init(): Promise<void>;
  /** The same, synchronously; only where the environment can (Node: require / read the file). */
  initSync?(): void;
  readonly initialized: boolean;
  /** The raw kernels; a BackendError before initialisation. */
  readonly bindings: KernelBindings;
  /** The module's limits (bindings.limits). */
  readonly limits: KernelLimits;
}

/** A loaded module and where it came from. */
export interface LoadedModule {
  readonly bindings: KernelBindings;
  readonly path: string;
}

/**
 * A Backend over a module loader: loads once (asynchronously, or synchronously where `loadSync` exists), remembers
 * the module — or the error, so a missing module is reported, not retried, on every call.
 */
export function moduleBackend(
  name: BackendName,
  load: () => Promise<LoadedModule>,
  loadSync?: () => LoadedModule,
): Backend {
  let loaded: LoadedModule | undefined;
  let failure: unknown;
  let pending: Promise<void> | undefined;
  const settle = (m: LoadedModule) => {
    if (!(m.bindings && typeof m.bindings === 'object' && m.bindings.limits)) {
      throw new BackendError(`${name} kernels from ${m.path} export no limits: the module is stale; rebuild it`);
    }
    loaded = m;
  };
  const backend: Backend = {
    name,
    get path() {
      return loaded?.path ?? '(not loaded)';
    },
    get initialized() {
      return loaded !== undefined;
    },
    init() {
      if (loaded) return Promise.resolve();
      if (failure !== undefined) return Promise.reject(failure);
      pending ??= load()
        .then(settle)
        .catch((err: unknown) => {
          failure = err;
          throw err;
        });
      return pending;
    },
    get bindings() {
      if (!loaded) throw new BackendError(`the ${name} backend is not initialised: resolve it first (kernels() / resolveKernels())`);
      return loaded.bindings;
    },
    get limits() {
      return backend.bindings.limits;
    },
  };
  if (loadSync) {
    backend.initSync = () => {
      if (loaded) return;
      if (failure !== undefined) throw failure;
      try {
        settle(loadSync());
      } catch (err) {
        failure = err;
        throw err;
      }
    };
  }
  return backend;
}
