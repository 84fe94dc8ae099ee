/** Every input container and encoding decodes to the pixels its generator wrote (scripts/fixtures/make_fixtures_io.py). */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import type { PixelArray } from '../../lib/image.js';
import { openImage, type ImageSource } from '../../lib/io/index.js';
import { exampleData, firstBitDifference, fixturesDir, readArray, rng, type ArrayRef } from '../helpers/fixtures.js';
import { expectInputErrorAsync } from '../helpers/errors.js';

const dir = path.join(fixturesDir, 'io');
interface InputCase {
  name: string;
  paths: string[];
  format: string;
  note: string;
  expected: ArrayRef;
  channelNames?: string[];
  openOptions?: { dataset?: string };
}
interface BadCase { name: string; paths: string[]; code: string; match: string; note: string }
interface RealCase {
  path: string;
  dtype: string;
  shape: number[];
  sha256: string;
  window: { x: number; y: number; width: number; height: number };
  windowExpected: string;
}
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
  inputs: InputCase[];
  bad: BadCase[];
  real: RealCase[];
};

const resolve = (c: { paths: string[] }) => c.paths.map((p) => path.join(dir, p));
const open = (c: InputCase) => openImage(c.paths.length === 1 ? resolve(c)[0] : resolve(c), c.openOptions);

/** Plane c of a C×H×W expected array, cropped to a window. */
/** Opens a file and decodes every channel (the way a corrupt file is fully exercised). */
async function readAllChannels(file: string): Promise<void> {
  const src = await openImage(file);
  try {
    for (let c = 0; c < src.channelCount; c++) await src.readChannel(c);
  } finally {
    await src.close();
  }
}

function expectedWindow(all: PixelArray, shape: number[], c: number, x: number, y: number, w: number, h: number): PixelArray {
  const [, H, W] = shape;
  const out = new (all.constructor as new (n: number) => PixelArray)(w * h);
  for (let r = 0; r < h; r++) out.set(all.subarray(c * H * W + (y + r) * W + x, c * H * W + (y + r) * W + x + w), r * w);
  return out;
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-io-read-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe.each(manifest.inputs.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  const expected = readArray(dir, c.expected) as PixelArray;
  const [C, H, W] = c.expected.shape;
  let src: ImageSource;
  beforeAll(async () => {
    src = await open(c);
  });
  afterAll(async () => {
    await src.close();
  });

  it(`probes shape and dtype (${c.note})`, () => {
    expect(src.format).toBe(c.format);
    expect(src.shape).toEqual([C, H, W]);
    expect(src.channelCount).toBe(C);
    expect([src.height, src.width]).toEqual([H, W]);
    expect(src.dtype).toBe(c.expected.dtype);
    if (c.channelNames) expect(src.channelNames).toEqual(c.channelNames);
  });

  it('decodes every channel bit-exactly', async () => {
    for (let ch = 0; ch < C; ch++) {
      const img = await src.readChannel(ch);
      expect([img.width, img.height]).toEqual([W, H]);
      expect(firstBitDifference(img.data as PixelArray, expectedWindow(expected, c.expected.shape, ch, 0, 0, W, H))).toBe(-1);
    }
  });

  it('decodes windows bit-exactly (corners, single pixels, rows, columns, random)', async () => {
    const r = rng(C * 1000 + H * 7 + W);
    const windows = [
      [0, 0, 1, 1], [W - 1, H - 1, 1, 1], [0, 0, W, 1], [0, H - 1, W, 1], [0, 0, 1, H], [W - 1, 0, 1, H],
      [1, 2, W - 2, H - 3], [15, 15, 2, 2], [16, 16, 17, 5],
    ].filter(([x, y, w, h]) => x + w <= W && y + h <= H);
    for (let k = 0; k < 6; k++) {
      const w = 1 + Math.floor(r() * W);
      const h = 1 + Math.floor(r() * H);
      windows.push([Math.floor(r() * (W - w + 1)), Math.floor(r() * (H - h + 1)), w, h]);
    }
    for (const [x, y, w, h] of windows) {
      const ch = Math.floor(r() * C);
      const img = await src.readWindow(ch, { x, y, width: w, height: h });
      expect([img.width, img.height]).toEqual([w, h]);
      const diff = firstBitDifference(img.data as PixelArray, expectedWindow(expected, c.expected.shape, ch, x, y, w, h));
      if (diff !== -1) throw new Error(`channel ${ch} window ${x},${y} ${w}×${h}: first difference at ${diff}`);
    }
  });

  it('readChannels returns the requested channels in order, repeats allowed', async () => {
    const order = C > 1 ? [C - 1, 0, C - 1] : [0, 0];
    const stack = await src.readChannels(order);
    expect(stack).toMatchObject({ width: W, height: H, dtype: c.expected.dtype });
    expect(stack.channels).toHaveLength(order.length);
    order.forEach((ch, i) => {
      expect(firstBitDifference(stack.channels[i].data as PixelArray, expectedWindow(expected, c.expected.shape, ch, 0, 0, W, H))).toBe(-1);
    });
  });

  it('rejects out-of-range channels and windows with an InputError naming the file', async () => {
    const named = path.basename(resolve(c)[0]);
    await expectInputErrorAsync(src.readChannel(C), 'ERR_SCSEG_ARGUMENT', `channel index ${C} out of range`, named);
    await expectInputErrorAsync(src.readChannel(-1), 'ERR_SCSEG_ARGUMENT', 'out of range');
    await expectInputErrorAsync(src.readChannel(0.5), 'ERR_SCSEG_ARGUMENT', 'out of range');
    await expectInputErrorAsync(src.readWindow(0, { x: W - 1, y: 0, width: 2, height: 1 }), 'ERR_SCSEG_ARGUMENT', 'not inside', named);
    await expectInputErrorAsync(src.readWindow(0, { x: 0, y: 0, width: 0, height: 1 }), 'ERR_SCSEG_ARGUMENT', 'not inside');
    await expectInputErrorAsync(src.readWindow(0, { x: -1, y: 0, width: 1, height: 1 }), 'ERR_SCSEG_ARGUMENT', 'not inside');
    await expectInputErrorAsync(src.readChannels([0, C]), 'ERR_SCSEG_ARGUMENT', 'out of range');
  });
});

describe('whole real fields', () => {
  for (const real of manifest.real) {
    const file = path.join(dir, real.path);
    it(`${real.path} (PackBits, 16-row strips) decodes to the tifffile reference (sha256) and windows match`, async () => {
      const src = await openImage(file);
      try {
        expect(src.shape).toEqual(real.shape);
        expect(src.dtype).toBe(real.dtype);
        const img = await src.readChannel(0);
        const bytes = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(real.sha256);
        const w = real.window;
        const crop = await src.readWindow(0, w);
        const ref = readArray(dir, { file: real.windowExpected, dtype: 'uint8', shape: [1, w.height, w.width] }) as PixelArray;
        expect(firstBitDifference(crop.data as PixelArray, ref)).toBe(-1);
      } finally {
        await src.close();
      }
    });
  }

  const example3 = ['Ch1.tif', 'Ch2.tif', 'Ch3.tif'].map((f) => path.join(exampleData, f));
  it('a list of the example-3 channel TIFFs opens as 3×400×400 uint16', async () => {
    const src = await openImage(example3);
    try {
      expect(src.shape).toEqual([3, 400, 400]);
      expect(src.dtype).toBe('uint16');
      expect(src.channelNames).toEqual(['Ch1', 'Ch2', 'Ch3']);
      const single = await openImage(example3[2]);
      const a = await src.readWindow(2, { x: 100, y: 50, width: 64, height: 48 });
      const b = await single.readWindow(0, { x: 100, y: 50, width: 64, height: 48 });
      await single.close();
      expect(firstBitDifference(a.data as PixelArray, b.data as PixelArray)).toBe(-1);
    } finally {
      await src.close();
    }
  });
});

describe('unsupported content gives one InputError naming the file', () => {
  it.each(manifest.bad.map((b) => [b.name, b] as const))('%s', async (_name, b) => {
    const files = resolve(b);
    const e = await expectInputErrorAsync(openImage(files.length === 1 ? files[0] : files), b.code, b.match);
    expect(files.some((f) => e.message.includes(f))).toBe(true);
  });
});

describe('missing, corrupt and truncated files', () => {
  const fixture = (name: string) => path.join(dir, name);
  const copyTo = (name: string, bytes: Uint8Array) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, bytes);
    return p;
  };

  it('missing file / missing list member / missing directory', async () => {
    const missing = path.join(tmp, 'nope.tif');
    await expectInputErrorAsync(openImage(missing), 'ERR_SCSEG_IO_NOT_FOUND', missing, 'no such file');
    await expectInputErrorAsync(openImage([fixture('list_c0.tif'), missing]), 'ERR_SCSEG_IO_NOT_FOUND', missing);
    await expectInputErrorAsync(openImage(path.join(tmp, 'nope.ome.zarr')), 'ERR_SCSEG_IO_NOT_FOUND', 'nope.ome.zarr');
  });

  it('empty path list, empty file, unknown format, plain directory', async () => {
    await expectInputErrorAsync(openImage([]), 'ERR_SCSEG_ARGUMENT', 'empty list');
    await expectInputErrorAsync(openImage(copyTo('empty.tif', new Uint8Array(0))), 'ERR_SCSEG_IO_CORRUPT', 'empty.tif', 'empty file');
    await expectInputErrorAsync(openImage(copyTo('notes.txt', Buffer.from('hello world'))), 'ERR_SCSEG_IO_FORMAT', 'notes.txt', 'unrecognised');
    await expectInputErrorAsync(openImage(copyTo('fake.tif', Buffer.from('GIF89a........'))), 'ERR_SCSEG_IO_FORMAT', 'fake.tif', 'not a TIFF');
    await expectInputErrorAsync(openImage(copyTo('fake.npy', Buffer.from('\x93NUMPX\x01\x00'))), 'ERR_SCSEG_IO_FORMAT', 'fake.npy');
    await expectInputErrorAsync(openImage(copyTo('fake.h5', Buffer.from('not an hdf5 file at all'))), 'ERR_SCSEG_IO_FORMAT', 'fake.h5', 'not an HDF5');
    const plain = path.join(tmp, 'plain-dir');
    fs.mkdirSync(plain, { recursive: true });
    await expectInputErrorAsync(openImage(plain), 'ERR_SCSEG_IO_FORMAT', 'plain-dir', 'not an OME-Zarr');
  });

  it.each([
    'strips_u16_3pages.tif', 'lzw_u16_2pages.tif', 'packbits_u8_crop.tif', 'tiled_deflate_f32.tif', 'tiled_raw_u8.tif',
    'bigtiff_f32.tif', 'ome_u16_3c.ome.tif', 'planar_u16_4samples.tif',
  ])('truncated %s: InputError at open or read, never a crash or silent zeros', async (name) => {
    const c = manifest.inputs.find((i) => i.paths.length === 1 && i.paths[0] === name)!;
    const expected = readArray(dir, c.expected) as PixelArray;
    const bytes = fs.readFileSync(fixture(name));
    let errors = 0;
    for (const keep of [7, 12, Math.floor(bytes.length / 3), Math.floor(bytes.length / 2), bytes.length - 1]) {
      const p = copyTo(`cut-${keep}-${name}`, bytes.subarray(0, keep));
      try {
        const src = await openImage(p);
        try {
          // Losing only bytes nobody reads (e.g. a trailing resolution tag) is harmless: then the pixels must be intact.
          const [C, H, W] = c.expected.shape;
          for (let ch = 0; ch < C; ch++) {
            const img = await src.readChannel(ch);
            expect(firstBitDifference(img.data as PixelArray, expectedWindow(expected, c.expected.shape, ch, 0, 0, W, H))).toBe(-1);
          }
        } finally {
          await src.close();
        }
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        expect(e.message).toContain(p);
        expect(['ERR_SCSEG_IO_CORRUPT', 'ERR_SCSEG_IO_FORMAT']).toContain(e.code);
        errors++;
      }
    }
    expect(errors).toBeGreaterThanOrEqual(4);
  });

  it('truncated .npy and HDF5', async () => {
    const npy = fs.readFileSync(fixture('cyx_u16.npy'));
    await expectInputErrorAsync(openImage(copyTo('cut.npy', npy.subarray(0, npy.length - 2))), 'ERR_SCSEG_IO_CORRUPT', 'cut.npy', 'truncated');
    await expectInputErrorAsync(openImage(copyTo('cut-header.npy', npy.subarray(0, 40))), 'ERR_SCSEG_IO_CORRUPT', 'cut-header.npy');
    const h5 = fs.readFileSync(fixture('channels_u16.h5'));
    const p = copyTo('cut.h5', h5.subarray(0, Math.floor(h5.length / 2)));
    let err: unknown;
    try {
      await readAllChannels(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain('cut.h5');
  });

  it('corrupt TIFF bodies (random bytes after a valid header, IFD loops, garbage strips) fail cleanly', async () => {
    const r = rng(7);
    const base = fs.readFileSync(fixture('lzw_u16_2pages.tif'));
    // Header intact, everything else random.
    const noise = Uint8Array.from(base, (b, i) => (i < 8 ? b : Math.floor(r() * 256)));
    const outcomes: string[] = [];
    for (const [name, bytes] of [['noise.tif', noise]] as const) {
      const p = copyTo(name, bytes);
      try {
        const src = await openImage(p);
        await src.readChannel(0).finally(() => src.close());
        outcomes.push('decoded');
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        expect((e as Error).message).toContain(p);
        outcomes.push((e as InputError).code);
      }
    }
    // A next-IFD pointer back to the first IFD: a loop.
    const loop = Buffer.from(fs.readFileSync(fixture('with_thumbnail.tif')));
    const ifd0 = loop.readUInt32LE(4);
    const n = loop.readUInt16LE(ifd0);
    const nextPtr = ifd0 + 2 + n * 12;
    const ifd1 = loop.readUInt32LE(nextPtr);
    const n1 = loop.readUInt16LE(ifd1);
    loop.writeUInt32LE(ifd0, ifd1 + 2 + n1 * 12);
    await expectInputErrorAsync(openImage(copyTo('loop.tif', loop)), 'ERR_SCSEG_IO_CORRUPT', 'loop.tif', 'loop');
    // Compressed strips overwritten with garbage: LZW decoder errors must surface as InputError.
    const garbled = Buffer.from(base);
    for (let i = Math.floor(garbled.length * 0.1); i < Math.floor(garbled.length * 0.4); i++) garbled[i] = Math.floor(r() * 256);
    const p = copyTo('garbled.tif', garbled);
    try {
      await readAllChannels(p);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toContain(p);
    }
    expect(outcomes).toHaveLength(1);
  });

  it('a closed source refuses further reads', async () => {
    const src = await openImage(fixture('cyx_u16.npy'));
    await src.close();
    await src.close();
    await expectInputErrorAsync(src.readChannel(0), 'ERR_SCSEG_ARGUMENT', 'closed');
  });
});

describe('fuzz: random byte corruption never escapes as anything but an InputError', () => {
  const targets = [
    'lzw_u16_2pages.tif', 'lzw_u16_onestrip.tif', 'packbits_u8_crop.tif', 'deflate_pred_u16.tif', 'tiled_deflate_f32.tif',
    'strips_u16_bigendian.tif', 'bigtiff_f32.tif', 'ome_u16_3c.ome.tif', 'pages_x_samples_u16.tif', 'cyx_u16.npy',
    'channels_u16.h5',
  ];
  it.each(targets)('%s', async (name) => {
    const r = rng(name.length * 7919);
    const base = fs.readFileSync(path.join(dir, name));
    const codes = new Map<string, number>();
    for (let trial = 0; trial < 40; trial++) {
      const bytes = Buffer.from(base);
      const flips = 1 + Math.floor(r() * 8);
      // Half the trials hit the first 512 bytes (headers, IFDs), half anywhere.
      for (let k = 0; k < flips; k++) {
        const at = trial % 2 === 0 ? Math.floor(r() * Math.min(512, bytes.length)) : Math.floor(r() * bytes.length);
        bytes[at] = Math.floor(r() * 256);
      }
      const p = path.join(tmp, `fuzz-${trial}-${name}`);
      fs.writeFileSync(p, bytes);
      let outcome = 'decoded';
      try {
        const src = await openImage(p);
        try {
          for (let c = 0; c < Math.min(src.channelCount, 4); c++) await src.readChannel(c);
        } finally {
          await src.close();
        }
      } catch (e) {
        if (!(e instanceof InputError)) throw new Error(`trial ${trial}: ${String(e)}`);
        expect(e.message).toContain(p);
        outcome = e.code;
      }
      codes.set(outcome, (codes.get(outcome) ?? 0) + 1);
      fs.rmSync(p);
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(40);
  });
});
