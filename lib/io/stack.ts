/**
 * Stacks of images in one file, as scPortrait's timecourse projects keep them: an (images, C, H, W) array in HDF5
 * (dataset `input_images`, else a 4-D `channels`, else the first 4-D dataset), OME-Zarr (the t axis counts the
 * images; or a bare 4-D Zarr array) or .npy. `openImageStack` probes the shape without decoding pixels; each image
 * is then an ordinary `ImageSource` over the same file (`stack.openImage(i)`, or `openStackImage(file, i)` in
 * another thread), decoding only that image's channels.
 */
import fs from 'node:fs';
import { InputError } from '../errors.js';
import type { DType } from '../image.js';
import { Hdf5Source, hasHdf5Signature } from './hdf5.js';
import { NpySource } from './npy.js';
import { openImage } from './open.js';
import { asInputError, IO_FORMAT, type ImageSource, statInput } from './source.js';
import { isZarrDirectory, ZarrSource } from './zarr.js';

export type StackFormat = 'hdf5' | 'ome-zarr' | 'npy';

export interface StackOpenOptions {
  /** HDF5 only: the dataset holding the stack. */
  dataset?: string;
}

/** An (images, C, H, W) input: its shape, and each image as an ImageSource. */
export interface ImageStack {
  readonly path: string;
  readonly format: StackFormat;
  readonly imageCount: number;
  readonly channelCount: number;
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
  /** HDF5: the dataset read (the default resolved). */
  readonly dataset?: string;
  /** Image `index` with its own file handle; close it when done. */
  openImage(index: number): Promise<ImageSource>;
}

function stackFormat(file: string): StackFormat {
  const st = statInput(file);
  if (st.isDirectory()) {
    if (!isZarrDirectory(file)) throw new InputError(`${file}: a directory, but not a Zarr image or array`, IO_FORMAT);
    return 'ome-zarr';
  }
  const head = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 8, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.toString('latin1', 0, 6) === '\x93NUMPY') return 'npy';
  if (hasHdf5Signature(file)) return 'hdf5';
  throw new InputError(
    `${file}: not a stack of images (an (images, C, H, W) array in HDF5, OME-Zarr or .npy)`,
    IO_FORMAT,
  );
}

/** Image `index` of the stack in `file` (format detected from the file), as an ImageSource. */
export async function openStackImage(file: string, index: number, options: StackOpenOptions = {}): Promise<ImageSource & { imageCount?: number }> {
  try {
    switch (stackFormat(file)) {
      case 'npy': return await NpySource.open(file, { image: index });
      case 'hdf5': return await Hdf5Source.open(file, { dataset: options.dataset, image: index });
      case 'ome-zarr': return await ZarrSource.open(file, { image: index });
    }
  } catch (e) {
    throw asInputError(e, file, 'cannot open image stack');
  }
}

/** Probes `file` as an (images, C, H, W) stack; an InputError (ERR_SCSEG_SHAPE for other ranks) if it is not one. */
export async function openImageStack(file: string, options: StackOpenOptions = {}): Promise<ImageStack> {
  const first = await openStackImage(file, 0, options);
  try {
    const dataset = first instanceof Hdf5Source ? first.datasetPath : options.dataset;
    return {
      path: file,
      format: first.format as StackFormat,
      imageCount: first.imageCount ?? 1,
      channelCount: first.channelCount,
      width: first.width,
      height: first.height,
      dtype: first.dtype,
      ...(dataset !== undefined ? { dataset } : {}),
      openImage: (index) => openStackImage(file, index, { dataset }),
    };
  } finally {
    await first.close();
  }
}

/**
 * Whether `file` is a stack of images and not a single image (false for anything else, unreadable files included).
 * Whatever `openImage` reads as one image stays one image: an OME-Zarr image with a t axis of size 1, or an HDF5
 * file whose default dataset is 3-D beside a 4-D one.
 */
export async function isImageStack(file: string, options: StackOpenOptions = {}): Promise<boolean> {
  try {
    await openImageStack(file, options);
  } catch {
    return false;
  }
  try {
    await (await openImage(file, options)).close();
    return false;
  } catch {
    return true;
  }
}
