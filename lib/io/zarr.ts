/**
 * OME-Zarr on the local filesystem: reading multiscale images (NGFF 0.1–0.5, Zarr v2 or v3, via zarrita) and
 * label images. Segmentation labels are written as an NGFF 0.4 `labels` group by label-writers.ts (Zarr v2,
 * written directly: zarrita creates v3 only).
 *
 * Images: level 0 of the first multiscale; axes among t,c,z,y,x with t and z of size 1 (absent axes = size 1;
 * no axes metadata = NGFF ≤ 0.2's implicit t,c,z,y,x). A bioformats2raw root opens its series 0, and a bare Zarr
 * array is read as (C,H,W) or (H,W). Reads request only the chunks that intersect the channel/window. Opened with
 * `image` (lib/io/stack.ts), a stack of images is read instead: the t axis of an OME-Zarr image (z still of size 1),
 * or the first axis of a bare (images, C, H, W) array.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as Zarrita from 'zarrita';
import type { AbsolutePath, AsyncReadable } from 'zarrita';
import { InputError } from '../errors.js';
import type { DType, Image2D, PixelArray } from '../image.js';
import {
  asInputError, BaseImageSource, IO_CORRUPT, IO_FORMAT, IO_NOT_FOUND, type PixelWindow, statInput,
} from './source.js';

let zarrita: Promise<typeof Zarrita> | undefined;
/** zarrita (~70 modules, ~40 ms to import) is loaded when a Zarr array is first opened: most runs never read one. */
const loadZarrita = (): Promise<typeof Zarrita> => (zarrita ??= import('zarrita'));

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

export type Json = Record<string, unknown>;

/** A JSON object file; undefined if it cannot be read, InputError if it is not JSON. */
export function readJson(file: string): Json | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (text.trim() === '') throw new InputError(`${file}: empty file (expected JSON metadata)`, IO_CORRUPT);
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
export function zarrNode(dir: string): ZarrNode | undefined {
  const v3 = readJson(path.join(dir, 'zarr.json'));
  if (v3) {
    const attrs = (v3.attributes as Json | undefined) ?? {};
    return { kind: v3.node_type === 'array' ? 'array' : 'group', attrs };
  }
  const attrs = readJson(path.join(dir, '.zattrs')) ?? {};
  const zarray = path.join(dir, '.zarray');
  if (fs.existsSync(zarray)) {
    // read here so that an empty or broken .zarray is named, not reported by zarrita as "not found"
    if (!readJson(zarray)) throw new InputError(`${zarray}: cannot read the array metadata`, IO_CORRUPT);
    return { kind: 'array', attrs };
  }
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

type ZArray = Zarrita.Array<Zarrita.DataType, AsyncReadable>;

async function openArray(arrayDir: string): Promise<ZArray> {
  const zarr = await loadZarrita();
  let array: ZArray;
  try {
    array = await zarr.open(new DirectoryStore(arrayDir), { kind: 'array' });
  } catch (e) {
    throw asInputError(e, arrayDir, 'cannot open Zarr array', IO_CORRUPT);
  }
  return checkedChunks(arrayDir, array);
}

/**
 * zarrita takes a chunk's decoded bytes for the declared chunk shape without checking their length, so a short
 * (truncated, empty) chunk would read as zeros past its end: every chunk must decode to the whole chunk shape.
 */
function checkedChunks(arrayDir: string, array: ZArray): ZArray {
  const expected = array.chunks.reduce((a, b) => a * b, 1);
  const getChunk = array.getChunk.bind(array);
  Object.defineProperty(array, 'getChunk', {
    value: async (...args: Parameters<ZArray['getChunk']>) => {
      const chunk = await getChunk(...args);
      const length = (chunk.data as { length?: number }).length;
      if (length !== expected) {
        throw new InputError(
          `${arrayDir}: chunk ${args[0].join('.')} decodes to ${String(length)} elements, expected ${expected} ` +
            `(chunk shape ${array.chunks.join('×')}): truncated or corrupt`,
          IO_CORRUPT,
        );
      }
      return chunk;
    },
  });
  return array;
}

export interface ZarrOpenOptions {
  /**
   * Reads image `image` of a stack: index on the t axis of an OME-Zarr image, or on the first axis of a bare
   * (images, C, H, W) array. Without it t must have size 1.
   */
  image?: number;
}

export class ZarrSource extends BaseImageSource {
  readonly format = 'ome-zarr' as const;
  /** Images in the stack (size of t) when opened with `image`. */
  readonly imageCount?: number;

  private constructor(
    dir: string,
    private readonly array: ZArray,
    /** Position of each of t,c,z,y,x in the array's dimensions (-1 when absent). */
    private readonly axisIndex: Record<string, number>,
    shape: [number, number, number],
    dtype: DType,
    channelNames?: string[],
    private readonly image?: number,
  ) {
    super([dir], shape[0], shape[1], shape[2], dtype, channelNames);
    if (image !== undefined) this.imageCount = axisIndex.t >= 0 ? array.shape[axisIndex.t] : 1;
  }

  static async open(dir: string, options: ZarrOpenOptions = {}): Promise<ZarrSource> {
    statInput(dir, 'directory');
    const image = options.image;
    const resolved = resolveImage(dir);
    const array = await openArray(resolved.arrayDir);
    const rank = array.shape.length;
    let axes: string[];
    if (resolved.multiscale) {
      axes = axesOf(dir, resolved.multiscale, rank);
    } else if (image !== undefined) {
      if (rank !== 4) {
        throw new InputError(`${dir}: bare Zarr array of shape (${array.shape.join(', ')}); expected (images, C, H, W)`, 'ERR_SCSEG_SHAPE');
      }
      axes = ['t', 'c', 'y', 'x'];
    } else if (rank === 2 || rank === 3) {
      axes = rank === 3 ? ['c', 'y', 'x'] : ['y', 'x'];
    } else {
      throw new InputError(`${dir}: bare Zarr array of shape (${array.shape.join(', ')}); expected (C, H, W) or (H, W)`, 'ERR_SCSEG_SHAPE');
    }
    const axisIndex: Record<string, number> = {};
    for (const a of AXIS_NAMES) axisIndex[a] = axes.indexOf(a);
    const size = (a: string) => (axisIndex[a] >= 0 ? array.shape[axisIndex[a]] : 1);
    if (image !== undefined) {
      if (axisIndex.t < 0) {
        throw new InputError(`${dir}: no t axis (axes ${axes.join(',')}): not a stack of images`, 'ERR_SCSEG_SHAPE');
      }
      if (!(Number.isSafeInteger(image) && image >= 0 && image < size('t'))) {
        throw new InputError(`${dir}: image ${image} out of range: the t axis holds ${size('t')} images`, 'ERR_SCSEG_ARGUMENT');
      }
    }
    for (const a of image === undefined ? ['t', 'z'] : ['z']) {
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
    return new ZarrSource(dir, array, axisIndex, [size('c'), size('y'), size('x')], array.dtype as DType, resolved.channelNames, image);
  }

  protected async decodeWindow(channel: number, win: PixelWindow): Promise<PixelArray> {
    return readPlane(this.array, this.axisIndex, channel, win, this.image) as Promise<PixelArray>;
  }

  protected async release(): Promise<void> {
    // zarrita holds no file handles.
  }
}

async function readPlane(
  array: ZArray, axisIndex: Record<string, number>, channel: number, win: PixelWindow, image = 0,
): Promise<unknown> {
  const zarr = await loadZarrita();
  const selection: (number | Zarrita.Slice)[] = new Array(array.shape.length).fill(0);
  if (axisIndex.t >= 0) selection[axisIndex.t] = image;
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
// Labels: NGFF 0.4 `labels` group (written by label-writers.ts)

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
