/** The one image type of the package: a row-major 2-D plane of a supported pixel type. */
export type PixelArray = Uint8Array | Uint16Array | Float32Array;
export type DType = 'uint8' | 'uint16' | 'float32';

/** Arrays that kernels exchange besides pixels: labels (Uint32), coordinates (Int32), distances (Float64). */
export type KernelArray = PixelArray | Uint32Array | Int32Array | Float64Array;

export interface Image2D<T extends KernelArray = PixelArray> {
  readonly data: T;
  readonly width: number;
  readonly height: number;
}

export function dtypeOf(data: PixelArray): DType {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) return 'uint16';
  return 'float32';
}

export function allocLike<T extends KernelArray>(data: T, length: number): T {
  return new (data.constructor as new (n: number) => T)(length);
}

/** A rectangle in pixel coordinates: columns x..x+width-1, rows y..y+height-1. */
export interface PixelWindow {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The pixels of `window` (inside `image`) as a new image. */
export function cropImage<T extends KernelArray>(image: Image2D<T>, window: PixelWindow): Image2D<T> {
  const out = allocLike(image.data, window.width * window.height);
  for (let y = 0; y < window.height; y++) {
    const from = (window.y + y) * image.width + window.x;
    out.set(image.data.subarray(from, from + window.width) as never, y * window.width);
  }
  return { data: out, width: window.width, height: window.height };
}
