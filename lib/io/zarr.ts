/**
 * OME-Zarr on the local filesystem: reading multiscale images (NGFF 0.1–0.5, Zarr v2 or v3, via zarrita) and
 * writing segmentation labels as an NGFF 0.4 `labels` group (Zarr v2, written directly: zarrita creates v3 only).
 *
 * Images: level 0 of the first multiscale; axes among t,c,z,y,x with t and z of size 1 (absent axes = size 1;
 * no axes metadata = NGFF ≤ 0.2's implicit t,c,z,y,x). A bioformats2raw root opens its series 0, and a bare Zarr
 * array is read as (C,H,W) or (H,W). Reads request only the chunks that intersect the channel/window.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as zarr from 'zarrita';
import type { AbsolutePath, AsyncReadable } from 'zarrita';
import { InputError } from '../errors.js';
import type { DType, Image2D, PixelArray } from '../image.js';
import { replaceDirAtomic, writeFileAtomic } from './atomic.js';
import { assertLabelImages, type WriteProgress } from './labels.js';
import {
  asInputError, BaseImageSource, IO_CORRUPT, IO_FORMAT, IO_NOT_FOUND, type PixelWindow, statInput,
} from './source.js';

/** Read-only zarrita store over a directory; keys outside the root are refused. */
class DirectoryStore implements AsyncReadable {
  constructor(private readonly root: string) {}

  private resolve(key: AbsolutePath): string {
    const full = path.join(this.root, ...key.split('/').filter((s) => s.length > 0));
    if (full !== this.root && !full.startsWith(this.root + path.sep)) throw new Error(`key ${key} escapes the store`);
    return full;
  }

  async get(key: AbsolutePath): Promise<Uint8Array | undefined> {
    try {
      const buf = await fs.promises.readFile(this.resolve(key));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw e;
    }
  }
}

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Json) : {};
  } catch (e) {
    throw asInputError(e, file, 'invalid JSON');
  }
}

interface ZarrNode {
  kind: 'group' | 'array';
  attrs: Json;
}

/** Group or array metadata of a directory, Zarr v2 (.zgroup/.zarray + .zattrs) or v3 (zarr.json). */
function zarrNode(dir: string): ZarrNode | undefined {
  const v3 = readJson(path.join(dir, 'zarr.json'));
  if (v3) {
    const attrs = (v3.attributes as Json | undefined) ?? {};
    return { kind: v3.node_type === 'array' ? 'array' : 'group', attrs };
  }
  const attrs = readJson(path.join(dir, '.zattrs')) ?? {};
  if (fs.existsSync(path.join(dir, '.zarray'))) return { kind: 'array', attrs };
  if (fs.existsSync(path.join(dir, '.zgroup')) || fs.existsSync(path.join(dir, '.zattrs'))) return { kind: 'group', attrs };
  return undefined;
}

export function isZarrDirectory(dir: string): boolean {
  return zarrNode(dir) !== undefined;
}

/** NGFF 0.5 nests everything under `ome`; earlier versions keep it at the top level. */
function omeAttrs(attrs: Json): Json {
  return (attrs.ome as Json | undefined) ?? attrs;
}

const AXIS_NAMES = ['t', 'c', 'z', 'y', 'x'];

function axesOf(file: string, multiscale: Json, rank: number): string[] {
  const raw = multiscale.axes as unknown;
  let axes: string[];
  if (raw === undefined) {
    axes = AXIS_NAMES.slice(5 - rank);
  } else if (Array.isArray(raw)) {
    axes = raw.map((a: unknown) => (typeof a === 'string' ? a : String((a as Json)?.name ?? '')).toLowerCase());
  } else {
    throw new InputError(`${file}: multiscales axes must be a list`, IO_FORMAT);
  }
  if (axes.length !== rank) {
    throw new InputError(`${file}: ${axes.length} axes (${axes.join(',')}) for a rank-${rank} array`, IO_FORMAT);
  }
  for (const a of axes) {
    if (!AXIS_NAMES.includes(a) || axes.indexOf(a) !== axes.lastIndexOf(a)) {
      throw new InputError(`${file}: unsupported axes (${axes.join(',')}); expected a subset of t,c,z,y,x`, IO_FORMAT);
    }
  }
  if (!axes.includes('y') || !axes.includes('x') || axes.indexOf('y') > axes.indexOf('x')) {
    throw new InputError(`${file}: axes (${axes.join(',')}) must include y and x, in that order`, IO_FORMAT);
  }
  return axes;
}

const PIXEL_DTYPES = new Set(['uint8', 'uint16', 'float32']);

interface ResolvedImage {
  arrayDir: string;
  /** Absent for a bare array. */
  multiscale?: Json;
  channelNames?: string[];
}

/** From an OME-Zarr root (or bioformats2raw root, or bare array) to the level-0 array and its axes. */
function resolveImage(dir: string): ResolvedImage {
  let node = zarrNode(dir);
  if (!node) throw new InputError(`${dir}: not a Zarr directory (no .zgroup/.zattrs/.zarray/zarr.json)`, IO_FORMAT);
  if (node.kind === 'array') return { arrayDir: dir };
  let root = dir;
  let ome = omeAttrs(node.attrs);
  if (!ome.multiscales && ome['bioformats2raw.layout'] !== undefined) {
    root = path.join(dir, '0');
    node = zarrNode(root);
    if (!node) throw new InputError(`${dir}: bioformats2raw layout without series 0`, IO_FORMAT);
    ome = omeAttrs(node.attrs);
  }
  const multiscales = ome.multiscales as unknown;
  if (!Array.isArray(multiscales) || multiscales.length === 0) {
    throw new InputError(`${root}: Zarr group without OME 'multiscales' metadata`, IO_FORMAT);
  }
  const ms = multiscales[0] as Json;
  const datasets = ms.datasets as unknown;
  const level0 = Array.isArray(datasets) ? (datasets[0] as Json | undefined)?.path : undefined;
  if (typeof level0 !== 'string') throw new InputError(`${root}: multiscales[0] has no datasets[0].path`, IO_FORMAT);
  const arrayDir = path.join(root, level0);
  const arrayNode = zarrNode(arrayDir);
  if (arrayNode?.kind !== 'array') throw new InputError(`${arrayDir}: level-0 array of the multiscale is missing`, IO_NOT_FOUND);
  const channels = (ome.omero as Json | undefined)?.channels;
  const channelNames = Array.isArray(channels)
    ? channels.map((c: unknown, i) => String((c as Json)?.label ?? `C${i}`))
    : undefined;
  return { arrayDir, multiscale: ms, channelNames };
}

type ZArray = zarr.Array<zarr.DataType, AsyncReadable>;

async function openArray(arrayDir: string): Promise<ZArray> {
  try {
    return await zarr.open(new DirectoryStore(arrayDir), { kind: 'array' });
  } catch (e) {
    throw asInputError(e, arrayDir, 'cannot open Zarr array', IO_CORRUPT);
  }
}

export class ZarrSource extends BaseImageSource {
  readonly format = 'ome-zarr' as const;

  private constructor(
    dir: string,
    private readonly array: ZArray,
    /** Position of each of t,c,z,y,x in the array's dimensions (-1 when absent). */
    private readonly axisIndex: Record<string, number>,
    shape: [number, number, number],
    dtype: DType,
    channelNames?: string[],
  ) {
    super([dir], shape[0], shape[1], shape[2], dtype, channelNames);
  }

  static async open(dir: string): Promise<ZarrSource> {
    statInput(dir, 'directory');
    const resolved = resolveImage(dir);
    const array = await openArray(resolved.arrayDir);
    const rank = array.shape.length;
    let axes: string[];
    if (resolved.multiscale) {
      axes = axesOf(dir, resolved.multiscale, rank);
    } else if (rank === 2 || rank === 3) {
      axes = rank === 3 ? ['c', 'y', 'x'] : ['y', 'x'];
    } else {
      throw new InputError(`${dir}: bare Zarr array of shape (${array.shape.join(', ')}); expected (C, H, W) or (H, W)`, 'ERR_SCSEG_SHAPE');
    }
    const axisIndex: Record<string, number> = {};
    for (const a of AXIS_NAMES) axisIndex[a] = axes.indexOf(a);
    const size = (a: string) => (axisIndex[a] >= 0 ? array.shape[axisIndex[a]] : 1);
    for (const a of ['t', 'z']) {
      if (size(a) !== 1) {
        throw new InputError(
          `${dir}: axis ${a} has size ${size(a)}; only 2-D images (singleton t and z) are supported`,
          'ERR_SCSEG_SHAPE',
        );
      }
    }
    if (!PIXEL_DTYPES.has(array.dtype)) {
      throw new InputError(`${dir}: unsupported dtype ${array.dtype}; supported: uint8, uint16, float32`, 'ERR_SCSEG_DTYPE');
    }
    return new ZarrSource(dir, array, axisIndex, [size('c'), size('y'), size('x')], array.dtype as DType, resolved.channelNames);
  }

  protected async decodeWindow(channel: number, win: PixelWindow): Promise<PixelArray> {
    return readPlane(this.array, this.axisIndex, channel, win) as Promise<PixelArray>;
  }

  protected async release(): Promise<void> {
    // zarrita holds no file handles.
  }
}

async function readPlane(array: ZArray, axisIndex: Record<string, number>, channel: number, win: PixelWindow): Promise<unknown> {
  const selection: (number | zarr.Slice)[] = new Array(array.shape.length).fill(0);
  if (axisIndex.c >= 0) selection[axisIndex.c] = channel;
  selection[axisIndex.y] = zarr.slice(win.y, win.y + win.height);
  selection[axisIndex.x] = zarr.slice(win.x, win.x + win.width);
  const chunk = await zarr.get(array, selection);
  const { data, stride } = chunk as unknown as { data: unknown; stride: number[]; shape: number[] };
  if (stride[stride.length - 1] !== 1 || stride[stride.length - 2] !== win.width) {
    throw new InputError(`zarrita returned a strided view (${stride.join(', ')})`, IO_CORRUPT);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------------------------
// Labels: NGFF 0.4 `labels` group

export interface OmeZarrLabelsOptions {
  /** Stored integer type; uint32 (default) matches our masks, uint64 matches scPortrait's segmentation dtype. */
  dtype?: 'uint32' | 'uint64';
  /** Chunk edge in pixels (default 1024). */
  chunkSize?: number;
  /** zlib level 0–9 (default 1); 0 stores chunks uncompressed (compressor null). */
  compressionLevel?: number;
  onProgress?: WriteProgress;
}

const LABEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Writes `masks[i]` as the label image `root/labels/<names[i]>` (NGFF 0.4: Zarr v2, `/`-separated chunk keys, a
 * one-level multiscale with axes y,x and `image-label` metadata pointing at the image `../../`), and lists the
 * names in `root/labels/.zattrs` (merged with labels already there). `root` need not exist; if it does not, it is
 * created as a plain Zarr group. Each label image is written into a hidden temp directory and renamed into place;
 * `.zattrs` files are replaced atomically.
 */
export async function writeOmeZarrLabels(
  root: string,
  masks: readonly Image2D<Uint32Array>[],
  names: readonly string[],
  options: OmeZarrLabelsOptions = {},
): Promise<void> {
  const { width, height } = assertLabelImages(masks, `${root}: masks`);
  if (!Array.isArray(names) || names.length !== masks.length) {
    throw new InputError(`${root}: need one name per mask (${masks.length}), got ${Array.isArray(names) ? names.length : String(names)}`, 'ERR_SCSEG_ARGUMENT');
  }
  for (const n of names) {
    if (typeof n !== 'string' || !LABEL_NAME.test(n) || names.indexOf(n) !== names.lastIndexOf(n)) {
      throw new InputError(`${root}: invalid or duplicate label name ${JSON.stringify(n)} (letters, digits, _ . -)`, 'ERR_SCSEG_ARGUMENT');
    }
  }
  const dtype = options.dtype ?? 'uint32';
  const chunk = options.chunkSize ?? 1024;
  const level = options.compressionLevel ?? 1;
  if (dtype !== 'uint32' && dtype !== 'uint64') throw new InputError(`${root}: dtype must be uint32 or uint64`, 'ERR_SCSEG_ARGUMENT');
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new InputError(`${root}: chunkSize must be a positive integer`, 'ERR_SCSEG_ARGUMENT');
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new InputError(`${root}: compressionLevel must be 0..9`, 'ERR_SCSEG_ARGUMENT');

  const labelsDir = path.join(root, 'labels');
  try {
    await fs.promises.mkdir(labelsDir, { recursive: true });
    if (!zarrNode(root)) await writeFileAtomic(path.join(root, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
    if (!fs.existsSync(path.join(labelsDir, '.zgroup'))) {
      await writeFileAtomic(path.join(labelsDir, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
    }
  } catch (e) {
    throw asInputError(e, root, 'cannot create the labels group', 'ERR_SCSEG_IO_WRITE');
  }
  const cy = Math.ceil(height / Math.min(chunk, height));
  const cx = Math.ceil(width / Math.min(chunk, width));
  const ch = Math.min(chunk, height);
  const cw = Math.min(chunk, width);
  const total = masks.length * cy;
  for (let m = 0; m < masks.length; m++) {
    const name = names[m];
    const src = masks[m].data;
    await replaceDirAtomic(path.join(labelsDir, name), async (tmp) => {
      await fs.promises.writeFile(path.join(tmp, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
      await fs.promises.writeFile(path.join(tmp, '.zattrs'), JSON.stringify({
        multiscales: [{
          version: '0.4',
          name,
          axes: [{ name: 'y', type: 'space' }, { name: 'x', type: 'space' }],
          datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1.0, 1.0] }] }],
        }],
        'image-label': { version: '0.4', source: { image: '../../' } },
      }, null, 2));
      const arrayDir = path.join(tmp, '0');
      await fs.promises.mkdir(arrayDir);
      await fs.promises.writeFile(path.join(arrayDir, '.zarray'), JSON.stringify({
        zarr_format: 2,
        shape: [height, width],
        chunks: [ch, cw],
        dtype: dtype === 'uint32' ? '<u4' : '<u8',
        compressor: level > 0 ? { id: 'zlib', level } : null,
        fill_value: 0,
        order: 'C',
        filters: null,
        dimension_separator: '/',
      }, null, 2));
      const words = dtype === 'uint32' ? 1 : 2;
      // Edge chunks are stored full-size (Zarr v2 requires it), padded with the fill value 0.
      const block = new Uint32Array(ch * cw * words);
      const bytes = new Uint8Array(block.buffer);
      for (let by = 0; by < cy; by++) {
        const rowDir = path.join(arrayDir, String(by));
        await fs.promises.mkdir(rowDir);
        for (let bx = 0; bx < cx; bx++) {
          block.fill(0);
          const y0 = by * ch;
          const x0 = bx * cw;
          const h = Math.min(ch, height - y0);
          const w = Math.min(cw, width - x0);
          for (let r = 0; r < h; r++) {
            const s = (y0 + r) * width + x0;
            if (words === 1) block.set(src.subarray(s, s + w), r * cw);
            else for (let k = 0; k < w; k++) block[2 * (r * cw + k)] = src[s + k];
          }
          const payload = level > 0 ? zlib.deflateSync(bytes, { level }) : bytes;
          await fs.promises.writeFile(path.join(rowDir, String(bx)), payload);
        }
        options.onProgress?.(m * cy + by + 1, total);
      }
    });
  }
  const attrsFile = path.join(labelsDir, '.zattrs');
  const existing = readJson(attrsFile) ?? {};
  const listed = Array.isArray(existing.labels) ? (existing.labels as unknown[]).filter((s) => typeof s === 'string') as string[] : [];
  const merged = [...listed, ...names.filter((n) => !listed.includes(n))];
  await writeFileAtomic(attrsFile, JSON.stringify({ ...existing, labels: merged }, null, 2));
}

/** The label names listed in `root/labels/.zattrs`. */
export function listOmeZarrLabels(root: string): string[] {
  statInput(root, 'directory');
  const attrs = zarrNode(path.join(root, 'labels'))?.attrs;
  const labels = attrs ? omeAttrs(attrs).labels : undefined;
  return Array.isArray(labels) ? labels.filter((s): s is string => typeof s === 'string') : [];
}

/** Reads label image `root/labels/<name>` (level 0) as uint32; uint64 labels must fit in 32 bits. */
export async function readOmeZarrLabels(root: string, name: string): Promise<Image2D<Uint32Array>> {
  statInput(root, 'directory');
  const dir = path.join(root, 'labels', name);
  if (!fs.existsSync(dir)) {
    throw new InputError(`${root}: no label image ${name} (listed: ${listOmeZarrLabels(root).join(', ') || 'none'})`, IO_NOT_FOUND);
  }
  const resolved = resolveImage(dir);
  const array = await openArray(resolved.arrayDir);
  const rank = array.shape.length;
  const axes = resolved.multiscale ? axesOf(dir, resolved.multiscale, rank) : AXIS_NAMES.slice(5 - rank);
  const axisIndex: Record<string, number> = {};
  for (const a of AXIS_NAMES) axisIndex[a] = axes.indexOf(a);
  for (const a of ['t', 'c', 'z']) {
    if (axisIndex[a] >= 0 && array.shape[axisIndex[a]] !== 1) {
      throw new InputError(`${dir}: label image axis ${a} has size ${array.shape[axisIndex[a]]}, expected 1`, 'ERR_SCSEG_SHAPE');
    }
  }
  const height = array.shape[axisIndex.y];
  const width = array.shape[axisIndex.x];
  let data: unknown;
  try {
    data = await readPlane(array, axisIndex, 0, { x: 0, y: 0, width, height });
  } catch (e) {
    throw asInputError(e, dir, 'cannot decode label image');
  }
  if (data instanceof Uint32Array) return { data, width, height };
  if (data instanceof BigUint64Array || data instanceof Uint16Array || data instanceof Uint8Array || data instanceof Int32Array) {
    const out = new Uint32Array(width * height);
    for (let i = 0; i < out.length; i++) {
      const v = Number(data[i]);
      if (v < 0 || v > 0xffffffff) throw new InputError(`${dir}: label ${v} does not fit in uint32`, 'ERR_SCSEG_DTYPE');
      out[i] = v;
    }
    return { data: out, width, height };
  }
  throw new InputError(`${dir}: unsupported label dtype ${array.dtype}`, 'ERR_SCSEG_DTYPE');
}
