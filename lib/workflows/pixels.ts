/** Element-wise helpers the workflows need between kernel calls, with numpy 1.x's float32 semantics. */
import type { Image2D, PixelArray } from '../image.js';
import type { LabelImage } from './types.js';

export type Mask = Image2D<Uint8Array>;

/**
 * `image > threshold` (or `<` when `below`) as numpy evaluates it for a float32/integer image and a float64
 * scalar: value-based casting makes the comparison run in float32, so the threshold is rounded to float32 first.
 */
export function compareScalar(image: Image2D, threshold: number, below = false): Mask {
  const t = Math.fround(threshold);
  const src = image.data;
  const out = new Uint8Array(src.length);
  // +(a < b) rather than a ? 1 : 0: V8 compiles it without a branch (2–3x faster on noisy masks).
  if (below) for (let i = 0; i < src.length; i++) out[i] = +(src[i] < t);
  else for (let i = 0; i < src.length; i++) out[i] = +(src[i] > t);
  return { data: out, width: image.width, height: image.height };
}

/** `image > thresholdMap`, element-wise (both float32). */
export function compareMap(image: Image2D, thresholdMap: Image2D<Float32Array>): Mask {
  const src = image.data;
  const t = thresholdMap.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = +(src[i] > t[i]);
  return { data: out, width: image.width, height: image.height };
}

export function foreground(labels: LabelImage): Mask {
  const src = labels.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < out.length; i++) out[i] = +(src[i] !== 0);
  return { data: out, width: labels.width, height: labels.height };
}

export function invert(mask: Mask): Mask {
  const src = mask.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < out.length; i++) out[i] = +(src[i] === 0);
  return { data: out, width: mask.width, height: mask.height };
}

/** `a AND NOT b`. */
export function andNot(a: Mask, b: Mask): Mask {
  const x = a.data, y = b.data;
  const out = new Uint8Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = +(x[i] !== 0) & +(y[i] === 0);
  return { data: out, width: a.width, height: a.height };
}

export function toFloat32(image: Image2D): Image2D<Float32Array> {
  return image.data instanceof Float32Array
    ? (image as Image2D<Float32Array>)
    : { data: Float32Array.from(image.data as PixelArray), width: image.width, height: image.height };
}

/** numpy.round: halves go to the nearest even integer. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
