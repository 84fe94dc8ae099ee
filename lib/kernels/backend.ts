/**
 * The raw kernel ABI shared by the native addon and the WASM module (both built from native/binding.cpp).
 * Callers pass preallocated outputs; nothing here validates — see validate.ts and index.ts.
 */
import type { PixelArray } from '../image.js';

export type BackendName = 'native' | 'wasm';

export interface KernelBindings {
  medianFilter(input: PixelArray, width: number, height: number, radius: number, output: PixelArray): void;
  percentileNormalize(
    input: PixelArray,
    width: number,
    height: number,
    lower: number,
    upper: number,
    output: Float32Array,
  ): void;
}

export interface Backend {
  readonly name: BackendName;
  /** Where the module was loaded from, for diagnostics. */
  readonly path: string;
  readonly bindings: KernelBindings;
}
