/** Checks shared by the writers of segmentation results. */
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';

/** Progress of a long write: `done` of `total` steps. Throwing from it aborts the write (nothing is left behind). */
export type WriteProgress = (done: number, total: number) => void;

/** At least one label image, all Uint32Array of one shape; returns that shape. */
export function assertLabelImages(masks: readonly Image2D<Uint32Array>[], what: string): { width: number; height: number } {
  if (!Array.isArray(masks) || masks.length === 0) {
    throw new InputError(`${what}: need at least one label image`, 'ERR_SCSEG_SHAPE');
  }
  const { width, height } = masks[0] ?? {};
  for (let i = 0; i < masks.length; i++) {
    const m = masks[i];
    if (!m || !(m.data instanceof Uint32Array)) {
      throw new InputError(`${what}[${i}]: label data must be a Uint32Array`, 'ERR_SCSEG_DTYPE');
    }
    if (!Number.isSafeInteger(m.width) || !Number.isSafeInteger(m.height) || m.width <= 0 || m.height <= 0 ||
        m.data.length !== m.width * m.height) {
      throw new InputError(`${what}[${i}]: ${m.width}×${m.height} does not match ${m.data.length} elements`, 'ERR_SCSEG_SHAPE');
    }
    if (m.width !== width || m.height !== height) {
      throw new InputError(`${what}[${i}] is ${m.width}×${m.height} but [0] is ${width}×${height}`, 'ERR_SCSEG_SHAPE');
    }
  }
  return { width, height };
}

/** A writer option that must be a positive integer; the message names the output and the option. */
export function positiveInt(target: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new InputError(`${target}: ${name} must be a positive integer, got ${String(v)}`, 'ERR_SCSEG_ARGUMENT');
  }
  return v;
}

/** The staging memory a writer may use (default 16 MiB); must be positive. */
export function bufferBudget(target: string, v: unknown): number {
  const budget = v ?? 16 << 20;
  if (typeof budget !== 'number' || !(budget > 0)) {
    throw new InputError(`${target}: maxBufferBytes must be positive, got ${String(budget)}`, 'ERR_SCSEG_ARGUMENT');
  }
  return budget;
}

/** A zlib/gzip level 0–9 (0: stored uncompressed). */
export function zlibLevel(target: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 9) {
    throw new InputError(`${target}: ${name} must be an integer 0..9, got ${String(v)}`, 'ERR_SCSEG_ARGUMENT');
  }
  return v;
}
