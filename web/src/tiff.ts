/**
 * A TIFF's pixels as channel planes (C, Y, X), as the Node reader (lib/io/tiff.ts) counts channels: pages × samples,
 * page-major; pages of another size than the first (pyramid levels, thumbnails) are skipped. Decoded by geotiff
 * from memory — a browser has the whole file anyway. Files that are not TIFF, and TIFFs cut short or damaged, are
 * named as such with the file's name (geotiff's own errors, e.g. "Offset is outside the bounds of the DataView",
 * name neither).
 */
import { fromArrayBuffer } from 'geotiff';
import { InputError } from '../../lib/errors.js';
import type { Image2D, PixelArray } from '../../lib/image.js';

function asPixels(name: string, page: number, a: unknown): PixelArray {
  if (a instanceof Uint8Array || a instanceof Uint16Array || a instanceof Float32Array) return a;
  const kind = (a as object)?.constructor?.name ?? typeof a;
  throw new InputError(`${name}: unsupported pixel type ${kind} (page ${page}); supported: uint8, uint16, float32`, 'ERR_SCSEG_DTYPE');
}

/** What a file that is not a TIFF most likely is, from its first bytes. */
function sniff(head: Uint8Array): string | undefined {
  const starts = (...b: number[]) => b.every((v, i) => head[i] === v);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'a PNG image';
  if (starts(0xff, 0xd8, 0xff)) return 'a JPEG image';
  if (starts(0x89, 0x48, 0x44, 0x46)) return 'an HDF5 file';
  if (starts(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59)) return 'a NumPy .npy file';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return 'a zip archive';
  return undefined;
}

/** TIFF's byte-order mark and magic number: II*\0, MM\0*, or BigTIFF's II+\0 / MM\0+. */
function isTiff(h: Uint8Array): boolean {
  return (h[0] === 0x49 && h[1] === 0x49 && (h[2] === 42 || h[2] === 43) && h[3] === 0) || (h[0] === 0x4d && h[1] === 0x4d && h[2] === 0 && (h[3] === 42 || h[3] === 43));
}

export async function decodeTiff(name: string, bytes: ArrayBuffer): Promise<Image2D[]> {
  const size = bytes.byteLength;
  if (size === 0) throw new InputError(`${name}: empty file`, 'ERR_SCSEG_IO_CORRUPT');
  const head = new Uint8Array(bytes, 0, Math.min(8, size));
  if (!isTiff(head)) {
    const what = sniff(head);
    throw new InputError(`${name}: not a TIFF file${what ? ` (it looks like ${what})` : ''}; the page opens TIFF images only`, 'ERR_SCSEG_IO_FORMAT');
  }
  // Reads past the end of the buffer (a file cut short, offsets pointing nowhere) are RangeErrors; anything else
  // (an unsupported compression, …) is geotiff's own word.
  const corrupt = (where: string, err: unknown) =>
    err instanceof RangeError
      ? new InputError(`${name}: truncated or corrupt TIFF: ${where} reaches past the end of the ${size}-byte file`, 'ERR_SCSEG_IO_CORRUPT')
      : new InputError(`${name}: ${where} cannot be decoded (${(err as Error)?.message ?? String(err)})`, 'ERR_SCSEG_IO_FORMAT');
  let tiff;
  let pages;
  try {
    tiff = await fromArrayBuffer(bytes);
    pages = await tiff.getImageCount();
  } catch (err) {
    throw corrupt('its directory', err);
  }
  const planes: Image2D[] = [];
  let width = 0;
  let height = 0;
  for (let p = 0; p < pages; p++) {
    let rasters: ArrayLike<unknown>;
    try {
      const image = await tiff.getImage(p);
      if (p === 0) [width, height] = [image.getWidth(), image.getHeight()];
      else if (image.getWidth() !== width || image.getHeight() !== height) continue;
      rasters = (await image.readRasters({ interleave: false })) as unknown as ArrayLike<unknown>;
    } catch (err) {
      throw corrupt(`page ${p}`, err);
    }
    for (let s = 0; s < rasters.length; s++) planes.push({ data: asPixels(name, p, rasters[s]), width, height });
  }
  const dtypes = new Set(planes.map((q) => q.data.constructor));
  if (dtypes.size > 1) throw new InputError(`${name}: pages of different pixel types`, 'ERR_SCSEG_DTYPE');
  return planes;
}
