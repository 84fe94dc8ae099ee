/** Argument checks for every kernel, in one place: kernels trust what passes here. */
import { InputError } from '../errors.js';
import type { Image2D, KernelArray, PixelArray } from '../image.js';

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
