/** `openImage`: one entry point for every input format, dispatching on the file's magic bytes, then its extension. */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { PixelArray } from '../image.js';
import { Hdf5Source } from './hdf5.js';
import { NpySource } from './npy.js';
import {
  asInputError, BaseImageSource, IO_CORRUPT, IO_FORMAT, type ImageFormat, type ImageSource, type PixelWindow, statInput,
} from './source.js';
import { TiffSource } from './tiff.js';
import { isZarrDirectory, ZarrSource } from './zarr.js';

export interface OpenImageOptions {
  /** HDF5 only: dataset path (default `channels`, else the first 3-D dataset, else the first 2-D one). */
  dataset?: string;
}

type SingleFormat = Exclude<ImageFormat, 'file-list'>;

function sniff(file: string): SingleFormat | undefined {
  const head = Buffer.alloc(8);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 8, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n === 0) throw new InputError(`${file}: empty file`, IO_CORRUPT);
  const s = head.toString('latin1', 0, n);
  if (s.startsWith('II*\0') || s.startsWith('MM\0*') || s.startsWith('II+\0') || s.startsWith('MM\0+')) return 'tiff';
  if (s.startsWith('\x93NUMPY')) return 'npy';
  if (s.startsWith('\x89HDF\r\n\x1a\n')) return 'hdf5';
  const ext = file.toLowerCase();
  if (/\.(tiff?|btf|tf8)$/.test(ext)) return 'tiff';
  if (ext.endsWith('.npy')) return 'npy';
  if (/\.(h5|hdf5|hdf|he5)$/.test(ext)) return 'hdf5'; // may hold a user block; Hdf5Source looks further
  return undefined;
}

async function openOne(input: string, options: OpenImageOptions): Promise<ImageSource> {
  if (typeof input !== 'string' || input.length === 0) {
    throw new InputError(`image path must be a non-empty string, got ${JSON.stringify(input)}`, 'ERR_SCSEG_ARGUMENT');
  }
  try {
    return await dispatch(input, options);
  } catch (e) {
    // Safety net: whatever a decoder library throws becomes one InputError naming the file.
    throw asInputError(e, input, 'cannot open image');
  }
}

async function dispatch(input: string, options: OpenImageOptions): Promise<ImageSource> {
  const st = statInput(input);
  if (st.isDirectory()) {
    if (!isZarrDirectory(input)) {
      throw new InputError(`${input}: a directory, but not an OME-Zarr image (no .zattrs/.zgroup/zarr.json)`, IO_FORMAT);
    }
    return ZarrSource.open(input);
  }
  switch (sniff(input)) {
    case 'tiff': return TiffSource.open(input);
    case 'npy': return NpySource.open(input);
    case 'hdf5': return Hdf5Source.open(input, options);
    default:
      throw new InputError(
        `${input}: unrecognised image format (supported: TIFF/OME-TIFF, OME-Zarr directory, HDF5, .npy)`,
        IO_FORMAT,
      );
  }
}

/** Several single-channel images, one per channel in the given order (typically one TIFF per channel). */
export class FileListSource extends BaseImageSource {
  readonly format = 'file-list' as const;

  private constructor(private readonly parts: ImageSource[]) {
    const p0 = parts[0];
    const names = parts.map((p) => path.basename(p.paths[0]).replace(/(\.ome)?\.[^.]+$/i, ''));
    super(parts.map((p) => p.paths[0]), parts.length, p0.height, p0.width, p0.dtype, names);
  }

  static async open(inputs: readonly string[], options: OpenImageOptions): Promise<FileListSource> {
    const parts: ImageSource[] = [];
    try {
      for (const input of inputs) {
        const part = await openOne(input, options);
        parts.push(part);
        if (part.channelCount !== 1) {
          throw new InputError(
            `${input}: has ${part.channelCount} channels; a list of files must give one single-channel image per channel`,
            'ERR_SCSEG_SHAPE',
          );
        }
        const p0 = parts[0];
        if (part.width !== p0.width || part.height !== p0.height || part.dtype !== p0.dtype) {
          throw new InputError(
            `${input}: ${part.width}×${part.height} ${part.dtype} does not match ${p0.paths[0]}: ` +
              `${p0.width}×${p0.height} ${p0.dtype}; all channel files must have one shape and dtype`,
            part.dtype !== p0.dtype ? 'ERR_SCSEG_DTYPE' : 'ERR_SCSEG_SHAPE',
          );
        }
      }
    } catch (e) {
      await Promise.all(parts.map((p) => p.close().catch(() => undefined)));
      throw e;
    }
    return new FileListSource(parts);
  }

  protected async decodeWindow(channel: number, win: PixelWindow): Promise<PixelArray> {
    return (await this.parts[channel].readWindow(0, win)).data as PixelArray;
  }

  protected async release(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.close()));
  }
}

/**
 * Opens an image for reading without decoding pixels: TIFF/OME-TIFF/BigTIFF, an OME-Zarr directory, HDF5, .npy,
 * or a list of single-channel images (channels in list order; shapes and dtypes must agree). Every failure is an
 * InputError naming the file. Close the returned source when done.
 */
export async function openImage(inputs: string | readonly string[], options: OpenImageOptions = {}): Promise<ImageSource> {
  if (Array.isArray(inputs)) {
    if (inputs.length === 0) throw new InputError('openImage: empty list of input files', 'ERR_SCSEG_ARGUMENT');
    if (inputs.length === 1) return openOne(inputs[0], options);
    return FileListSource.open(inputs, options);
  }
  return openOne(inputs as string, options);
}
