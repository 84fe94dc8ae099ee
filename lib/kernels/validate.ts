/** Argument checks for every kernel, in one place: kernels trust what passes here. */
import { InputError } from '../errors.js';
import type { Image2D, PixelArray } from '../image.js';

const PIXEL_TYPES = 'Uint8Array, Uint16Array or Float32Array';

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
  if (image === null || typeof image !== 'object') {
    throw new InputError(`${what} must be an object { data, width, height }`, 'ERR_SCSEG_SHAPE');
  }
  assertPixelArray(image.data, what);
  assertDimension(image.width, `${what}.width`);
  assertDimension(image.height, `${what}.height`);
  if (image.data.length !== image.width * image.height) {
    throw new InputError(
      `${what}: data has ${image.data.length} elements but width×height = ${image.width}×${image.height} = ` +
        `${image.width * image.height}`,
      'ERR_SCSEG_SHAPE',
    );
  }
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
