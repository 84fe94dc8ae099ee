/**
 * segmentation.h5 for a stack of images (a batch run over an (images, C, H, W) input): dataset `labels`, uint64,
 * shape (images, masks, H, W), chunks (1, 1, chunk, chunk), filled image by image in any order as the images
 * finish. Images never written (failed ones) read back as 0. Only one band of one mask is staged in h5wasm's heap
 * at a time. Atomic like every writer here: built under a hidden temp name, renamed into place by `finish()`;
 * `abort()` and any failure delete it.
 */
import path from 'node:path';
import { loadH5wasm, type H5Lib, type H5Module } from './h5wasm.js';
import { InputError } from '../errors.js';
import { beginAtomicFile, writeError, type PendingOutput } from './atomic.js';
import { H5_DEFAULT_CHUNK_SIZE, H5_LABELS_DATASET } from './hdf5.js';
import { errorMessage, IO_WRITE } from './source.js';

const ARGUMENT = 'ERR_SCSEG_ARGUMENT';

export interface StackLabelsH5Options {
  images: number;
  masks: number;
  width: number;
  height: number;
  /** HDF5 chunk edge (scPortrait's `chunk_size`, default 50), clamped to the image. */
  chunkSize?: number;
  /** gzip level 1–9; 0 or absent: uncompressed, as scPortrait writes segmentation.h5. */
  compression?: number;
  /** Memory for one band of uint64 rows handed to HDF5 (default 16 MiB); bands are whole chunk rows. */
  maxBufferBytes?: number;
}

export interface StackLabelsWriter {
  readonly images: number;
  readonly masks: number;
  readonly width: number;
  readonly height: number;
  /** Writes every mask of image `index` (`masks[m]`: H·W label ids, row-major). Each image at most once; any order. */
  writeImage(index: number, masks: readonly Uint32Array[]): Promise<void>;
  /** Closes, fsyncs and renames the file into place (unwritten images stay 0). */
  finish(): Promise<void>;
  /** Closes and deletes the temporary file. Idempotent; a no-op after `finish()`. */
  abort(): Promise<void>;
}

type H5File = InstanceType<H5Lib['File']>;

function positiveInt(target: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new InputError(`${target}: ${name} must be a positive integer, got ${String(v)}`, ARGUMENT);
  }
  return v;
}

/** One event-loop turn between bands, so timers and messages on the calling thread keep running. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

class H5StackWriter implements StackLabelsWriter {
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private readonly written = new Set<number>();
  private queue: Promise<unknown> = Promise.resolve();
  private ptr = 0;
  private out: H5File | undefined;

  constructor(
    private readonly file: string,
    private readonly h5: H5Lib,
    private readonly lib: H5Module,
    private readonly pending: PendingOutput,
    readonly images: number,
    readonly masks: number,
    readonly width: number,
    readonly height: number,
    private readonly bandRows: number,
  ) {}

  open(chunk: number, compression: number): void {
    const { images, masks, width, height } = this;
    const out = new this.h5.File(path.resolve(this.pending.path), 'w');
    if (out.file_id < 0n) throw new Error('H5Fcreate failed');
    this.out = out;
    // Created empty, then resized to its full extent: h5wasm's create_dataset writes all its data at once.
    const ds = out.create_dataset({
      name: H5_LABELS_DATASET,
      data: new BigUint64Array(0),
      shape: [0, masks, height, width],
      maxshape: [images, masks, height, width],
      chunks: [1, 1, Math.min(chunk, height), Math.min(chunk, width)],
      dtype: '<Q',
      ...(compression > 0 ? { compression } : {}),
    });
    if (!(ds instanceof this.h5.Dataset)) throw new Error('H5Dcreate failed');
    if (ds.resize([images, masks, height, width]) < 0) throw new Error('H5Dset_extent failed');
    const bytes = Math.min(this.bandRows, height) * width * 8;
    this.ptr = this.lib._malloc(bytes);
    if (this.ptr === 0) throw new Error(`cannot allocate ${bytes} bytes in the HDF5 heap`);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertOpen(what: string): void {
    if (this.state !== 'open') throw new InputError(`${this.file}: ${what} on a writer that is already ${this.state}`, ARGUMENT);
  }

  private async fail(e: unknown): Promise<never> {
    this.state = 'aborted';
    await this.discard();
    throw writeError(this.file, e);
  }

  private check(index: unknown, masks: unknown): void {
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= this.images) {
      throw new InputError(`${this.file}: image index ${String(index)} out of range 0..${this.images - 1}`, ARGUMENT);
    }
    if (this.written.has(index)) throw new InputError(`${this.file}: image ${index} is written already`, ARGUMENT);
    if (!Array.isArray(masks) || masks.length !== this.masks) {
      throw new InputError(`${this.file}: image ${index} needs ${this.masks} masks, got ${Array.isArray(masks) ? masks.length : String(masks)}`, ARGUMENT);
    }
    for (let m = 0; m < masks.length; m++) {
      const a = masks[m] as Uint32Array;
      // Not instanceof: masks posted back by a worker may come from another realm (a test sandbox's, say).
      if (Object.prototype.toString.call(a) !== '[object Uint32Array]') throw new InputError(`${this.file}: image ${index}, mask ${m}: label ids must be a Uint32Array`, 'ERR_SCSEG_DTYPE');
      if (a.length !== this.width * this.height) {
        throw new InputError(`${this.file}: image ${index}, mask ${m}: ${a.length} ids for ${this.width}×${this.height}`, 'ERR_SCSEG_SHAPE');
      }
    }
  }

  writeImage(index: number, masks: readonly Uint32Array[]): Promise<void> {
    return this.serial(async () => {
      this.assertOpen('writeImage');
      try {
        this.check(index, masks);
        this.written.add(index);
        const { lib, width, height, bandRows } = this;
        for (let m = 0; m < masks.length; m++) {
          const src = masks[m];
          for (let y0 = 0; y0 < height; y0 += bandRows) {
            const y1 = Math.min(height, y0 + bandRows);
            const count = (y1 - y0) * width;
            // Widened straight into the heap (the view is taken after any heap growth): low word = id, high word = 0.
            const words = new Uint32Array(lib.HEAPU8.buffer, this.ptr, 2 * count);
            for (let k = 0, s = y0 * width; k < count; k++, s++) {
              words[2 * k] = src[s];
              words[2 * k + 1] = 0;
            }
            const status = lib.set_dataset_data(
              this.out!.file_id, `/${H5_LABELS_DATASET}`,
              [1n, 1n, BigInt(y1 - y0), BigInt(width)], [BigInt(index), BigInt(m), BigInt(y0), 0n], [1n, 1n, 1n, 1n],
              BigInt(this.ptr),
            );
            if (status < 0) throw new Error(`H5Dwrite failed for image ${index}, mask ${m}, rows ${y0}..${y1}`);
            await turn();
          }
        }
      } catch (e) {
        await this.fail(e);
      }
    });
  }

  private close(): number {
    if (this.ptr !== 0) {
      this.lib._free(this.ptr);
      this.ptr = 0;
    }
    const out = this.out;
    this.out = undefined;
    return out ? out.close() : 0;
  }

  private async discard(): Promise<void> {
    try {
      this.close();
    } catch {
      // already failing; the file is deleted next
    }
    await this.pending.discard();
  }

  finish(): Promise<void> {
    return this.serial(async () => {
      this.assertOpen('finish');
      try {
        if (this.close() < 0) throw new Error('H5Fclose failed');
        await this.pending.commit();
        this.state = 'finished';
      } catch (e) {
        await this.fail(e);
      }
    });
  }

  abort(): Promise<void> {
    return this.serial(async () => {
      if (this.state !== 'open') return;
      this.state = 'aborted';
      await this.discard();
    });
  }
}

/**
 * Opens `file` (its directory must exist) for an (images, masks, H, W) uint64 `labels` dataset, written image by
 * image with `writeImage`, then `finish()`.
 */
export async function openStackLabelsH5Writer(file: string, options: StackLabelsH5Options): Promise<StackLabelsWriter> {
  const images = positiveInt(file, 'images', options?.images);
  const masks = positiveInt(file, 'masks', options.masks);
  const width = positiveInt(file, 'width', options.width);
  const height = positiveInt(file, 'height', options.height);
  const chunk = positiveInt(file, 'chunkSize', options.chunkSize ?? H5_DEFAULT_CHUNK_SIZE);
  const compression = options.compression ?? 0;
  if (!Number.isInteger(compression) || compression < 0 || compression > 9) {
    throw new InputError(`${file}: compression must be an integer 0..9, got ${String(compression)}`, ARGUMENT);
  }
  const budget = options.maxBufferBytes ?? 16 << 20;
  if (typeof budget !== 'number' || !(budget > 0)) {
    throw new InputError(`${file}: maxBufferBytes must be positive, got ${String(budget)}`, ARGUMENT);
  }
  const edge = Math.min(chunk, height);
  const bandRows = Math.max(1, Math.floor(budget / 8 / width / edge)) * edge;
  const pending = beginAtomicFile(file);
  const { lib: h5, module: lib } = await loadH5wasm();
  const writer = new H5StackWriter(file, h5, lib, pending, images, masks, width, height, bandRows);
  try {
    writer.open(chunk, compression);
  } catch (e) {
    await writer.abort();
    throw new InputError(`${file}: cannot write HDF5: ${errorMessage(e)}`, IO_WRITE, { cause: e });
  }
  return writer;
}
