/**
 * Band-wise label writers (lib/io/label-writers.ts): segmentation.h5 and OME-Zarr labels written band by band
 * read back identically by h5py / numpy+zlib and by our readers; atomicity of abort and failures; argument checks.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import h5wasm from 'h5wasm/node';
import type { Image2D } from '../../lib/image.js';
import {
  Hdf5Source, openOmeZarrLabelsWriter, openSegmentationH5Writer, readOmeZarrLabels, writeOmeZarrLabels,
  writeSegmentationH5, type LabelBandWriter,
} from '../../lib/io/index.js';
import { expectInputErrorAsync } from '../helpers/errors.js';
import { fixturesDir, rng } from '../helpers/fixtures.js';
import { PYTHON, pythonHas, ZARR_V2_DUMP } from '../helpers/python.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-label-writers-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh empty directory under tmp. */
function dir(tag: string): string {
  return fs.mkdtempSync(path.join(tmp, `${tag}-`));
}

/** A mask of the original scPortrait (test/fixtures/golden), widened to uint32. */
function golden(file: string, width: number, height: number): Image2D<Uint32Array> {
  const raw = zlib.gunzipSync(fs.readFileSync(path.join(fixturesDir, 'golden', file)));
  const u16 = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  expect(u16.length).toBe(width * height);
  return { data: Uint32Array.from(u16), width, height };
}

/** The top-left w×h of a mask; `offset` added to every cell id (0 stays background). */
function crop(m: Image2D<Uint32Array>, w: number, h: number, offset = 0): Image2D<Uint32Array> {
  const data = new Uint32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = m.data[y * m.width + x];
      data[y * w + x] = v === 0 ? 0 : v + offset;
    }
  }
  return { data, width: w, height: h };
}

/**
 * Real-looking nucleus + cytosol pair, 693×517 (no dimension a multiple of the chunk edges used here): the
 * original's BBBC039 nuclei and its example-3 WGA cytosol tiled beside them, ids near the top of uint32.
 */
function realMasks(): Image2D<Uint32Array>[] {
  const W = 693;
  const H = 517;
  const nucleus = crop(golden('bbbc039_A02_s1_dapi_nucleus.bin.gz', 696, 520), W, H);
  const wga = golden('example3_wga_cytosol.bin.gz', 400, 400);
  const cytosol = new Uint32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = wga.data[(y % 400) * 400 + (x % 400)];
      const tile = Math.floor(y / 400) * 2 + Math.floor(x / 400);
      cytosol[y * W + x] = v === 0 ? 0 : 0xffffff00 - tile * 64 + v; // distinct ids per tile, up to 2^32 - 1
    }
  }
  cytosol[W * H - 1] = 0xffffffff;
  return [nucleus, { data: cytosol, width: W, height: H }];
}

function noise(width: number, height: number, seed: number): Image2D<Uint32Array> {
  const r = rng(seed);
  return { data: Uint32Array.from({ length: width * height }, () => (r() < 0.3 ? 0 : 1 + Math.floor(r() * 1e6))), width, height };
}

/** Feeds whole masks band by band, as a sharded segmentation would deliver them. */
async function feed(writer: LabelBandWriter, masks: readonly Image2D<Uint32Array>[]): Promise<number> {
  let bands = 0;
  for (let y0 = 0; y0 < writer.height; y0 += writer.bandRows) {
    const y1 = Math.min(writer.height, y0 + writer.bandRows);
    // Copies, so the writer cannot lean on the caller's whole mask.
    await writer.writeBand(y0, masks.map((m) => m.data.slice(y0 * m.width, y1 * m.width)));
    bands++;
  }
  expect(writer.nextRow).toBe(writer.height);
  await writer.finish();
  return bands;
}

function python(script: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

const H5PY_DUMP = `
import sys, json, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    d = f["labels"]
    print(json.dumps({"keys": sorted(f.keys()), "shape": list(d.shape), "dtype": str(d.dtype),
                      "little_endian": d.id.get_type().get_order() == h5py.h5t.ORDER_LE,
                      "chunks": list(d.chunks) if d.chunks else None, "maxshape": list(d.maxshape),
                      "compression": d.compression, "compression_opts": d.compression_opts}))
    np.ascontiguousarray(d[...]).astype("<u8").tofile(sys.argv[2])
`;

/** h5py's view of `file`: metadata, and every value as uint64. */
function h5py(file: string): { meta: Record<string, unknown>; values: BigUint64Array } {
  const raw = path.join(path.dirname(file), `.dump-${path.basename(file)}.bin`);
  const meta = JSON.parse(python(H5PY_DUMP, file, raw)) as Record<string, unknown>;
  const buf = fs.readFileSync(raw);
  fs.rmSync(raw);
  return { meta, values: new BigUint64Array(new Uint8Array(buf).buffer) };
}

function expectSameValues(values: BigUint64Array, masks: readonly Image2D<Uint32Array>[]): void {
  const plane = masks[0].width * masks[0].height;
  expect(values.length).toBe(masks.length * plane);
  for (let m = 0; m < masks.length; m++) {
    for (let i = 0; i < plane; i++) {
      if (values[m * plane + i] !== BigInt(masks[m].data[i])) {
        throw new Error(`mask ${m} pixel ${i}: ${values[m * plane + i]} != ${masks[m].data[i]}`);
      }
    }
  }
}

/** Our side of the read-back: h5wasm, the library Hdf5Source reads with, on dataset `labels`. */
async function readLabelsH5(file: string): Promise<{ shape: number[]; chunks: number[] | null; data: Uint32Array[] }> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    const ds = f.get('labels') as InstanceType<typeof h5wasm.Dataset>;
    const [n, h, w] = ds.shape!;
    const data: Uint32Array[] = [];
    for (let m = 0; m < n; m++) {
      const v = ds.slice([[m, m + 1], [0, h], [0, w]]) as BigUint64Array;
      data.push(Uint32Array.from(v, (x) => {
        if (x > 0xffffffffn) throw new Error(`id ${x} beyond uint32`);
        return Number(x);
      }));
    }
    return { shape: [n, h, w], chunks: ds.metadata.chunks, data };
  } finally {
    f.close();
  }
}

describe('openSegmentationH5Writer', () => {
  const withH5py = pythonHas('h5py') ? it : it.skip;

  withH5py('693×517 nucleus + cytosol in 9 bands (chunk 32, last band 5 rows): h5py and h5wasm read it back', async () => {
    const masks = realMasks();
    const d = dir('h5-bands');
    const file = path.join(d, 'segmentation.h5');
    const progress: [number, number][] = [];
    const writer = await openSegmentationH5Writer(file, {
      width: 693, height: 517, masks: 2, chunkSize: 32, maxBufferBytes: 693 * 8 * 64,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect([writer.bandRows, writer.bandCount, writer.masks]).toEqual([64, 9, 2]);
    expect(fs.existsSync(file)).toBe(false); // nothing under the final name before finish()
    expect(await feed(writer, masks)).toBe(9);
    expect(progress).toEqual(Array.from({ length: 18 }, (_, i) => [i + 1, 18]));
    expect(fs.readdirSync(d)).toEqual(['segmentation.h5']);
    const { meta, values } = h5py(file);
    expect(meta).toEqual({
      keys: ['labels'], shape: [2, 517, 693], dtype: 'uint64', little_endian: true, chunks: [1, 32, 32], maxshape: [2, 517, 693],
      compression: null, compression_opts: null,
    });
    expectSameValues(values, masks);
    const ours = await readLabelsH5(file);
    expect(ours.shape).toEqual([2, 517, 693]);
    expect(ours.chunks).toEqual([1, 32, 32]);
    for (let m = 0; m < 2; m++) expect(Buffer.from(ours.data[m].buffer).equals(Buffer.from(masks[m].data.buffer))).toBe(true);
    // Hdf5Source (an image reader) still refuses the uint64 label dataset with a clear error.
    await expectInputErrorAsync(Hdf5Source.open(file, { dataset: 'labels' }), 'ERR_SCSEG_DTYPE', 'uint64');

    // writeSegmentationH5 goes through the same writer: same values, same layout.
    const whole = path.join(d, 'whole.h5');
    await writeSegmentationH5(whole, masks, { chunkSize: 32, maxBufferBytes: 693 * 8 * 64 });
    const again = h5py(whole);
    expect(again.meta).toEqual(meta);
    expect(Buffer.from(again.values.buffer).equals(Buffer.from(values.buffer))).toBe(true);
  });

  withH5py('gzip: smaller file, same values, h5py sees gzip at the given level', async () => {
    const masks = realMasks();
    const d = dir('h5-gzip');
    const plain = path.join(d, 'plain.h5');
    const packed = path.join(d, 'packed.h5');
    await feed(await openSegmentationH5Writer(plain, { width: 693, height: 517, masks: 2, maxBufferBytes: 1 << 20 }), masks);
    const writer = await openSegmentationH5Writer(packed, { width: 693, height: 517, masks: 2, compression: 6, maxBufferBytes: 1 << 20 });
    expect(writer.bandRows).toBe(150); // 1 MiB / (693 × 8) = 189 rows → 3 chunk rows of 50
    expect(await feed(writer, masks)).toBe(4);
    const sizes = [fs.statSync(plain).size, fs.statSync(packed).size];
    expect(sizes[0]).toBeGreaterThan(2 * 693 * 517 * 8);
    expect(sizes[1] * 10).toBeLessThan(sizes[0]); // label images are mostly runs
    const { meta, values } = h5py(packed);
    expect(meta).toMatchObject({ shape: [2, 517, 693], chunks: [1, 50, 50], compression: 'gzip', compression_opts: 6 });
    expectSameValues(values, masks);
    const ours = await readLabelsH5(packed);
    for (let m = 0; m < 2; m++) expect(Array.from(ours.data[m])).toEqual(Array.from(masks[m].data));
    // The same through writeSegmentationH5's new option.
    const whole = path.join(d, 'whole.h5');
    await writeSegmentationH5(whole, masks, { compression: 1 });
    expect(h5py(whole).meta).toMatchObject({ compression: 'gzip', compression_opts: 1 });
    expect(fs.statSync(whole).size * 10).toBeLessThan(sizes[0]);
  });

  withH5py('1×1 image, and widths/heights that are not multiples of the chunk edge', async () => {
    const d = dir('h5-small');
    for (const [w, h, chunk, budget] of [[1, 1, 50, undefined], [7, 23, 4, 7 * 8 * 4], [101, 9, 8, 101 * 8 * 8], [3, 200, 64, 1]] as const) {
      const masks = [noise(w, h, w * 1000 + h), noise(w, h, 7 + w)];
      const file = path.join(d, `${w}x${h}.h5`);
      const writer = await openSegmentationH5Writer(file, { width: w, height: h, masks: 2, chunkSize: chunk, maxBufferBytes: budget });
      expect(writer.bandRows % chunk).toBe(0);
      const bands = await feed(writer, masks);
      expect(bands).toBe(Math.ceil(h / writer.bandRows));
      const { meta, values } = h5py(file);
      expect(meta).toMatchObject({ shape: [2, h, w], chunks: [1, Math.min(chunk, h), Math.min(chunk, w)] });
      expectSameValues(values, masks);
    }
    expect(fs.readdirSync(d).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('the band buffer, not the image, bounds the h5wasm heap (2 masks of 2048², 256 KiB bands)', async () => {
    const d = dir('h5-heap');
    const lib = await h5wasm.ready;
    const before = lib.HEAPU8.byteLength;
    const W = 2048;
    const writer = await openSegmentationH5Writer(path.join(d, 'big.h5'), {
      width: W, height: W, masks: 2, chunkSize: 16, maxBufferBytes: 256 << 10, compression: 1,
    });
    expect(writer.bandRows).toBe(16);
    const band = new Uint32Array(writer.bandRows * W);
    for (let y0 = 0; y0 < W; y0 += writer.bandRows) {
      for (let i = 0; i < band.length; i++) band[i] = (y0 + Math.floor(i / W)) * 7 + (i % W >> 4);
      await writer.writeBand(y0, [band, band]);
    }
    await writer.finish();
    // A whole mask as uint64 is 32 MiB; the heap must not have grown by anything like it.
    expect(lib.HEAPU8.byteLength - before).toBeLessThan(8 << 20);
  });

  it('abort() before finish leaves neither the file nor a temp file; it is idempotent; the writer is then closed', async () => {
    const d = dir('h5-abort');
    const file = path.join(d, 'segmentation.h5');
    const masks = [noise(40, 30, 1)];
    const writer = await openSegmentationH5Writer(file, { width: 40, height: 30, masks: 1, chunkSize: 10, maxBufferBytes: 40 * 8 * 10 });
    await writer.writeBand(0, [masks[0].data.slice(0, 400)]);
    expect(fs.readdirSync(d)).toHaveLength(1); // the hidden temp file
    expect(fs.readdirSync(d)[0]).toMatch(/^\.segmentation\.h5\.tmp-/);
    await writer.abort();
    await writer.abort();
    expect(fs.readdirSync(d)).toEqual([]);
    await expectInputErrorAsync(writer.writeBand(10, [masks[0].data.slice(400, 800)]), 'ERR_SCSEG_ARGUMENT', 'aborted');
    await expectInputErrorAsync(writer.finish(), 'ERR_SCSEG_ARGUMENT', 'aborted');
    // abort() after finish() is a no-op: the file stays.
    const done = await openSegmentationH5Writer(file, { width: 40, height: 30, masks: 1 });
    await feed(done, masks);
    await done.abort();
    expect(fs.readdirSync(d)).toEqual(['segmentation.h5']);
  });

  it('an out-of-order band, a short band, a wrong mask count, a wrong dtype or an early finish: InputError, nothing left', async () => {
    const d = dir('h5-bad');
    const file = path.join(d, 'segmentation.h5');
    const open = () => openSegmentationH5Writer(file, { width: 20, height: 25, masks: 2, chunkSize: 5, maxBufferBytes: 20 * 8 * 10 });
    const band = (rows: number) => new Uint32Array(rows * 20);
    const cases: [string, (w: LabelBandWriter) => Promise<void>, string, string[]][] = [
      ['skips a band', async (w) => { await w.writeBand(0, [band(10), band(10)]); await w.writeBand(20, [band(5), band(5)]); }, 'ERR_SCSEG_ARGUMENT', ['row 20', 'expected row 10']],
      ['repeats a band', async (w) => { await w.writeBand(0, [band(10), band(10)]); await w.writeBand(0, [band(10), band(10)]); }, 'ERR_SCSEG_ARGUMENT', ['row 0', 'expected row 10']],
      ['starts mid-image', (w) => w.writeBand(10, [band(10), band(10)]), 'ERR_SCSEG_ARGUMENT', ['expected row 0']],
      ['band too short', (w) => w.writeBand(0, [band(10), band(9)]), 'ERR_SCSEG_SHAPE', ['mask 1', '180 ids', 'need 200']],
      ['last band full-size', async (w) => {
        await w.writeBand(0, [band(10), band(10)]);
        await w.writeBand(10, [band(10), band(10)]);
        await w.writeBand(20, [band(10), band(10)]);
      }, 'ERR_SCSEG_SHAPE', ['rows 20..25', 'need 100']],
      ['one mask missing', (w) => w.writeBand(0, [band(10)]), 'ERR_SCSEG_ARGUMENT', ['one array per mask (2), got 1']],
      ['Int32Array ids', (w) => w.writeBand(0, [band(10), new Int32Array(200) as unknown as Uint32Array]), 'ERR_SCSEG_DTYPE', ['Uint32Array']],
      ['finish after 10 of 25 rows', async (w) => { await w.writeBand(0, [band(10), band(10)]); await w.finish(); }, 'ERR_SCSEG_ARGUMENT', ['10 of 25 rows']],
    ];
    for (const [name, run, code, fragments] of cases) {
      const writer = await open();
      await expectInputErrorAsync(run(writer), code, ...fragments);
      expect([name, fs.readdirSync(d)]).toEqual([name, []]);
      await writer.abort(); // still safe
      await expectInputErrorAsync(writer.writeBand(writer.nextRow, [band(10), band(10)]), 'ERR_SCSEG_ARGUMENT', 'aborted');
    }
  });

  it('a failing progress callback or a failing existing-file overwrite keeps the old file and no temp', async () => {
    const d = dir('h5-fail');
    const file = path.join(d, 'segmentation.h5');
    await writeSegmentationH5(file, [noise(30, 30, 2)]);
    const before = fs.readFileSync(file);
    const writer = await openSegmentationH5Writer(file, {
      width: 30, height: 30, masks: 1, chunkSize: 10, maxBufferBytes: 30 * 8 * 10,
      onProgress: (done) => { if (done === 2) throw new Error('disk full'); },
    });
    await writer.writeBand(0, [new Uint32Array(300)]);
    await expectInputErrorAsync(writer.writeBand(10, [new Uint32Array(300)]), 'ERR_SCSEG_IO_WRITE', 'disk full');
    expect(fs.readdirSync(d)).toEqual(['segmentation.h5']);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('checks its options before creating anything', async () => {
    const d = dir('h5-options');
    const file = path.join(d, 'x.h5');
    const base = { width: 10, height: 10, masks: 1 };
    await expectInputErrorAsync(openSegmentationH5Writer(file, { ...base, width: 0 }), 'ERR_SCSEG_ARGUMENT', 'width');
    await expectInputErrorAsync(openSegmentationH5Writer(file, { ...base, height: 2.5 }), 'ERR_SCSEG_ARGUMENT', 'height');
    await expectInputErrorAsync(openSegmentationH5Writer(file, { ...base, masks: 0 }), 'ERR_SCSEG_ARGUMENT', 'masks');
    await expectInputErrorAsync(openSegmentationH5Writer(file, { ...base, chunkSize: 0 }), 'ERR_SCSEG_ARGUMENT', 'chunkSize');
    await expectInputErrorAsync(openSegmentationH5Writer(file, { ...base, compression: 10 }), 'ERR_SCSEG_ARGUMENT', 'compression', '0..9');
    await expectInputErrorAsync(openSegmentationH5Writer(file, { ...base, maxBufferBytes: 0 }), 'ERR_SCSEG_ARGUMENT', 'maxBufferBytes');
    await expectInputErrorAsync(openSegmentationH5Writer(path.join(d, 'missing', 'x.h5'), base), 'ERR_SCSEG_IO_WRITE', 'does not exist');
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('concurrent writeBand calls are serialised in call order', async () => {
    const d = dir('h5-concurrent');
    const file = path.join(d, 'segmentation.h5');
    const m = noise(12, 30, 9);
    const writer = await openSegmentationH5Writer(file, { width: 12, height: 30, masks: 1, chunkSize: 10, maxBufferBytes: 12 * 8 * 10 });
    await Promise.all([0, 10, 20].map((y0) => writer.writeBand(y0, [m.data.slice(y0 * 12, (y0 + 10) * 12)])));
    await writer.finish();
    expect(Array.from((await readLabelsH5(file)).data[0])).toEqual(Array.from(m.data));
  });
});

describe('openOmeZarrLabelsWriter', () => {
  const withNumpy = pythonHas('numpy') ? it : it.skip;

  async function checkBack(root: string, names: string[], masks: readonly Image2D<Uint32Array>[], chunks: number[]): Promise<void> {
    for (const [i, name] of names.entries()) {
      const back = await readOmeZarrLabels(root, name);
      expect([back.width, back.height]).toEqual([masks[i].width, masks[i].height]);
      expect(Buffer.from(back.data.buffer).equals(Buffer.from(masks[i].data.buffer))).toBe(true);
      if (pythonHas('numpy')) {
        const raw = path.join(tmp, `zdump-${name}.bin`);
        const meta = JSON.parse(python(ZARR_V2_DUMP, path.join(root, 'labels', name, '0'), raw));
        expect(meta).toMatchObject({ zarr_format: 2, chunks, shape: [masks[i].height, masks[i].width], dimension_separator: '/' });
        expectSameValues(new BigUint64Array(new Uint8Array(fs.readFileSync(raw)).buffer), [masks[i]]);
      }
    }
  }

  withNumpy('bands thinner than the chunk edge make the chunks that tall: 693×517 in 13 bands of 40 rows', async () => {
    const masks = realMasks();
    const root = path.join(dir('zarr-thin'), 'labels.zarr');
    const progress: number[] = [];
    const writer = await openOmeZarrLabelsWriter(root, ['nucleus', 'cytosol'], {
      width: 693, height: 517, chunkSize: 128, bandRows: 40, onProgress: (done, total) => progress.push(done / total),
    });
    expect([writer.bandRows, writer.bandCount]).toEqual([40, 13]);
    expect(fs.existsSync(path.join(root, 'labels', 'nucleus'))).toBe(false);
    expect(await feed(writer, masks)).toBe(13);
    expect(progress).toHaveLength(26);
    expect(progress[25]).toBe(1);
    expect(fs.readdirSync(path.join(root, 'labels')).sort()).toEqual(['.zattrs', '.zgroup', 'cytosol', 'nucleus']);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'labels', '.zattrs'), 'utf8'))).toEqual({ labels: ['nucleus', 'cytosol'] });
    await checkBack(root, ['nucleus', 'cytosol'], masks, [40, 128]);
  });

  withNumpy('bands thicker than the chunk edge are kept; chunks divide them (100 rows, chunk 32 → 25-row chunks), uint64', async () => {
    const masks = realMasks();
    const root = path.join(dir('zarr-thick'), 'labels.zarr');
    const writer = await openOmeZarrLabelsWriter(root, ['nucleus', 'cytosol'], {
      width: 693, height: 517, chunkSize: 32, bandRows: 100, dtype: 'uint64', compressionLevel: 0,
    });
    expect([writer.bandRows, writer.bandCount]).toEqual([100, 6]);
    await feed(writer, masks);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'labels', 'cytosol', '0', '.zarray'), 'utf8'))).toMatchObject({ dtype: '<u8', compressor: null });
    await checkBack(root, ['nucleus', 'cytosol'], masks, [25, 32]);
  });

  withNumpy('follows the HDF5 writer\'s bandRows (150 rows, chunk 1024), and a prime band height (101) gets chunks that tall', async () => {
    const masks = realMasks();
    const d = dir('zarr-follow');
    const h5 = await openSegmentationH5Writer(path.join(d, 'segmentation.h5'), { width: 693, height: 517, masks: 2, maxBufferBytes: 1 << 20 });
    const zarr = await openOmeZarrLabelsWriter(path.join(d, 'a.zarr'), ['nucleus', 'cytosol'], { width: 693, height: 517, bandRows: h5.bandRows });
    expect([h5.bandRows, zarr.bandRows]).toEqual([150, 150]);
    for (let y0 = 0; y0 < 517; y0 += h5.bandRows) {
      const bands = masks.map((m) => m.data.slice(y0 * 693, Math.min(517, y0 + h5.bandRows) * 693));
      await h5.writeBand(y0, bands);
      await zarr.writeBand(y0, bands);
    }
    await h5.finish();
    await zarr.finish();
    await checkBack(path.join(d, 'a.zarr'), ['nucleus', 'cytosol'], masks, [150, 693]);
    const prime = await openOmeZarrLabelsWriter(path.join(d, 'b.zarr'), ['nucleus', 'cytosol'], { width: 693, height: 517, chunkSize: 64, bandRows: 101 });
    expect(await feed(prime, masks)).toBe(6);
    await checkBack(path.join(d, 'b.zarr'), ['nucleus', 'cytosol'], masks, [101, 64]);
  });

  it('default bands (one chunk row) write exactly the bytes writeOmeZarrLabels writes', async () => {
    const masks = realMasks();
    const d = dir('zarr-same');
    await writeOmeZarrLabels(path.join(d, 'whole.zarr'), masks, ['nucleus', 'cytosol'], { chunkSize: 100 });
    const writer = await openOmeZarrLabelsWriter(path.join(d, 'bands.zarr'), ['nucleus', 'cytosol'], { width: 693, height: 517, chunkSize: 100 });
    expect(writer.bandRows).toBe(100);
    await feed(writer, masks);
    const files = (root: string): string[] => (fs.readdirSync(root, { recursive: true }) as string[])
      .filter((f) => fs.statSync(path.join(root, f)).isFile()).sort();
    const a = files(path.join(d, 'whole.zarr'));
    expect(a).toEqual(files(path.join(d, 'bands.zarr')));
    expect(a.length).toBe(3 + 2 * (3 + 6 * 7)); // root+labels groups and .zattrs; per image .zgroup/.zattrs/.zarray + 6×7 chunks
    for (const f of a) {
      expect([f, fs.readFileSync(path.join(d, 'whole.zarr', f)).equals(fs.readFileSync(path.join(d, 'bands.zarr', f)))]).toEqual([f, true]);
    }
  });

  withNumpy('1×1 image, and widths that are not multiples of the chunk edge', async () => {
    const d = dir('zarr-small');
    // [width, height, chunkSize, bandRows, chunk height]
    const cases = [[1, 1, 1024, undefined, 1], [7, 23, 4, 8, 4], [101, 9, 8, 3, 3], [5, 40, 64, 7, 7], [9, 30, 4, 50, 4], [13, 70, 16, 36, 12]] as const;
    for (const [w, h, chunk, bandRows, chunkH] of cases) {
      const masks = [noise(w, h, w + h)];
      const root = path.join(d, `${w}x${h}.zarr`);
      const writer = await openOmeZarrLabelsWriter(root, ['m'], { width: w, height: h, chunkSize: chunk, bandRows });
      expect(writer.bandRows).toBe(bandRows ?? chunkH);
      expect(await feed(writer, masks)).toBe(Math.ceil(h / writer.bandRows));
      await checkBack(root, ['m'], masks, [chunkH, Math.min(chunk, w)]);
    }
  });

  it('abort(): a fresh root disappears; an existing image and its labels are untouched; no temp directory', async () => {
    const d = dir('zarr-abort');
    const fresh = path.join(d, 'fresh.zarr');
    const masks = [noise(30, 20, 1), noise(30, 20, 2)];
    let writer = await openOmeZarrLabelsWriter(fresh, ['nucleus', 'cytosol'], { width: 30, height: 20, chunkSize: 8 });
    await writer.writeBand(0, masks.map((m) => m.data.slice(0, 8 * 30)));
    await writer.abort();
    await writer.abort();
    expect(fs.readdirSync(d)).toEqual([]);

    const existing = path.join(d, 'image.ome.zarr');
    fs.cpSync(path.join(fixturesDir, 'io', 'cyx_u16_v04.ome.zarr'), existing, { recursive: true });
    await writeOmeZarrLabels(existing, [masks[0]], ['nucleus']);
    const snapshot = (fs.readdirSync(existing, { recursive: true }) as string[]).sort();
    const attrs = fs.readFileSync(path.join(existing, 'labels', '.zattrs'));
    writer = await openOmeZarrLabelsWriter(existing, ['nucleus', 'cytosol'], { width: 30, height: 20, chunkSize: 8 });
    await writer.writeBand(0, masks.map((m) => m.data.slice(0, 8 * 30)));
    await writer.abort();
    expect((fs.readdirSync(existing, { recursive: true }) as string[]).sort()).toEqual(snapshot);
    expect(fs.readFileSync(path.join(existing, 'labels', '.zattrs')).equals(attrs)).toBe(true);
    expect(Array.from((await readOmeZarrLabels(existing, 'nucleus')).data)).toEqual(Array.from(masks[0].data));
  });

  it('out-of-order band → InputError and the writer aborts itself (nothing left); bad names and options are refused', async () => {
    const d = dir('zarr-bad');
    const root = path.join(d, 'labels.zarr');
    const writer = await openOmeZarrLabelsWriter(root, ['a'], { width: 10, height: 30, chunkSize: 10 });
    await writer.writeBand(0, [new Uint32Array(100)]);
    await expectInputErrorAsync(writer.writeBand(20, [new Uint32Array(100)]), 'ERR_SCSEG_ARGUMENT', 'row 20', 'expected row 10');
    expect(fs.readdirSync(d)).toEqual([]);
    await expectInputErrorAsync(writer.writeBand(10, [new Uint32Array(100)]), 'ERR_SCSEG_ARGUMENT', 'aborted');
    const base = { width: 10, height: 10 };
    await expectInputErrorAsync(openOmeZarrLabelsWriter(root, [], base), 'ERR_SCSEG_ARGUMENT', 'at least one');
    await expectInputErrorAsync(openOmeZarrLabelsWriter(root, ['a', 'a'], base), 'ERR_SCSEG_ARGUMENT', 'duplicate');
    await expectInputErrorAsync(openOmeZarrLabelsWriter(root, ['../x'], base), 'ERR_SCSEG_ARGUMENT', 'invalid');
    await expectInputErrorAsync(openOmeZarrLabelsWriter(root, ['a'], { ...base, bandRows: 0 }), 'ERR_SCSEG_ARGUMENT', 'bandRows');
    await expectInputErrorAsync(openOmeZarrLabelsWriter(root, ['a'], { ...base, compressionLevel: -1 }), 'ERR_SCSEG_ARGUMENT', 'compressionLevel');
    await expectInputErrorAsync(openOmeZarrLabelsWriter(root, ['a'], { ...base, dtype: 'int8' as 'uint32' }), 'ERR_SCSEG_ARGUMENT', 'dtype');
    expect(fs.readdirSync(d)).toEqual([]);
  });
});
