/** Argument checks for the label kernels (label images, watershed surfaces, masks), beside validate.ts. */
import { InputError } from '../errors.js';
import type { Image2D, KernelArray } from '../image.js';
import { assertDimension } from './validate.js';

type TypedArrayCtor = new (n: number) => KernelArray;

/**
 * `value instanceof C` across realms: typed arrays made by the native addon belong to Node's main realm,
 * which is not the realm of code run in a vm context (jest), so instanceof would wrongly fail there.
 */
export function isTypedArrayOf(value: unknown, C: TypedArrayCtor): boolean {
  return Object.prototype.toString.call(value) === `[object ${C.name}]`;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

/** `image` is { data, width, height } with data one of the typed arrays `ctors` and width×height elements. */
export function assertTypedImage(image: Image2D<KernelArray>, ctors: readonly TypedArrayCtor[], what: string): void {
  if (image === null || typeof image !== 'object') {
    throw new InputError(`${what} must be an object { data, width, height }`, 'ERR_SCSEG_SHAPE');
  }
  const data = image.data as unknown;
  if (!ctors.some((C) => isTypedArrayOf(data, C))) {
    throw new InputError(
      `${what}: data must be a ${ctors.map((C) => C.name).join(' or ')}, got ${typeName(data)}`,
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
