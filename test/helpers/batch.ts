/** Batch-run helpers: 4-D stacks of real fields written as .npy / HDF5 / OME-Zarr, and 4-D labels read back. */
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { cropImage, type Image2D } from '../../lib/image.js';
import { readPlanes } from './fixtures.js';

/** Crops of `size`² at the given offsets from the real fields `files` (one multi-channel image, or channel files). */
export async function crops(files: string[], size: number, offsets: [number, number][]): Promise<Image2D[][]> {
  const planes = await readPlanes(files);
  return offsets.map(([x, y]) => planes.map((p) => cropImage(p, { x, y, width: size, height: size })));
}

/** Images of equal shape (each a list of uint16 channel planes) as one (images, C, H, W) uint16 array. */
export function stackData(images: Image2D[][]): { data: Uint16Array; shape: [number, number, number, number] } {
  const n = images.length;
  const c = images[0].length;
  const { width: w, height: h } = images[0][0];
  const data = new Uint16Array(n * c * h * w);
  images.forEach((channels, i) => channels.forEach((p, k) => data.set(p.data as Uint16Array, (i * c + k) * h * w)));
  return { data, shape: [n, c, h, w] };
}

/** A little-endian uint16 .npy of any shape. */
export function writeNpy(file: string, data: Uint16Array, shape: readonly number[]): string {
  let header = `{'descr': '<u2', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const len = Buffer.alloc(2);
  len.writeUInt16LE(header.length);
  fs.writeFileSync(file, Buffer.concat([
    Buffer.from('\x93NUMPY\x01\x00', 'latin1'), len, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  ]));
  return file;
}

/** An HDF5 file with `data` as dataset `name` (uint16, chunked one image per chunk). */
export async function writeH5Stack(file: string, name: string, data: Uint16Array, shape: readonly number[]): Promise<string> {
  await h5wasm.ready;
  const f = new h5wasm.File(path.resolve(file), 'w');
  try {
    f.create_dataset({ name, data, shape: [...shape], dtype: '<H', chunks: [1, 1, shape[2], shape[3]] });
  } finally {
    f.close();
  }
  return file;
}

/** A minimal OME-Zarr (NGFF 0.4) image with axes t, c, y, x: one raw chunk per image and channel. */
export function writeZarrStack(dir: string, data: Uint16Array, shape: readonly [number, number, number, number]): string {
  const [n, c, h, w] = shape;
  fs.mkdirSync(path.join(dir, '0'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
  fs.writeFileSync(path.join(dir, '.zattrs'), JSON.stringify({
    multiscales: [{
      version: '0.4',
      axes: [{ name: 't', type: 'time' }, { name: 'c', type: 'channel' }, { name: 'y', type: 'space' }, { name: 'x', type: 'space' }],
      datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 1, 1] }] }],
    }],
  }));
  fs.writeFileSync(path.join(dir, '0', '.zarray'), JSON.stringify({
    zarr_format: 2, shape: [n, c, h, w], chunks: [1, 1, h, w], dtype: '<u2', compressor: null, fill_value: 0,
    order: 'C', filters: null, dimension_separator: '/',
  }));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      const chunk = data.subarray((i * c + k) * h * w, (i * c + k + 1) * h * w);
      fs.mkdirSync(path.join(dir, '0', String(i), String(k), '0'), { recursive: true });
      fs.writeFileSync(path.join(dir, '0', String(i), String(k), '0', '0'), Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
  }
  return dir;
}

/** A (images, masks, H, W) uint64 `labels` dataset: its shape, dtype, chunks and each image's masks as uint32. */
export async function readStackLabelsH5(file: string): Promise<{
  shape: number[]; dtype: string; chunks: number[] | null; images: Uint32Array[][];
}> {
  await h5wasm.ready;
  const f = new h5wasm.File(path.resolve(file), 'r');
  try {
    const ds = f.get('labels') as InstanceType<typeof h5wasm.Dataset>;
    const shape = ds.shape!;
    const [n, m] = shape;
    const images: Uint32Array[][] = [];
    for (let i = 0; i < n; i++) {
      const masks: Uint32Array[] = [];
      for (let k = 0; k < m; k++) {
        const v = ds.slice([[i, i + 1], [k, k + 1]]) as BigUint64Array;
        const words = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
        if (words.some((x, j) => j % 2 === 1 && x !== 0)) throw new Error('label id ≥ 2^32');
        masks.push(Uint32Array.from({ length: v.length }, (_, j) => words[2 * j]));
      }
      images.push(masks);
    }
    return { shape, dtype: ds.dtype as string, chunks: ds.metadata.chunks ?? null, images };
  } finally {
    f.close();
  }
}
