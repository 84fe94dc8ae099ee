/**
 * Band-wise (streaming) writers for segmentation results, so a sharded segmentation of a larger-than-memory image
 * can write its final masks without ever holding a whole mask: the caller delivers horizontal bands of
 * `bandRows` rows (every mask's rows y0..y1 at once), top to bottom, then calls `finish()`.
 *
 * - `openSegmentationH5Writer`: scPortrait's segmentation.h5 (dataset `labels`, uint64, (n, H, W)).
 * - `openOmeZarrLabelsWriter`: NGFF 0.4 label images under `root/labels/<name>` (Zarr v2).
 *
 * Both are atomic like every writer here: output goes to hidden temporaries beside the final names, which
 * `finish()` fsyncs and renames into place; `abort()`, and any failure (a bad argument included), deletes them.
 * Only one band is in memory at a time, also inside h5wasm's heap. `writeSegmentationH5` and `writeOmeZarrLabels`
 * write whole in-memory masks through the same writers.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';
import { beginDirReplace, writeFileAtomic, type PendingOutput } from './atomic.js';
import { H5_DEFAULT_CHUNK_SIZE, H5_LABELS_DATASET } from './hdf5.js';
import { H5LabelsDataset } from './h5-labels.js';
import { assertLabelImages, bufferBudget, positiveInt, zlibLevel, type WriteProgress } from './labels.js';
import { SerialOutput } from './serial-output.js';
import { asInputError, IO_WRITE } from './source.js';
import { readJson, zarrNode } from './zarr.js';

const ARGUMENT = 'ERR_SCSEG_ARGUMENT';

/** A streaming writer of `masks` label images of `width`×`height`, fed band by band. */
export interface LabelBandWriter {
  readonly width: number;
  readonly height: number;
  /** Number of label images (masks) every band carries. */
  readonly masks: number;
  /**
   * Rows per band: band k covers rows k·bandRows .. min(height, (k+1)·bandRows), so only the last one may be
   * shorter. Always whole chunk rows of the output.
   */
  readonly bandRows: number;
  /** ceil(height / bandRows). */
  readonly bandCount: number;
  /** The row the next band must start at (`height` once every band is written). */
  readonly nextRow: number;
  /**
   * Writes rows y0..min(height, y0 + bandRows) of every mask: `bands[i]` is mask i's rows, row-major,
   * (y1 - y0)·width label ids. `y0` must be `nextRow`. Calls are serialised; the arrays may be reused once the
   * promise settles.
   */
  writeBand(y0: number, bands: readonly Uint32Array[]): Promise<void>;
  /** After the last band: closes, fsyncs and renames the output into place. */
  finish(): Promise<void>;
  /** Closes and deletes the temporaries. Idempotent; a no-op after `finish()` or after a failure (which aborted already). */
  abort(): Promise<void>;
}

/**
 * Band order, argument checks, progress, serialisation and the abort-on-failure rule; subclasses write the rows
 * and commit or discard their temporaries.
 */
abstract class BandWriter extends SerialOutput implements LabelBandWriter {
  private row = 0;
  private done = 0;
  readonly bandCount: number;

  protected constructor(
    target: string,
    readonly width: number,
    readonly height: number,
    readonly masks: number,
    readonly bandRows: number,
    /** Progress steps of the whole write (each subclass's unit: a mask's band, a mask's chunk row). */
    private readonly totalSteps: number,
    private readonly onProgress: WriteProgress | undefined,
  ) {
    super(target);
    this.bandCount = Math.ceil(height / bandRows);
  }

  get nextRow(): number {
    return this.row;
  }

  /** Rows y0..y1 of every mask, checked; `bands[m].length === (y1 - y0) * width`. */
  protected abstract writeRows(y0: number, y1: number, bands: readonly Uint32Array[]): Promise<void>;

  /** One progress step done; a throwing callback aborts the write. */
  protected step(): void {
    this.onProgress?.(++this.done, this.totalSteps);
  }

  private check(y0: unknown, bands: unknown): number {
    if (y0 !== this.row) {
      const expected = this.row >= this.height ? `all ${this.height} rows are written already` : `expected row ${this.row}`;
      throw new InputError(
        `${this.target}: band at row ${String(y0)}, ${expected} (bands of ${this.bandRows} rows, top to bottom)`, ARGUMENT,
      );
    }
    const y1 = Math.min(this.height, this.row + this.bandRows);
    if (!Array.isArray(bands) || bands.length !== this.masks) {
      throw new InputError(
        `${this.target}: band at row ${y0} needs one array per mask (${this.masks}), got ${Array.isArray(bands) ? bands.length : String(bands)}`,
        ARGUMENT,
      );
    }
    for (let m = 0; m < bands.length; m++) {
      const b: unknown = bands[m];
      if (!(b instanceof Uint32Array)) {
        throw new InputError(`${this.target}: band at row ${y0}, mask ${m}: label ids must be a Uint32Array`, 'ERR_SCSEG_DTYPE');
      }
      if (b.length !== (y1 - this.row) * this.width) {
        throw new InputError(
          `${this.target}: band at row ${y0}, mask ${m}: ${b.length} ids for rows ${y0}..${y1} of width ${this.width} (need ${(y1 - this.row) * this.width})`,
          'ERR_SCSEG_SHAPE',
        );
      }
    }
    return y1;
  }

  writeBand(y0: number, bands: readonly Uint32Array[]): Promise<void> {
    return this.operation('writeBand', async () => {
      const y1 = this.check(y0, bands);
      await this.writeRows(y0, y1, bands);
      this.row = y1;
    });
  }

  protected override checkComplete(): void {
    if (this.row < this.height) {
      throw new InputError(`${this.target}: finish() after ${this.row} of ${this.height} rows`, ARGUMENT);
    }
  }
}

/** Feeds whole in-memory masks to a band writer; aborts it on any failure. */
async function writeWhole(writer: LabelBandWriter, masks: readonly Image2D<Uint32Array>[]): Promise<void> {
  const { width, height, bandRows } = writer;
  try {
    for (let y0 = 0; y0 < height; y0 += bandRows) {
      const y1 = Math.min(height, y0 + bandRows);
      await writer.writeBand(y0, masks.map((m) => m.data.subarray(y0 * width, y1 * width)));
    }
    await writer.finish();
  } finally {
    await writer.abort();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// segmentation.h5


export interface SegmentationH5WriterOptions {
  width: number;
  height: number;
  /** Number of masks (the first dimension of `labels`). */
  masks: number;
  /** HDF5 chunk edge (scPortrait's `chunk_size`, default 50); clamped to the image so small images stay writable. */
  chunkSize?: number;
  /** gzip level 1–9 for the chunks; 0 or absent: uncompressed, as scPortrait writes. */
  compression?: number;
  /**
   * Memory for one mask's band as stored (uint64 rows, the staging buffer in h5wasm's heap), default 16 MiB.
   * `bandRows` is the largest multiple of the chunk edge within it (at least one chunk row).
   */
  maxBufferBytes?: number;
  /** Called after each mask's band (`total` = masks × bandCount); throwing aborts the write. */
  onProgress?: WriteProgress;
}

class SegmentationH5Writer extends BandWriter {
  constructor(
    file: string,
    private readonly dataset: H5LabelsDataset,
    width: number, height: number, masks: number, bandRows: number, onProgress: WriteProgress | undefined,
  ) {
    super(file, width, height, masks, bandRows, masks * Math.ceil(height / bandRows), onProgress);
  }

  protected async writeRows(y0: number, y1: number, bands: readonly Uint32Array[]): Promise<void> {
    for (let m = 0; m < bands.length; m++) {
      this.dataset.write(bands[m], 0, [m, y0, 0], [1, y1 - y0, this.width]);
      this.step();
    }
  }

  protected commit(): Promise<void> {
    return this.dataset.commit();
  }

  protected discard(): Promise<void> {
    return this.dataset.discard();
  }
}

/**
 * Opens a band writer for scPortrait's segmentation.h5 at `file`: one dataset `labels`, little-endian uint64,
 * shape (masks, H, W), chunks (1, min(chunk, H), min(chunk, W)), optionally gzip-compressed, nothing else.
 * The file is built under a hidden temp name in the same directory, which `finish()` fsyncs and renames to `file`.
 */
export async function openSegmentationH5Writer(file: string, options: SegmentationH5WriterOptions): Promise<LabelBandWriter> {
  const width = positiveInt(file, 'width', options?.width);
  const height = positiveInt(file, 'height', options.height);
  const n = positiveInt(file, 'masks', options.masks);
  const chunk = positiveInt(file, 'chunkSize', options.chunkSize ?? H5_DEFAULT_CHUNK_SIZE);
  const compression = zlibLevel(file, 'compression', options.compression ?? 0);
  const budget = bufferBudget(file, options.maxBufferBytes);
  // Bands of whole chunk rows within the budget: bounded memory in the WASM heap for any image size.
  const bandRows = Math.max(1, Math.floor(budget / 8 / width / chunk)) * chunk;
  const chunks = [1, Math.min(chunk, height), Math.min(chunk, width)];
  const dataset = await H5LabelsDataset.create(file, [n, height, width], chunks, compression, Math.min(bandRows, height) * width);
  return new SegmentationH5Writer(file, dataset, width, height, n, bandRows, options.onProgress);
}

export interface SegmentationH5Options {
  /** HDF5 chunk edge (scPortrait's `chunk_size`, default 50); clamped to the image so small images stay writable. */
  chunkSize?: number;
  /** gzip level 1–9; 0 or absent: uncompressed (scPortrait's segmentation.h5 is). */
  compression?: number;
  /** Memory for one band of uint64 rows handed to HDF5 (default 16 MiB); bands are whole chunk rows. */
  maxBufferBytes?: number;
  /** Called after each written band of each mask; throwing aborts the write (the temp file is removed). */
  onProgress?: WriteProgress;
}

/**
 * Writes masks as scPortrait's segmentation.h5: one dataset `labels`, uint64 (DEFAULT_SEGMENTATION_DTYPE),
 * shape (n_masks, H, W), chunks (1, chunk, chunk), no compression unless asked, no other dataset (classes go to
 * classes.csv). Atomic: written to a temp file beside `file`, fsynced, then renamed.
 */
export async function writeSegmentationH5(
  file: string,
  masks: readonly Image2D<Uint32Array>[],
  options: SegmentationH5Options = {},
): Promise<void> {
  const { width, height } = assertLabelImages(masks, `${file}: masks`);
  const writer = await openSegmentationH5Writer(file, { ...options, width, height, masks: masks.length });
  await writeWhole(writer, masks);
}

// ---------------------------------------------------------------------------------------------------------------
// OME-Zarr labels (NGFF 0.4)

export interface OmeZarrLabelsWriterOptions {
  width: number;
  height: number;
  /** Stored integer type; uint32 (default) matches our masks, uint64 matches scPortrait's segmentation dtype. */
  dtype?: 'uint32' | 'uint64';
  /** Chunk edge in pixels (default 1024), clamped to the image. */
  chunkSize?: number;
  /** zlib level 0–9 (default 1); 0 stores chunks uncompressed (compressor null). */
  compressionLevel?: number;
  /**
   * Rows per band, kept exactly (so it can follow another writer's `bandRows`); default one chunk row. The chunk
   * height then divides it: bandRows itself when it is below the chunk edge, else its largest divisor up to the
   * chunk edge (bandRows itself if that divisor is under half the edge, e.g. for a prime).
   */
  bandRows?: number;
  /** Called after each chunk row of each label image (`total` = images × chunk rows); throwing aborts the write. */
  onProgress?: WriteProgress;
}

const LABEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Chunk height for bands of `bandRows` rows (chunk edge `edge` ≤ height): one that divides `bandRows`, so every
 * band is whole chunk rows — the largest divisor up to `edge`, or `bandRows` itself when that divisor is under half
 * of min(edge, bandRows) (a prime band height would otherwise give 1-row chunks). A single band: just `edge`.
 */
function chunkRows(bandRows: number, edge: number, height: number): number {
  if (bandRows >= height) return edge;
  const cap = Math.min(edge, bandRows);
  let d = cap;
  while (bandRows % d !== 0) d--;
  return 2 * d >= cap ? d : bandRows;
}
const ZGROUP = JSON.stringify({ zarr_format: 2 });

class OmeZarrLabelsWriter extends BandWriter {
  private readonly pending: PendingOutput[] = [];
  /** The top-most directory this writer created (to remove on abort), if any. */
  private created: string | undefined;
  private readonly block: Uint32Array;
  private readonly words: number;

  constructor(
    private readonly root: string,
    private readonly names: readonly string[],
    width: number, height: number, bandRows: number,
    private readonly chunkH: number,
    private readonly chunkW: number,
    private readonly dtype: 'uint32' | 'uint64',
    private readonly level: number,
    onProgress: WriteProgress | undefined,
  ) {
    super(root, width, height, names.length, bandRows, names.length * Math.ceil(height / chunkH), onProgress);
    this.words = dtype === 'uint32' ? 1 : 2;
    this.block = new Uint32Array(chunkH * chunkW * this.words);
  }

  private get labelsDir(): string {
    return path.join(this.root, 'labels');
  }

  /** One temp directory per label image, with its group and array metadata. */
  async open(): Promise<void> {
    this.created = await fs.promises.mkdir(this.labelsDir, { recursive: true });
    for (const name of this.names) {
      const pending = await beginDirReplace(path.join(this.labelsDir, name));
      this.pending.push(pending);
      const tmp = pending.path;
      await fs.promises.writeFile(path.join(tmp, '.zgroup'), ZGROUP);
      await fs.promises.writeFile(path.join(tmp, '.zattrs'), JSON.stringify({
        multiscales: [{
          version: '0.4',
          name,
          axes: [{ name: 'y', type: 'space' }, { name: 'x', type: 'space' }],
          datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1.0, 1.0] }] }],
        }],
        'image-label': { version: '0.4', source: { image: '../../' } },
      }, null, 2));
      await fs.promises.mkdir(path.join(tmp, '0'));
      await fs.promises.writeFile(path.join(tmp, '0', '.zarray'), JSON.stringify({
        zarr_format: 2,
        shape: [this.height, this.width],
        chunks: [this.chunkH, this.chunkW],
        dtype: this.dtype === 'uint32' ? '<u4' : '<u8',
        compressor: this.level > 0 ? { id: 'zlib', level: this.level } : null,
        fill_value: 0,
        order: 'C',
        filters: null,
        dimension_separator: '/',
      }, null, 2));
    }
  }

  protected async writeRows(y0: number, y1: number, bands: readonly Uint32Array[]): Promise<void> {
    const { width, chunkH: ch, chunkW: cw, block, words, level } = this;
    const bytes = new Uint8Array(block.buffer);
    const cx = Math.ceil(width / cw);
    for (let m = 0; m < bands.length; m++) {
      const src = bands[m];
      const arrayDir = path.join(this.pending[m].path, '0');
      for (let by = y0 / ch; by * ch < y1; by++) {
        const rowDir = path.join(arrayDir, String(by));
        await fs.promises.mkdir(rowDir);
        const h = Math.min(ch, y1 - by * ch);
        const r0 = by * ch - y0; // first row of this chunk row within the band
        for (let bx = 0; bx < cx; bx++) {
          // Edge chunks are stored full-size (Zarr v2 requires it), padded with the fill value 0.
          block.fill(0);
          const x0 = bx * cw;
          const w = Math.min(cw, width - x0);
          for (let r = 0; r < h; r++) {
            const s = (r0 + r) * width + x0;
            if (words === 1) block.set(src.subarray(s, s + w), r * cw);
            else for (let k = 0; k < w; k++) block[2 * (r * cw + k)] = src[s + k];
          }
          const payload = level > 0 ? zlib.deflateSync(bytes, { level }) : bytes;
          await fs.promises.writeFile(path.join(rowDir, String(bx)), payload);
        }
        this.step();
      }
    }
  }

  protected async commit(): Promise<void> {
    const { root, labelsDir } = this;
    try {
      if (!zarrNode(root)) await writeFileAtomic(path.join(root, '.zgroup'), ZGROUP);
      if (!fs.existsSync(path.join(labelsDir, '.zgroup'))) await writeFileAtomic(path.join(labelsDir, '.zgroup'), ZGROUP);
    } catch (e) {
      throw asInputError(e, root, 'cannot create the labels group', IO_WRITE);
    }
    this.created = undefined; // the groups are part of the result from here on
    for (const p of this.pending) await p.commit();
    const attrsFile = path.join(labelsDir, '.zattrs');
    const existing = readJson(attrsFile) ?? {};
    const listed = Array.isArray(existing.labels) ? (existing.labels as unknown[]).filter((s) => typeof s === 'string') as string[] : [];
    const merged = [...listed, ...this.names.filter((n) => !listed.includes(n))];
    await writeFileAtomic(attrsFile, JSON.stringify({ ...existing, labels: merged }, null, 2));
  }

  protected async discard(): Promise<void> {
    for (const p of this.pending) await p.discard();
    // Directories this writer created for nothing (still empty) go too; rmdir refuses non-empty ones.
    if (this.created === undefined) return;
    for (let dir = this.labelsDir; ; dir = path.dirname(dir)) {
      try {
        await fs.promises.rmdir(dir);
      } catch {
        break;
      }
      if (dir === this.created || dir === path.dirname(dir)) break;
    }
    this.created = undefined;
  }
}

/**
 * Opens a band writer for the label images `root/labels/<names[i]>` (NGFF 0.4: Zarr v2, `/`-separated chunk keys,
 * a one-level multiscale with axes y,x and `image-label` metadata pointing at the image `../../`); `finish()`
 * lists the names in `root/labels/.zattrs` (merged with labels already there). `root` need not exist; if it does
 * not, it becomes a plain Zarr group. Each label image is written into a hidden temp directory beside its final
 * name and renamed into place on `finish()` (replacing one of the same name); `.zattrs` files are replaced
 * atomically. Chunks are [h, min(chunkSize, W)] with h dividing `bandRows` (see there), so every band is whole
 * chunk rows.
 */
export async function openOmeZarrLabelsWriter(
  root: string,
  names: readonly string[],
  options: OmeZarrLabelsWriterOptions,
): Promise<LabelBandWriter> {
  const width = positiveInt(root, 'width', options?.width);
  const height = positiveInt(root, 'height', options.height);
  if (!Array.isArray(names) || names.length === 0) {
    throw new InputError(`${root}: need at least one label name`, ARGUMENT);
  }
  for (const n of names) {
    if (typeof n !== 'string' || !LABEL_NAME.test(n) || names.indexOf(n) !== names.lastIndexOf(n)) {
      throw new InputError(`${root}: invalid or duplicate label name ${JSON.stringify(n)} (letters, digits, _ . -)`, ARGUMENT);
    }
  }
  const dtype = options.dtype ?? 'uint32';
  if (dtype !== 'uint32' && dtype !== 'uint64') throw new InputError(`${root}: dtype must be uint32 or uint64`, ARGUMENT);
  const chunk = positiveInt(root, 'chunkSize', options.chunkSize ?? 1024);
  const zlevel = zlibLevel(root, 'compressionLevel', options.compressionLevel ?? 1);
  const chunkW = Math.min(chunk, width);
  const edge = Math.min(chunk, height);
  const bandRows = options.bandRows === undefined ? edge : positiveInt(root, 'bandRows', options.bandRows);
  const chunkH = chunkRows(bandRows, edge, height);
  const writer = new OmeZarrLabelsWriter(
    root, [...names], width, height, bandRows, chunkH, chunkW, dtype, zlevel, options.onProgress,
  );
  try {
    await writer.open();
  } catch (e) {
    await writer.abort();
    throw asInputError(e, root, 'cannot create the label images', IO_WRITE);
  }
  return writer;
}

export interface OmeZarrLabelsOptions {
  /** Stored integer type; uint32 (default) matches our masks, uint64 matches scPortrait's segmentation dtype. */
  dtype?: 'uint32' | 'uint64';
  /** Chunk edge in pixels (default 1024). */
  chunkSize?: number;
  /** zlib level 0–9 (default 1); 0 stores chunks uncompressed (compressor null). */
  compressionLevel?: number;
  /** Called after each chunk row of each label image; throwing aborts the write (nothing is replaced). */
  onProgress?: WriteProgress;
}

/**
 * Writes `masks[i]` as the label image `root/labels/<names[i]>` through `openOmeZarrLabelsWriter` (see there for
 * the layout), one chunk row per band. All label images are renamed into place only after every one is written.
 */
export async function writeOmeZarrLabels(
  root: string,
  masks: readonly Image2D<Uint32Array>[],
  names: readonly string[],
  options: OmeZarrLabelsOptions = {},
): Promise<void> {
  const { width, height } = assertLabelImages(masks, `${root}: masks`);
  if (!Array.isArray(names) || names.length !== masks.length) {
    throw new InputError(`${root}: need one name per mask (${masks.length}), got ${Array.isArray(names) ? names.length : String(names)}`, ARGUMENT);
  }
  const writer = await openOmeZarrLabelsWriter(root, names, { ...options, width, height });
  await writeWhole(writer, masks);
}
