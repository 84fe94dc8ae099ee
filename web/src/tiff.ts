/**
 * A TIFF's pixels as channel planes (C, Y, X), as the Node reader (lib/io/tiff.ts) counts channels: pages × samples,
 * page-major; pages of another size than the first (pyramid levels, thumbnails) are skipped. Decoded by geotiff
 * from memory — a browser has the whole file anyway.
 */
import { fromArrayBuffer } from 'geotiff';
import { InputError } from '../../lib/errors.js';
import type { Image2D, PixelArray } from '../../lib/image.js';

function asPixels(name: string, page: number, a: unknown): PixelArray {
  if (a instanceof Uint8Array || a instanceof Uint16Array || a instanceof Float32Array) return a;
  const kind = (a as object)?.constructor?.name ?? typeof a;
  throw new InputError(`${name}: unsupported pixel type ${kind} (page ${page}); supported: uint8, uint16, float32`, 'ERR_SCSEG_DTYPE');
}

export async function decodeTiff(name: string, bytes: ArrayBuffer): Promise<Image2D[]> {
  let tiff;
  try {
    tiff = await fromArrayBuffer(bytes);
  } catch (err) {
    throw new InputError(`${name}: not a readable TIFF (${(err as Error).message})`, 'ERR_SCSEG_IO_FORMAT');
  }
  const pages = await tiff.getImageCount();
  const planes: Image2D[] = [];
  let width = 0;
  let height = 0;
  for (let p = 0; p < pages; p++) {
    const image = await tiff.getImage(p);
    if (p === 0) [width, height] = [image.getWidth(), image.getHeight()];
    else if (image.getWidth() !== width || image.getHeight() !== height) continue;
    const rasters = (await image.readRasters({ interleave: false })) as unknown as ArrayLike<unknown>;
    for (let s = 0; s < rasters.length; s++) planes.push({ data: asPixels(name, p, rasters[s]), width, height });
  }
  const dtypes = new Set(planes.map((q) => q.data.constructor));
  if (dtypes.size > 1) throw new InputError(`${name}: pages of different pixel types`, 'ERR_SCSEG_DTYPE');
  return planes;
}
