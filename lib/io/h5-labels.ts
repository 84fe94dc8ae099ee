/**
 * A uint64 `labels` dataset (scPortrait's segmentation dtype) written piece by piece into a temp file: created
 * empty at its full extent, fed through one staging buffer in h5wasm's heap (ids widened straight into it), then
 * closed and renamed into place — or discarded. Shared by the band writer of segmentation.h5 and the batch
 * writer of (images, masks, H, W) stacks.
 */
import path from 'node:path';
import { InputError } from '../errors.js';
import { beginAtomicFile, type PendingOutput } from './atomic.js';
import { H5WriteCoalescer } from './h5-coalesce.js';
import { H5_LABELS_DATASET } from './hdf5.js';
import { hdf5Cause, loadH5wasm, type H5Lib, type H5Module } from './h5wasm.js';
import { IO_WRITE } from './source.js';

type H5File = InstanceType<H5Lib['File']>;

export class H5LabelsDataset {
  private ptr = 0;
  private readonly coalescer: H5WriteCoalescer | undefined;

  private constructor(
    private readonly module: H5Module,
    private readonly pending: PendingOutput,
    private out: H5File | undefined,
    private readonly capacity: number,
  ) {
    this.coalescer = H5WriteCoalescer.for(module);
  }

  /**
   * A temp file beside `file` with an empty dataset of `shape` and `chunks` (gzip `compression` 1–9, 0: none), and
   * a staging buffer of `bufferElements` ids. Failing, it leaves nothing behind: InputError ERR_SCSEG_IO_WRITE.
   */
  static async create(
    file: string,
    shape: readonly number[],
    chunks: readonly number[],
    compression: number,
    bufferElements: number,
  ): Promise<H5LabelsDataset> {
    const pending = beginAtomicFile(file);
    try {
      return await H5LabelsDataset.createIn(pending, shape, chunks, compression, bufferElements);
    } catch (e) {
      await pending.discard();
      throw new InputError(`${file}: cannot write HDF5: ${hdf5Cause(e)}`, IO_WRITE, { cause: e });
    }
  }

  private static async createIn(
    pending: PendingOutput,
    shape: readonly number[],
    chunks: readonly number[],
    compression: number,
    bufferElements: number,
  ): Promise<H5LabelsDataset> {
    const { lib, module } = await loadH5wasm();
    const out = new lib.File(path.resolve(pending.path), 'w');
    const dataset = new H5LabelsDataset(module, pending, out, bufferElements);
    try {
      if (out.file_id < 0n) throw new Error('H5Fcreate failed');
      // Created empty with room for `shape`, then resized: h5wasm's create_dataset writes all its data at once.
      const ds = out.create_dataset({
        name: H5_LABELS_DATASET,
        data: new BigUint64Array(0),
        shape: [0, ...shape.slice(1)],
        maxshape: [...shape],
        chunks: [...chunks],
        dtype: '<Q',
        ...(compression > 0 ? { compression } : {}),
      });
      if (!(ds instanceof lib.Dataset)) throw new Error('H5Dcreate failed');
      if (ds.resize([...shape]) < 0) throw new Error('H5Dset_extent failed');
      dataset.ptr = module._malloc(bufferElements * 8);
      if (dataset.ptr === 0) throw new Error(`cannot allocate ${bufferElements * 8} bytes in the HDF5 heap`);
      // High words stay 0 (ids are uint32): zeroed once here, then write() sets only the low words.
      module.HEAPU8.fill(0, dataset.ptr, dataset.ptr + bufferElements * 8);
    } catch (e) {
      dataset.close();
      throw e;
    }
    return dataset;
  }

  /** Writes `src[start .. start + ∏extent)` as the hyperslab at `offset` of `extent` (row-major). */
  write(src: Uint32Array, start: number, offset: readonly number[], extent: readonly number[]): void {
    const count = extent.reduce((a, b) => a * b, 1);
    if (count > this.capacity) throw new Error(`a write of ${count} ids exceeds the staging buffer (${this.capacity})`);
    // The view is taken after any heap growth: low word = id (the high words were zeroed at creation).
    const words = new Uint32Array(this.module.HEAPU8.buffer, this.ptr, 2 * count);
    for (let k = 0, s = start; k < 2 * count; k += 2, s++) words[k] = src[s];
    let status: number;
    const call = () =>
      this.module.set_dataset_data(
        this.out!.file_id, `/${H5_LABELS_DATASET}`,
        extent.map(BigInt), offset.map(BigInt), extent.map(() => 1n), BigInt(this.ptr),
      );
    try {
      // The band's chunks land one after another in the file: written together, not 20 kB at a time.
      status = this.coalescer ? this.coalescer.run(call) : call();
    } catch (e) {
      throw new Error(hdf5Cause(e), { cause: e });
    }
    if (status < 0) throw new Error(`H5Dwrite failed at (${offset.join(', ')}), extent (${extent.join(', ')})`);
  }

  /** Closes the file and renames it into place. */
  async commit(): Promise<void> {
    let status: number;
    try {
      status = this.close();
    } catch (e) {
      throw new Error(hdf5Cause(e), { cause: e });
    }
    if (status < 0) throw new Error('H5Fclose failed');
    await this.pending.commit();
  }

  /** Closes (errors ignored: already failing) and deletes the temp file. */
  async discard(): Promise<void> {
    try {
      this.close();
    } catch {
      // the file is deleted next
    }
    await this.pending.discard();
  }

  private close(): number {
    if (this.ptr !== 0) {
      this.module._free(this.ptr);
      this.ptr = 0;
    }
    const out = this.out;
    this.out = undefined;
    return out ? out.close() : 0;
  }
}
