/**
 * segmentation.h5 for a stack of images (a batch run over an (images, C, H, W) input): dataset `labels`, uint64,
 * shape (images, masks, H, W), chunks (1, 1, chunk, chunk), filled image by image in any order as the images
 * finish. Images never written (failed ones) read back as 0. Only one band of one mask is staged in h5wasm's heap
 * at a time. Atomic like every writer here: built under a hidden temp name, renamed into place by `finish()`;
 * `abort()` and any failure delete it.
 */
import { InputError } from '../errors.js';
import { H5LabelsDataset } from './h5-labels.js';
import { H5_DEFAULT_CHUNK_SIZE } from './hdf5.js';
import { bufferBudget, positiveInt, zlibLevel } from './labels.js';
import { SerialOutput } from './serial-output.js';

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


/** One event-loop turn between bands, so timers and messages on the calling thread keep running. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

class H5StackWriter extends SerialOutput implements StackLabelsWriter {
  private readonly written = new Set<number>();

  constructor(
    file: string,
    private readonly dataset: H5LabelsDataset,
    readonly images: number,
    readonly masks: number,
    readonly width: number,
    readonly height: number,
    private readonly bandRows: number,
  ) {
    super(file);
  }

  private check(index: unknown, masks: unknown): void {
    const file = this.target;
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= this.images) {
      throw new InputError(`${file}: image index ${String(index)} out of range 0..${this.images - 1}`, ARGUMENT);
    }
    if (this.written.has(index)) throw new InputError(`${file}: image ${index} is written already`, ARGUMENT);
    if (!Array.isArray(masks) || masks.length !== this.masks) {
      throw new InputError(`${file}: image ${index} needs ${this.masks} masks, got ${Array.isArray(masks) ? masks.length : String(masks)}`, ARGUMENT);
    }
    for (let m = 0; m < masks.length; m++) {
      const a = masks[m] as Uint32Array;
      // Not instanceof: masks posted back by a worker may come from another realm (a test sandbox's, say).
      if (Object.prototype.toString.call(a) !== '[object Uint32Array]') throw new InputError(`${file}: image ${index}, mask ${m}: label ids must be a Uint32Array`, 'ERR_SCSEG_DTYPE');
      if (a.length !== this.width * this.height) {
        throw new InputError(`${file}: image ${index}, mask ${m}: ${a.length} ids for ${this.width}×${this.height}`, 'ERR_SCSEG_SHAPE');
      }
    }
  }

  writeImage(index: number, masks: readonly Uint32Array[]): Promise<void> {
    return this.operation('writeImage', async () => {
      this.check(index, masks);
      this.written.add(index);
      const { width, height, bandRows } = this;
      for (let m = 0; m < masks.length; m++) {
        for (let y0 = 0; y0 < height; y0 += bandRows) {
          const y1 = Math.min(height, y0 + bandRows);
          this.dataset.write(masks[m], y0 * width, [index, m, y0, 0], [1, 1, y1 - y0, width]);
          await turn();
        }
      }
    });
  }

  protected commit(): Promise<void> {
    return this.dataset.commit();
  }

  protected discard(): Promise<void> {
    return this.dataset.discard();
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
  const compression = zlibLevel(file, 'compression', options.compression ?? 0);
  const budget = bufferBudget(file, options.maxBufferBytes);
  const edge = Math.min(chunk, height);
  const bandRows = Math.max(1, Math.floor(budget / 8 / width / edge)) * edge;
  const chunks = [1, 1, Math.min(chunk, height), Math.min(chunk, width)];
  const dataset = await H5LabelsDataset.create(file, [images, masks, height, width], chunks, compression, Math.min(bandRows, height) * width);
  return new H5StackWriter(file, dataset, images, masks, width, height, bandRows);
}
