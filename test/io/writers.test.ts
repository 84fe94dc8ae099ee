/** Output files: scPortrait's segmentation.h5 / classes.csv layout, OME-Zarr labels, QC overlay, atomic writes. */
import { spawnSync } from 'node:child_process';
import { PYTHON, pythonHas, ZARR_V2_DUMP } from '../helpers/python.js';
import { expectInputErrorAsync } from '../helpers/errors.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import {
  encodeRgbPng, encodeRgbPngAsync, listOmeZarrLabels, openImage, readClassesCsv, readOmeZarrLabels, renderQcOverlay, writeAtomic, writeClassesCsv,
  writeFileAtomic, writeOmeZarrLabels, writeQcOverlay, writeSegmentationH5,
} from '../../lib/io/index.js';
import { fixturesDir, rng } from '../helpers/fixtures.js';

const hasPython = (mod: string) => pythonHas(mod);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-io-write-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function labels(width: number, height: number, seed: number, max = 5000): Image2D<Uint32Array> {
  const r = rng(seed);
  const data = Uint32Array.from({ length: width * height }, () => (r() < 0.3 ? 0 : 1 + Math.floor(r() * max)));
  data[0] = 0xffffffff; // the top of the uint32 range must survive the uint64 widening
  return { data, width, height };
}

/** Files left in a directory besides the expected ones (temp files must never linger). */
function leftovers(dir: string, expected: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !expected.includes(f));
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
                      "chunks": list(d.chunks) if d.chunks else None, "maxshape": list(d.maxshape),
                      "compression": d.compression}))
    np.ascontiguousarray(d[...]).astype("<u8").tofile(sys.argv[2])
`;

describe('writeSegmentationH5', () => {
  const run = hasPython('h5py') ? it : it.skip;

  run.each([
    ['one 37×53 mask, default 50-chunks clamped to the image', 53, 37, 1, {}],
    ['nucleus + cytosol 120×71, many bands', 120, 71, 2, { maxBufferBytes: 120 * 8 * 10, chunkSize: 10 }],
    ['3 masks 257×129, chunk 50, bands of 100 rows', 257, 129, 3, { maxBufferBytes: 257 * 8 * 100 }],
  ] as const)('%s: h5py reads labels (n, H, W) uint64', async (_name, width, height, n, opts) => {
    const masks = Array.from({ length: n }, (_, i) => labels(width, height, 100 + i));
    const file = path.join(tmp, `seg-${width}x${height}.h5`);
    const progress: number[] = [];
    await writeSegmentationH5(file, masks, { ...opts, onProgress: (done, total) => progress.push(done / total) });
    expect(progress[progress.length - 1]).toBe(1);
    expect(leftovers(tmp, fs.readdirSync(tmp).filter((f) => !f.startsWith('.')))).toEqual([]);
    const raw = path.join(tmp, 'dump.bin');
    const meta = JSON.parse(python(H5PY_DUMP, file, raw)) as Record<string, unknown>;
    const chunk = (opts as { chunkSize?: number }).chunkSize ?? 50;
    expect(meta).toEqual({
      keys: ['labels'],
      shape: [n, height, width],
      dtype: 'uint64',
      chunks: [1, Math.min(chunk, height), Math.min(chunk, width)],
      maxshape: [n, height, width],
      compression: null,
    });
    const back = new BigUint64Array(new Uint8Array(fs.readFileSync(raw)).buffer);
    expect(back.length).toBe(n * width * height);
    for (let m = 0; m < n; m++) {
      for (let i = 0; i < width * height; i++) {
        if (back[m * width * height + i] !== BigInt(masks[m].data[i])) {
          throw new Error(`mask ${m} pixel ${i}: ${back[m * width * height + i]} != ${masks[m].data[i]}`);
        }
      }
    }
    // Our own HDF5 reader refuses uint64 (not a pixel type) with a clear error.
    await expectInputErrorAsync(openImage(file, { dataset: 'labels' }), 'ERR_SCSEG_DTYPE', 'uint64');
  });

  it('rejects bad masks before creating anything', async () => {
    const file = path.join(tmp, 'bad.h5');
    await expectInputErrorAsync(writeSegmentationH5(file, []), 'ERR_SCSEG_SHAPE', 'at least one');
    await expectInputErrorAsync(writeSegmentationH5(file, [labels(4, 4, 1), labels(5, 4, 2)]), 'ERR_SCSEG_SHAPE', '5×4');
    const u16 = { data: new Uint16Array(16), width: 4, height: 4 } as unknown as Image2D<Uint32Array>;
    await expectInputErrorAsync(writeSegmentationH5(file, [u16]), 'ERR_SCSEG_DTYPE', 'Uint32Array');
    await expectInputErrorAsync(writeSegmentationH5(path.join(tmp, 'no-such-dir', 'x.h5'), [labels(4, 4, 1)]), 'ERR_SCSEG_IO_WRITE', 'does not exist');
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('atomic writes: a failure mid-write never leaves a partial file under the final name', () => {
  it('segmentation.h5: abort after the first band → no file, no temp file', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-h5-'));
    const file = path.join(dir, 'segmentation.h5');
    let calls = 0;
    await expectInputErrorAsync(
      writeSegmentationH5(file, [labels(64, 64, 3), labels(64, 64, 4)], {
        maxBufferBytes: 64 * 8 * 10,
        chunkSize: 10,
        onProgress: () => {
          if (++calls === 3) throw new Error('simulated crash');
        },
      }),
      'ERR_SCSEG_IO_WRITE', 'simulated crash',
    );
    expect(calls).toBe(3);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('segmentation.h5: an existing file survives a failed overwrite unchanged', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-h5-old-'));
    const file = path.join(dir, 'segmentation.h5');
    await writeSegmentationH5(file, [labels(20, 20, 5)]);
    const before = fs.readFileSync(file);
    await expectInputErrorAsync(
      writeSegmentationH5(file, [labels(20, 20, 6)], { onProgress: () => { throw new Error('disk full'); } }),
      'ERR_SCSEG_IO_WRITE', 'disk full',
    );
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['segmentation.h5']);
  });

  it('writeAtomic: partial bytes written then a throw → nothing under the final name', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-raw-'));
    const file = path.join(dir, 'out.bin');
    await expectInputErrorAsync(
      writeAtomic(file, async (t) => {
        await fs.promises.writeFile(t, Buffer.alloc(1000, 7));
        throw new Error('killed halfway');
      }),
      'ERR_SCSEG_IO_WRITE', 'killed halfway', file,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
    await writeFileAtomic(file, 'complete');
    expect(fs.readFileSync(file, 'utf8')).toBe('complete');
    expect(fs.readdirSync(dir)).toEqual(['out.bin']);
  });

  it('a child process killed mid-write leaves only a hidden temp file, never a partial final file', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-kill-'));
    const file = path.join(dir, 'classes.csv');
    const script = `
      import { writeAtomic } from ${JSON.stringify(path.resolve('lib/io/atomic.ts'))};
      import fs from 'node:fs';
      await writeAtomic(${JSON.stringify(file)}, (t) => { fs.writeFileSync(t, '1\\n2\\n'); process.kill(process.pid, 'SIGKILL'); });
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(r.signal).toBe('SIGKILL');
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(dir).every((f) => f.startsWith('.classes.csv.tmp-'))).toBe(true);
  });
});

describe('classes.csv', () => {
  it('one id per line, no header, no trailing newline (scPortrait _save_classes)', async () => {
    const file = path.join(tmp, 'classes.csv');
    await writeClassesCsv(file, [3, 1, 2, 4000000000]);
    expect(fs.readFileSync(file, 'utf8')).toBe('3\n1\n2\n4000000000');
    expect(readClassesCsv(file)).toEqual([3, 1, 2, 4000000000]);
    await writeClassesCsv(file, new Set([7n, 18446744073709551615n]));
    expect(fs.readFileSync(file, 'utf8')).toBe('7\n18446744073709551615');
    await writeClassesCsv(file, []);
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    expect(readClassesCsv(file)).toEqual([]);
  });

  (hasPython('numpy') ? it : it.skip)('matches what the original writes for the same ids', () => {
    const file = path.join(tmp, 'classes-py.csv');
    // scPortrait: "\\n".join([str(i) for i in list(classes)]) on numpy integer ids.
    python(`import sys, numpy as np\nopen(sys.argv[1], "w").write("\\n".join([str(i) for i in list(np.array([5, 9, 12], np.uint64))]))`, file);
    const ours = path.join(tmp, 'classes-ts.csv');
    return writeClassesCsv(ours, [5, 9, 12]).then(() => {
      expect(fs.readFileSync(ours)).toEqual(fs.readFileSync(file));
    });
  });

  it('rejects non-integer ids', async () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      await expectInputErrorAsync(writeClassesCsv(path.join(tmp, 'x.csv'), [1, bad]), 'ERR_SCSEG_ARGUMENT', String(bad));
    }
  });
});

describe('OME-Zarr labels (NGFF 0.4)', () => {

  it('writes a labels group that our reader and an independent numpy+zlib reader read back', async () => {
    const root = path.join(tmp, 'fresh.ome.zarr');
    const masks = [labels(75, 41, 11), labels(75, 41, 12)];
    await writeOmeZarrLabels(root, masks, ['nucleus', 'cytosol'], { chunkSize: 32 });
    expect(listOmeZarrLabels(root)).toEqual(['nucleus', 'cytosol']);
    expect(JSON.parse(fs.readFileSync(path.join(root, '.zgroup'), 'utf8'))).toEqual({ zarr_format: 2 });
    const attrs = JSON.parse(fs.readFileSync(path.join(root, 'labels', 'nucleus', '.zattrs'), 'utf8'));
    expect(attrs['image-label']).toEqual({ version: '0.4', source: { image: '../../' } });
    expect(attrs.multiscales[0]).toMatchObject({ version: '0.4', axes: [{ name: 'y', type: 'space' }, { name: 'x', type: 'space' }] });
    expect(attrs.multiscales[0].datasets).toEqual([{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1] }] }]);
    expect(fs.existsSync(path.join(root, 'labels', 'nucleus', '0', '1', '2'))).toBe(true); // '/'-separated keys
    for (const [i, name] of ['nucleus', 'cytosol'].entries()) {
      const back = await readOmeZarrLabels(root, name);
      expect([back.width, back.height]).toEqual([75, 41]);
      expect(Buffer.from(back.data.buffer).equals(Buffer.from(masks[i].data.buffer))).toBe(true);
      if (hasPython('numpy')) {
        const raw = path.join(tmp, 'zdump.bin');
        const meta = JSON.parse(python(ZARR_V2_DUMP, path.join(root, 'labels', name, '0'), raw));
        expect(meta).toMatchObject({ zarr_format: 2, dtype: '<u4', chunks: [32, 32], shape: [41, 75], fill_value: 0 });
        const py = new BigUint64Array(new Uint8Array(fs.readFileSync(raw)).buffer);
        expect(Array.from(py, Number)).toEqual(Array.from(masks[i].data));
      }
    }
    expect(leftovers(path.join(root, 'labels'), ['.zgroup', '.zattrs', 'nucleus', 'cytosol'])).toEqual([]);
  });

  it('adds labels beside an existing OME-Zarr image, merges names, replaces a label, uint64 + uncompressed', async () => {
    const root = path.join(tmp, 'image.ome.zarr');
    fs.cpSync(path.join(fixturesDir, 'io', 'cyx_u16_v04.ome.zarr'), root, { recursive: true });
    await writeOmeZarrLabels(root, [labels(53, 37, 21)], ['nucleus']);
    const second = labels(53, 37, 22);
    await writeOmeZarrLabels(root, [second, labels(53, 37, 23)], ['cytosol', 'nucleus'], { dtype: 'uint64', compressionLevel: 0 });
    expect(listOmeZarrLabels(root)).toEqual(['nucleus', 'cytosol']);
    expect(Array.from((await readOmeZarrLabels(root, 'cytosol')).data)).toEqual(Array.from(second.data));
    expect(JSON.parse(fs.readFileSync(path.join(root, 'labels', 'nucleus', '0', '.zarray'), 'utf8'))).toMatchObject({ dtype: '<u8', compressor: null });
    const image = await openImage(root);
    expect(image.shape).toEqual([3, 37, 53]);
    await image.close();
    await expectInputErrorAsync(readOmeZarrLabels(root, 'golgi'), 'ERR_SCSEG_IO_NOT_FOUND', 'golgi', 'nucleus, cytosol');
  });

  it('a failed rewrite keeps the previous label image intact and leaves no temp directory', async () => {
    const root = path.join(tmp, 'atomic.ome.zarr');
    const first = labels(40, 30, 31);
    await writeOmeZarrLabels(root, [first], ['nucleus'], { chunkSize: 8 });
    await expectInputErrorAsync(
      writeOmeZarrLabels(root, [labels(40, 30, 32)], ['nucleus'], {
        chunkSize: 8,
        onProgress: (done) => { if (done === 2) throw new Error('power cut'); },
      }),
      'ERR_SCSEG_IO_WRITE', 'power cut',
    );
    expect(Array.from((await readOmeZarrLabels(root, 'nucleus')).data)).toEqual(Array.from(first.data));
    expect(fs.readdirSync(path.join(root, 'labels')).sort()).toEqual(['.zattrs', '.zgroup', 'nucleus']);
  });

  it('rejects bad names and mismatched lists', async () => {
    const root = path.join(tmp, 'bad.ome.zarr');
    await expectInputErrorAsync(writeOmeZarrLabels(root, [labels(4, 4, 1)], []), 'ERR_SCSEG_ARGUMENT', 'one name per mask');
    await expectInputErrorAsync(writeOmeZarrLabels(root, [labels(4, 4, 1)], ['../x']), 'ERR_SCSEG_ARGUMENT', 'invalid');
    await expectInputErrorAsync(writeOmeZarrLabels(root, [labels(4, 4, 1), labels(4, 4, 2)], ['a', 'a']), 'ERR_SCSEG_ARGUMENT', 'duplicate');
  });
});

describe('QC overlay PNG', () => {
  function decode(file: string): PNG {
    return PNG.sync.read(fs.readFileSync(file));
  }

  it('grey background stretched between percentiles, outlines per mask in their colours', async () => {
    const W = 40;
    const H = 30;
    const bg = { data: Uint16Array.from({ length: W * H }, (_, i) => 1000 + (i % W) * 10), width: W, height: H };
    const nucleus = new Uint32Array(W * H);
    const cytosol = new Uint32Array(W * H);
    for (let y = 5; y < 25; y++) for (let x = 5; x < 35; x++) cytosol[y * W + x] = 7;
    for (let y = 10; y < 20; y++) for (let x = 10; x < 20; x++) nucleus[y * W + x] = 7;
    const file = path.join(tmp, 'qc.png');
    await writeQcOverlay(file, bg, [{ data: nucleus, width: W, height: H }, { data: cytosol, width: W, height: H }],
      { lowerPercentile: 0, upperPercentile: 100 });
    const png = decode(file);
    expect([png.width, png.height]).toEqual([W, H]);
    const px = (x: number, y: number) => Array.from(png.data.subarray(4 * (y * W + x), 4 * (y * W + x) + 3));
    expect(px(0, 0)).toEqual([0, 0, 0]); // the minimum maps to black
    expect(px(W - 1, 0)).toEqual([255, 255, 255]); // the maximum to white
    expect(px(10, 10)).toEqual([0, 255, 255]); // nucleus outline: cyan
    expect(px(5, 5)).toEqual([255, 0, 255]); // cytosol outline: magenta
    expect(px(15, 15)[0]).toBe(px(15, 15)[1]); // nucleus interior stays grey
    expect(px(7, 15)[0]).toBe(px(7, 15)[2]); // cytosol interior stays grey
  });

  it('large images are shrunk to ≤ maxSize on the long side; float backgrounds work', async () => {
    const W = 2600;
    const H = 90;
    const r = rng(5);
    const bg = { data: Float32Array.from({ length: W * H }, () => r()), width: W, height: H };
    const mask = { data: new Uint32Array(W * H), width: W, height: H };
    for (let y = 30; y < 60; y++) for (let x = 1000; x < 1300; x++) mask.data[y * W + x] = 3;
    const file = path.join(tmp, 'qc-large.png');
    await writeQcOverlay(file, bg, [mask]);
    const png = decode(file);
    expect(Math.max(png.width, png.height)).toBeLessThanOrEqual(2048);
    expect([png.width, png.height]).toEqual([1300, 45]);
    const at = (x: number, y: number) => Array.from(png.data.subarray(4 * (y * png.width + x), 4 * (y * png.width + x) + 3));
    expect(at(500, 20)).toEqual([0, 255, 255]); // left edge of the cell, x = 1000 → 500
    expect(at(520, 20)[0]).toBe(at(520, 20)[1]); // interior: grey
    const small = renderQcOverlay(bg, [mask], { maxSize: 100 });
    expect(small.factor).toBe(26);
    expect([small.width, small.height]).toEqual([100, 4]);
  });

  it('encodeRgbPng: any RGB content round-trips through an independent decoder (pngjs), alpha dropped', () => {
    const r = rng(11);
    for (const [w, h] of [[1, 1], [37, 23], [300, 2]]) {
      const rgba = Uint8Array.from({ length: w * h * 4 }, () => Math.floor(r() * 256));
      const png = PNG.sync.read(encodeRgbPng(rgba, w, h));
      expect([png.width, png.height]).toEqual([w, h]);
      for (let i = 0; i < w * h; i++) {
        expect(Array.from(png.data.subarray(4 * i, 4 * i + 3))).toEqual(Array.from(rgba.subarray(4 * i, 4 * i + 3)));
        expect(png.data[4 * i + 3]).toBe(255);
      }
    }
  });

  it('encodeRgbPngAsync (deflate on the thread pool, one chunk) gives the same bytes as encodeRgbPng', async () => {
    const r = rng(12);
    // 700×300: the raw scanlines (630 kB) are far above zlib's default 16 KiB output chunk.
    for (const [w, h] of [[1, 1], [700, 300]]) {
      const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i >> 7) % 3 === 0 ? Math.floor(r() * 256) : 40));
      const asyncBytes = await encodeRgbPngAsync(rgba, w, h);
      expect(Buffer.compare(asyncBytes, encodeRgbPng(rgba, w, h))).toBe(0);
      expect(PNG.sync.read(asyncBytes).width).toBe(w);
    }
  });

  it('rejects mismatched masks and bad options', async () => {
    const bg = { data: new Uint8Array(16), width: 4, height: 4 };
    const file = path.join(tmp, 'qc-bad.png');
    await expectInputErrorAsync(writeQcOverlay(file, bg, [{ data: new Uint32Array(20), width: 5, height: 4 }]), 'ERR_SCSEG_SHAPE', 'mask 0');
    await expectInputErrorAsync(writeQcOverlay(file, bg, [], { lowerPercentile: 50, upperPercentile: 10 }), 'ERR_SCSEG_ARGUMENT', 'Percentile');
    expect(fs.existsSync(file)).toBe(false);
  });
});
