/**
 * Tiny input files for the bad-input catalogue, written by the tests themselves (no Python needed): TIFF with any
 * header (dimensions, sample type, compression) over any strip bytes, .npy with any header, HDF5 through h5wasm
 * (with dimensions patched in place to make a header lie), and Zarr v2 OME images.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import h5wasm from 'h5wasm/node';

export interface TiffPage {
  /** Header dimensions (need not match the data). */
  width: number;
  height: number;
  /** BitsPerSample and SampleFormat (1 uint, 2 int, 3 float). */
  bits: 8 | 16 | 32 | 64;
  format: 1 | 2 | 3;
  /** The strip's bytes as stored (already compressed when `compression` is not 1). */
  strip: Uint8Array;
  /** 1 none, 8 Deflate. */
  compression?: 1 | 8;
  /** StripByteCounts (default: the strip's length). */
  byteCount?: number;
}

/** A little-endian TIFF, one IFD per page, each page one strip. */
export function tiffBytes(pages: readonly TiffPage[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 8;
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  parts.push(header);
  const ifdOffsets: number[] = [];
  const layout = pages.map((p) => {
    const stripAt = offset;
    offset += p.strip.length + (p.strip.length % 2);
    return stripAt;
  });
  for (const p of pages) parts.push(Buffer.from(p.strip), Buffer.alloc(p.strip.length % 2));
  pages.forEach((p, i) => {
    const tags: [number, number, number][] = [
      [256, 4, p.width], [257, 4, p.height], [258, 3, p.bits], [259, 3, p.compression ?? 1], [262, 3, 1],
      [273, 4, layout[i]], [277, 3, 1], [278, 4, p.height], [279, 4, p.byteCount ?? p.strip.length], [339, 3, p.format],
    ];
    const ifd = Buffer.alloc(2 + tags.length * 12 + 4);
    ifd.writeUInt16LE(tags.length, 0);
    tags.forEach(([tag, type, value], k) => {
      const at = 2 + k * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(1, at + 4);
      if (type === 3) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    ifdOffsets.push(offset);
    parts.push(ifd);
    offset += ifd.length;
  });
  // chain the IFDs: each one's next pointer, then the header's first pointer
  const all = Buffer.concat(parts);
  all.writeUInt32LE(ifdOffsets[0], 4);
  ifdOffsets.forEach((at, i) => {
    const n = all.readUInt16LE(at);
    all.writeUInt32LE(ifdOffsets[i + 1] ?? 0, at + 2 + n * 12);
  });
  return all;
}

export type Pixels = Uint8Array | Uint16Array | Float32Array | Int16Array | Float64Array;

const TIFF_TYPE = new Map<Function, [TiffPage['bits'], TiffPage['format']]>([
  [Uint8Array, [8, 1]], [Uint16Array, [16, 1]], [Float32Array, [32, 3]], [Int16Array, [16, 2]], [Float64Array, [64, 3]],
]);

export function bytesOf(data: Pixels): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** One page per channel, uncompressed (or Deflate), dimensions as given. */
export function writeTiff(file: string, channels: readonly Pixels[], width: number, height: number, compression: 1 | 8 = 1): string {
  fs.writeFileSync(file, tiffBytes(channels.map((c) => {
    const [bits, format] = TIFF_TYPE.get(c.constructor)!;
    const strip = compression === 8 ? zlib.deflateSync(bytesOf(c)) : bytesOf(c);
    return { width, height, bits, format, strip, compression };
  })));
  return file;
}

const NPY_DESCR = new Map<Function, string>([
  [Uint8Array, '|u1'], [Uint16Array, '<u2'], [Float32Array, '<f4'], [Int16Array, '<i2'], [Float64Array, '<f8'],
]);

/** A .npy whose header says `shape` and `descr` (default: the array's), followed by `data` as it is. */
export function writeNpy(file: string, data: Pixels, shape: readonly number[], descr = NPY_DESCR.get(data.constructor)!): string {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const len = Buffer.alloc(2);
  len.writeUInt16LE(header.length);
  fs.writeFileSync(file, Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), len, Buffer.from(header, 'latin1'), bytesOf(data)]));
  return file;
}

const H5_DTYPE = new Map<Function, string>([
  [Uint8Array, '<B'], [Uint16Array, '<H'], [Float32Array, '<f'], [Int16Array, '<h'], [Float64Array, '<d'],
]);

/**
 * An HDF5 file with dataset `channels` (C, H, W); `chunks` makes it chunked. `earliest`: the oldest file format,
 * whose object headers carry no checksum (so that patchH5Dims makes a consistent file that lies).
 */
export async function writeH5(
  file: string, data: Pixels, shape: readonly number[], options: { chunks?: number[]; earliest?: boolean } = {},
): Promise<string> {
  await h5wasm.ready;
  const f = new h5wasm.File(path.resolve(file), 'w', options.earliest ? { libver: ['earliest', 'v108'] } as never : false);
  const chunks = options.chunks;
  try {
    f.create_dataset({ name: 'channels', data: data as never, shape: [...shape], dtype: H5_DTYPE.get(data.constructor)!, chunks });
  } finally {
    f.close();
  }
  return file;
}

/**
 * Rewrites every occurrence of the dataspace dimensions `from` (consecutive little-endian uint64s, as HDF5 stores
 * them) with `to`: the dataset's header then claims another shape than its storage holds. Returns the count.
 */
export function patchH5Dims(file: string, from: readonly number[], to: readonly number[]): number {
  const bytes = fs.readFileSync(file);
  const encode = (dims: readonly number[]) => {
    const b = Buffer.alloc(dims.length * 8);
    dims.forEach((d, i) => b.writeBigUInt64LE(BigInt(d), i * 8));
    return b;
  };
  const needle = encode(from);
  const replacement = encode(to);
  let count = 0;
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + needle.length)) {
    replacement.copy(bytes, at);
    count++;
  }
  fs.writeFileSync(file, bytes);
  return count;
}

const ZARR_DTYPE = new Map<Function, string>([
  [Uint8Array, '|u1'], [Uint16Array, '<u2'], [Float32Array, '<f4'], [Int16Array, '<i2'], [Float64Array, '<f8'],
]);

/**
 * A Zarr v2 OME-Zarr image (NGFF 0.4, axes c, y, x) whose `.zarray` says `shape` and `chunks`; `chunkFiles`
 * are written raw (uncompressed) under their keys ('0/0/0' …), as given.
 */
export function writeZarr(
  dir: string,
  dtype: Function,
  shape: readonly number[],
  chunks: readonly number[],
  chunkFiles: Record<string, Uint8Array>,
): string {
  fs.mkdirSync(path.join(dir, '0'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
  fs.writeFileSync(path.join(dir, '.zattrs'), JSON.stringify({
    multiscales: [{
      version: '0.4', axes: [{ name: 'c', type: 'channel' }, { name: 'y', type: 'space' }, { name: 'x', type: 'space' }],
      datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 1] }] }],
    }],
  }));
  fs.writeFileSync(path.join(dir, '0', '.zarray'), JSON.stringify({
    zarr_format: 2, shape, chunks, dtype: ZARR_DTYPE.get(dtype)!, compressor: null, fill_value: 0, order: 'C',
    filters: null, dimension_separator: '/',
  }));
  for (const [key, bytes] of Object.entries(chunkFiles)) {
    const file = path.join(dir, '0', ...key.split('/'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
  }
  return dir;
}

/** Deterministic uint16 noise: a plane of `n` pixels. */
export function noise16(n: number, seed = 1): Uint16Array {
  const out = new Uint16Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    out[i] = (s >>> 0) % 4096;
  }
  return out;
}
