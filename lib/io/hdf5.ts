/**
 * HDF5 through h5wasm (host filesystem via NODERAWFS): input datasets shaped (C,H,W) or (H,W), or one image of an
 * (images,C,H,W) dataset when opened with `image` (lib/io/stack.ts). scPortrait's
 * `segmentation.h5` output is written by label-writers.ts (writeSegmentationH5, openSegmentationH5Writer).
 */
import fs from 'node:fs';
import path from 'node:path';
import type h5wasm from 'h5wasm/node';
import type { Dataset, Group } from 'h5wasm/node';
import { hdf5Cause, loadH5wasm, type H5Lib } from './h5wasm.js';
import { InputError } from '../errors.js';
import type { DType, PixelArray } from '../image.js';
import {
  BaseImageSource, IO_CORRUPT, IO_FORMAT, IO_NOT_FOUND, type PixelWindow, statInput,
} from './source.js';

/** scPortrait's names: input stacks are stored as `channels`, segmentation results as `labels`. */
export const H5_CHANNELS_DATASET = 'channels';
export const H5_LABELS_DATASET = 'labels';
/** scPortrait's timecourse projects keep their (images, C, H, W) stack as `input_images`. */
export const H5_STACK_DATASET = 'input_images';
/** scPortrait's `chunk_size` config default: segmentation.h5 is chunked (1, 50, 50), uncompressed. */
export const H5_DEFAULT_CHUNK_SIZE = 50;

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
async function h5(): Promise<H5Lib> {
  return (await loadH5wasm()).lib;
}

/** The HDF5 superblock sits at 0, 512, 1024, 2048, … (after an optional user block). */
export function hasHdf5Signature(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      if (fs.readSync(fd, buf, 0, 8, at) === 8 && SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function typeName(meta: Dataset['metadata']): string {
  if (meta.type === 0) return `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
  if (meta.type === 1) return `float${meta.size * 8}`;
  const classes = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];
  return classes[meta.type] ?? `class-${meta.type}`;
}

function dtypeOf(file: string, name: string, meta: Dataset['metadata']): DType {
  const t = typeName(meta);
  if (t === 'uint8' || t === 'uint16' || t === 'float32') return t;
  throw new InputError(`${file}: dataset ${name} has unsupported dtype ${t}; supported: uint8, uint16, float32`, 'ERR_SCSEG_DTYPE');
}

/** Depth-first, in h5wasm's key order: the first dataset of rank 3, else of rank 2 (`stack`: the first of rank 4). */
function findDataset(h5wasm: H5Lib, root: Group, stack = false): string | undefined {
  let rank2: string | undefined;
  let visited = 0;
  const walk = (group: Group, prefix: string, depth: number): string | undefined => {
    for (const key of group.keys()) {
      if (++visited > 10000 || depth > 32) return undefined;
      let entity: unknown;
      try {
        entity = group.get(key);
      } catch {
        continue; // dangling soft/external link
      }
      const full = `${prefix}/${key}`;
      if (entity instanceof h5wasm.Dataset) {
        const rank = entity.shape?.length ?? 0;
        if (rank === (stack ? 4 : 3)) return full;
        if (rank === 2 && !stack) rank2 ??= full;
      } else if (entity instanceof h5wasm.Group) {
        const found = walk(entity, full, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(root, '', 0) ?? rank2;
}

export interface Hdf5OpenOptions {
  /**
   * Dataset path inside the file; default `channels` if present, else the first 3-D dataset, else the first 2-D one
   * (with `image`: `input_images`, else `channels` if 4-D, else the first 4-D dataset).
   */
  dataset?: string;
  /** Reads image `image` of an (images, C, H, W) dataset, which must then be 4-D. */
  image?: number;
}

export class Hdf5Source extends BaseImageSource {
  readonly format = 'hdf5' as const;
  /** Images in the dataset when it is an (images, C, H, W) stack opened with `image`. */
  readonly imageCount?: number;

  private constructor(
    private readonly file: string,
    private readonly handle: InstanceType<typeof h5wasm.File>,
    private readonly dataset: Dataset,
    readonly datasetPath: string,
    private readonly rank: number,
    shape: number[],
    dtype: DType,
    private readonly image = 0,
  ) {
    super([file], rank >= 3 ? shape[rank - 3] : 1, shape[rank - 2], shape[rank - 1], dtype);
    if (rank === 4) this.imageCount = shape[0];
  }

  static async open(file: string, options: Hdf5OpenOptions = {}): Promise<Hdf5Source> {
    statInput(file, 'file');
    if (!hasHdf5Signature(file)) throw new InputError(`${file}: not an HDF5 file (no superblock signature)`, IO_FORMAT);
    const lib = await h5();
    let handle: InstanceType<typeof h5wasm.File>;
    try {
      handle = new lib.File(path.resolve(file), 'r');
    } catch (e) {
      throw new InputError(`${file}: cannot open HDF5 file: ${hdf5Cause(e)}`, IO_CORRUPT, { cause: e });
    }
    // Without the throwing error handler (lib/io/h5wasm.ts) a failed H5Fopen gives an invalid id instead.
    if (handle.file_id < 0n) throw new InputError(`${file}: cannot open HDF5 file (truncated or corrupt)`, IO_CORRUPT);
    const image = options.image;
    const stack = image !== undefined;
    try {
      let name = options.dataset;
      if (name === undefined) {
        const keys = handle.keys();
        const rankOf = (key: string) => {
          try {
            const e = handle.get(key);
            return e instanceof lib.Dataset ? (e.shape?.length ?? 0) : 0;
          } catch {
            return 0; // dangling link
          }
        };
        if (stack) {
          name = keys.includes(H5_STACK_DATASET) ? H5_STACK_DATASET
            : keys.includes(H5_CHANNELS_DATASET) && rankOf(H5_CHANNELS_DATASET) === 4 ? H5_CHANNELS_DATASET
              : findDataset(lib, handle, true);
          if (name === undefined) throw new InputError(`${file}: no 4-D (images, C, H, W) dataset found`, 'ERR_SCSEG_SHAPE');
        } else {
          name = keys.includes(H5_CHANNELS_DATASET) ? H5_CHANNELS_DATASET : findDataset(lib, handle);
          if (name === undefined) throw new InputError(`${file}: no 2-D or 3-D dataset found`, IO_FORMAT);
        }
      }
      let entity: unknown;
      try {
        entity = handle.get(name);
      } catch (e) {
        // the name is there but its object header cannot be read: corrupt, not missing
        let listed = true;
        try {
          listed = handle.keys().includes(name.replace(/^\//, ''));
        } catch { /* the root group itself is unreadable */ }
        if (listed) {
          throw new InputError(`${file}: cannot read dataset ${name}: ${hdf5Cause(e)}`, IO_CORRUPT, { cause: e });
        }
        entity = null;
      }
      if (!(entity instanceof lib.Dataset)) {
        throw new InputError(`${file}: no dataset ${name} (top-level entries: ${handle.keys().join(', ') || 'none'})`, IO_NOT_FOUND);
      }
      const meta = entity.metadata;
      const shape = meta.shape ?? [];
      if (stack ? shape.length !== 4 : shape.length !== 2 && shape.length !== 3) {
        const expected = stack ? '(images, C, H, W)' : '(C, H, W) or (H, W)';
        throw new InputError(`${file}: dataset ${name} has shape (${shape.join(', ')}); expected ${expected}`, 'ERR_SCSEG_SHAPE');
      }
      if (stack && !(Number.isSafeInteger(image) && image >= 0 && image < shape[0])) {
        throw new InputError(`${file}: image ${image} out of range: dataset ${name} holds ${shape[0]} images`, 'ERR_SCSEG_ARGUMENT');
      }
      const dtype = dtypeOf(file, name, meta);
      return new Hdf5Source(file, handle, entity, name, shape.length, shape, dtype, image);
    } catch (e) {
      try { handle.close(); } catch { /* already failing */ }
      if (e instanceof InputError) throw e;
      throw new InputError(`${file}: cannot read HDF5 dataset: ${hdf5Cause(e)}`, IO_CORRUPT, { cause: e });
    }
  }

  protected async decodeWindow(channel: number, win: PixelWindow): Promise<PixelArray> {
    const yx: [number, number][] = [[win.y, win.y + win.height], [win.x, win.x + win.width]];
    const ranges: [number, number][] =
      this.rank === 4 ? [[this.image, this.image + 1], [channel, channel + 1], ...yx]
        : this.rank === 3 ? [[channel, channel + 1], ...yx] : yx;
    let data: unknown;
    try {
      data = this.dataset.slice(ranges);
    } catch (e) {
      throw new InputError(`${this.file}: cannot read dataset ${this.datasetPath}: ${hdf5Cause(e)}`, IO_CORRUPT, { cause: e });
    }
    if (!(data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Float32Array)) {
      throw new InputError(`${this.file}: h5wasm returned ${(data as object)?.constructor?.name} for ${this.dtype}`, IO_CORRUPT);
    }
    // HDF5 converts to the host byte order on read (big-endian datasets included).
    return data;
  }

  protected async release(): Promise<void> {
    this.handle.close();
  }
}
