/**
 * Windowed reads touch only what the window needs: images of several GB exist here only as sparse files (no disk
 * space, no memory), so reading a whole channel is impossible and any reader that decodes more than the window's
 * strips/tiles/chunks/rows would run out of memory or time. Known pixels are planted where the windows read.
 */
import { spawnSync } from 'node:child_process';
import { PYTHON, pythonHas } from '../helpers/python.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openImage } from '../../lib/io/index.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-io-win-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface SparseTiff {
  file: string;
  /** Byte offset of pixel (x, y) of sample-plane 0. */
  offsetOf(x: number, y: number): number;
}

/** A classic little-endian uint16 TIFF, uncompressed, strips or tiles, data laid out so that offsetOf is simple. */
function writeSparseTiff(file: string, width: number, height: number, layout: { rowsPerStrip: number } | { tile: number }): SparseTiff {
  const tiled = 'tile' in layout;
  const segW = tiled ? layout.tile : width;
  const segH = tiled ? layout.tile : layout.rowsPerStrip;
  const across = Math.ceil(width / segW);
  const down = Math.ceil(height / segH);
  const count = across * down;
  const segBytes = segW * segH * 2;
  const entries: [number, number, number, number][] = []; // tag, type, count, value
  const arraysAt = 8 + 2 + 12 * 11 + 4;
  const offsetsAt = arraysAt;
  const countsAt = offsetsAt + 4 * count;
  const dataAt = Math.ceil((countsAt + 4 * count) / 4096) * 4096;
  const SHORT = 3;
  const LONG = 4;
  entries.push([256, LONG, 1, width], [257, LONG, 1, height], [258, SHORT, 1, 16], [259, SHORT, 1, 1], [262, SHORT, 1, 1]);
  // A single offset/count is stored inline in the entry, more are stored as arrays the entry points to.
  const lastBytes = tiled ? segBytes : (height - (count - 1) * segH) * width * 2;
  const offsets = count === 1 ? dataAt : offsetsAt;
  const counts = count === 1 ? lastBytes : countsAt;
  if (tiled) {
    entries.push([277, SHORT, 1, 1], [322, LONG, 1, segW], [323, LONG, 1, segH], [324, LONG, count, offsets], [325, LONG, count, counts]);
  } else {
    entries.push([273, LONG, count, offsets], [277, SHORT, 1, 1], [278, LONG, 1, segH], [279, LONG, count, counts]);
  }
  entries.push([284, SHORT, 1, 1]);
  const head = Buffer.alloc(dataAt);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, n, value], i) => {
    const at = 10 + 12 * i;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    head.writeUInt32LE(n, at + 4);
    if (type === SHORT && n === 1) head.writeUInt16LE(value, at + 8);
    else head.writeUInt32LE(value, at + 8);
  });
  head.writeUInt32LE(0, 10 + 12 * entries.length);
  // Strips: data contiguous row-major. Tiles: tile t at dataAt + t·segBytes.
  for (let i = 0; i < count; i++) {
    head.writeUInt32LE(dataAt + i * segBytes, offsetsAt + 4 * i);
    const lastRows = !tiled && i === count - 1 ? height - i * segH : segH;
    head.writeUInt32LE(tiled ? segBytes : lastRows * width * 2, countsAt + 4 * i);
  }
  fs.writeFileSync(file, head);
  fs.truncateSync(file, dataAt + count * segBytes);
  const offsetOf = (x: number, y: number) => {
    if (!tiled) return dataAt + (y * width + x) * 2;
    const t = Math.floor(y / segH) * across + Math.floor(x / segW);
    return dataAt + t * segBytes + ((y % segH) * segW + (x % segW)) * 2;
  };
  return { file, offsetOf };
}

/** Plants value v(x, y) = (x·7 + y·13) mod 65536 on the window's pixels, directly in the file. */
function plant(file: string, offsetOf: (x: number, y: number) => number, x0: number, y0: number, w: number, h: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(2);
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        b.writeUInt16LE((x * 7 + y * 13) % 65536);
        fs.writeSync(fd, b, 0, 2, offsetOf(x, y));
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

function expectPlanted(data: ArrayLike<number>, x0: number, y0: number, w: number, h: number): void {
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const want = ((x0 + c) * 7 + (y0 + r) * 13) % 65536;
      if (data[r * w + c] !== want) throw new Error(`pixel (${x0 + c}, ${y0 + r}) = ${data[r * w + c]}, want ${want}`);
    }
  }
}

const W = 40000;
const H = 40000; // 3.2 GB of uint16 per plane: only a sparse file can hold it here

describe.each([
  ['uncompressed strips (16 rows)', { rowsPerStrip: 16 }],
  ['uncompressed strips (whole image in one strip)', { rowsPerStrip: H }],
  ['uncompressed 512×512 tiles', { tile: 512 }],
] as const)('sparse 40000×40000 TIFF, %s', (_name, layout) => {
  it('reads windows without touching the rest of the file', async () => {
    const tiff = writeSparseTiff(path.join(tmp, `big-${'tile' in layout ? 'tiled' : layout.rowsPerStrip}.tif`), W, H, layout);
    const windows = [[0, 0, 300, 200], [W - 257, H - 129, 257, 129], [20011, 13007, 1000, 60]];
    for (const [x, y, w, h] of windows) plant(tiff.file, tiff.offsetOf, x, y, w, h);
    const src = await openImage(tiff.file);
    try {
      expect(src.shape).toEqual([1, H, W]);
      const t0 = performance.now();
      for (const [x, y, w, h] of windows) {
        const img = await src.readWindow(0, { x, y, width: w, height: h });
        expectPlanted(img.data, x, y, w, h);
      }
      // Generous bound for a shared machine; reading whole strips/planes would take far longer (or fail).
      expect(performance.now() - t0).toBeLessThan(20000);
    } finally {
      await src.close();
    }
  });
});

it('sparse (2, 40000, 40000) .npy: windows of channel 1 read only their rows', async () => {
  const file = path.join(tmp, 'big.npy');
  let header = `{'descr': '<u2', 'fortran_order': False, 'shape': (2, ${H}, ${W}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const head = Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.alloc(2), Buffer.from(header, 'latin1')]);
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, head);
  fs.truncateSync(file, head.length + 2 * H * W * 2);
  const offsetOf = (x: number, y: number) => head.length + (H * W + y * W + x) * 2;
  plant(file, offsetOf, 39000, 25000, 1000, 40);
  const src = await openImage(file);
  try {
    expect(src.shape).toEqual([2, H, W]);
    const img = await src.readWindow(1, { x: 39000, y: 25000, width: 1000, height: 40 });
    expectPlanted(img.data, 39000, 25000, 1000, 40);
  } finally {
    await src.close();
  }
});

const hasH5py = pythonHas('h5py', 'numpy');
(hasH5py ? it : it.skip)('chunked (3, 40000, 40000) HDF5 with few allocated chunks: hyperslab window reads', async () => {
  const file = path.join(tmp, 'big.h5');
  const py = `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    d = f.create_dataset("channels", shape=(3, ${H}, ${W}), dtype="<u2", chunks=(1, 256, 256), compression="gzip")
    y, x = np.mgrid[30000:30100, 1000:1300]
    d[2, 30000:30100, 1000:1300] = ((x * 7 + y * 13) % 65536).astype(np.uint16)
`;
  const r = spawnSync(PYTHON, ['-c', py, file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(fs.statSync(file).size).toBeLessThan(1 << 20);
  const src = await openImage(file);
  try {
    expect(src.shape).toEqual([3, H, W]);
    const img = await src.readWindow(2, { x: 1010, y: 30020, width: 250, height: 50 });
    expectPlanted(img.data, 1010, 30020, 250, 50);
  } finally {
    await src.close();
  }
});

it('OME-Zarr (2, 40000, 40000) with only the window chunks present: reads only those chunks', async () => {
  const root = path.join(tmp, 'big.ome.zarr');
  const arr = path.join(root, '0');
  fs.mkdirSync(arr, { recursive: true });
  fs.writeFileSync(path.join(root, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
  fs.writeFileSync(path.join(root, '.zattrs'), JSON.stringify({
    multiscales: [{ version: '0.4', axes: [{ name: 'c', type: 'channel' }, { name: 'y', type: 'space' }, { name: 'x', type: 'space' }],
      datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 1] }] }] }],
  }));
  const C = 256;
  fs.writeFileSync(path.join(arr, '.zarray'), JSON.stringify({
    zarr_format: 2, shape: [2, H, W], chunks: [1, C, C], dtype: '<u2', compressor: null, fill_value: 0, order: 'C',
    filters: null, dimension_separator: '/',
  }));
  const [x0, y0, w, h] = [12345, 23456, 600, 300];
  for (let cy = Math.floor(y0 / C); cy <= Math.floor((y0 + h - 1) / C); cy++) {
    for (let cx = Math.floor(x0 / C); cx <= Math.floor((x0 + w - 1) / C); cx++) {
      const block = new Uint16Array(C * C);
      for (let r = 0; r < C; r++) for (let c = 0; c < C; c++) block[r * C + c] = ((cx * C + c) * 7 + (cy * C + r) * 13) % 65536;
      fs.mkdirSync(path.join(arr, '1', String(cy)), { recursive: true });
      fs.writeFileSync(path.join(arr, '1', String(cy), String(cx)), new Uint8Array(block.buffer));
    }
  }
  const src = await openImage(root);
  try {
    expect(src.shape).toEqual([2, H, W]);
    const img = await src.readWindow(1, { x: x0, y: y0, width: w, height: h });
    expectPlanted(img.data, x0, y0, w, h);
  } finally {
    await src.close();
  }
});
