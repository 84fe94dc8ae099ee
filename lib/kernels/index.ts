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
import { assertImage, assertIntegerInRange, assertNumberInRange } from './validate.js';
import { loadWasmBackend } from './wasm.js';

export type { Backend, BackendName } from './backend.js';

/** Largest median radius accepted (the histogram algorithm is O(r) per pixel; this is a sanity bound). */
export const MAX_MEDIAN_RADIUS = 4096;
/** WASM linear memory is 4 GiB at most; kernels use ~16 bytes/pixel of scratch. Larger images: tile or go native. */
const WASM_MAX_PIXELS = 2 ** 27;

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

/** Validated kernels bound to one backend. */
export class Kernels {
  constructor(readonly backend: Backend) {}

  get backendName(): BackendName {
    return this.backend.name;
  }

  private checkCapacity(image: Image2D, kernel: string): void {
    if (this.backend.name === 'wasm' && image.width * image.height > WASM_MAX_PIXELS) {
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
