/**
 * Mask morphology and threshold kernels (binaryErosion, binaryDilation, localMedianThreshold, otsuThreshold):
 * - against the exact scikit-image / scipy / numpy calls of the original (scripts/fixtures/make_fixtures_morphology.py),
 *   bit for bit, on the backend SCSEG_BACKEND selects;
 * - native and WASM builds bit-identical;
 * - bad input → InputError on both backends.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { fixturesDir, firstBitDifference, readArray, readImage, rng, type ArrayRef } from '../helpers/fixtures.js';
import { testBackends, describeIfNative } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

interface Case {
  kernel: 'binaryErosion' | 'binaryDilation' | 'localMedianThreshold' | 'otsuThreshold';
  input: ArrayRef;
  origin: string;
  expected?: ArrayRef;
  expectedValue?: number;
  call?: string;
  radius?: number;
  outside?: 0 | 1;
  blockSize?: number;
  step?: number;
  offset?: number;
}

const dir = path.join(fixturesDir, 'morphology');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };
const k = kernels();
const shape = (c: Case) => `${c.input.dtype} ${c.input.shape.join('×')} (${c.origin})`;
const ofKernel = (name: Case['kernel']) => manifest.cases.filter((c) => c.kernel === name);

describe(`binaryErosion / binaryDilation match scipy & skimage [${k.backendName}]`, () => {
  const cases = [...ofKernel('binaryErosion'), ...ofKernel('binaryDilation')];
  it('covers both border values, both dilation calls of the original and radii up to 9', () => {
    const calls = new Set(cases.map((c) => c.call));
    expect(calls).toContain('skimage.morphology.binary_erosion(mask, disk(r))');
    expect(calls).toContain('skimage.morphology.dilation(bool mask, disk(r))');
    expect(calls).toContain('skimage.morphology.dilation(float64 0/1 mask, disk(r)) != 0');
    expect(new Set(cases.map((c) => `${c.kernel}/${c.outside}`)).size).toBe(4);
    expect(Math.max(...cases.map((c) => c.radius!))).toBeGreaterThanOrEqual(9);
    expect(cases.some((c) => c.origin.includes('Ch1.tif'))).toBe(true);
  });
  it.each(cases.map((c) => [`${c.kernel} r=${c.radius} outside=${c.outside} ${shape(c)} vs ${c.call}`, c] as const))(
    '%s',
    (_name, c) => {
      const mask = readImage(dir, c.input) as Image2D<Uint8Array>;
      const out = k[c.kernel as 'binaryErosion' | 'binaryDilation'](mask, c.radius!, c.outside!);
      expect(firstBitDifference(out.data, readArray(dir, c.expected!))).toBe(-1);
    },
  );
});

describe(`localMedianThreshold matches resize(threshold_local(img[::s, ::s], b, "median", offset)) [${k.backendName}]`, () => {
  const cases = ofKernel('localMedianThreshold');
  it('covers the example_3 setting (median_block 41, median_step 4, threshold 0.2) on real images', () => {
    expect(cases.some((c) => c.blockSize === 41 && c.step === 4 && c.offset === -0.2 && c.origin.includes('Ch1.tif'))).toBe(true);
  });
  it.each(cases.map((c) => [`block ${c.blockSize} step ${c.step} offset ${c.offset} ${shape(c)}`, c] as const))(
    '%s',
    (_name, c) => {
      const img = readImage(dir, c.input) as Image2D<Float32Array>;
      const out = k.localMedianThreshold(img, c.blockSize!, c.step!, c.offset!);
      expect(firstBitDifference(out.data, readArray(dir, c.expected!))).toBe(-1);
    },
  );
});

describe(`otsuThreshold matches global_otsu [${k.backendName}]`, () => {
  const cases = ofKernel('otsuThreshold');
  it.each(cases.map((c) => [shape(c), c] as const))('%s', (_name, c) => {
    expect(k.otsuThreshold(readImage(dir, c.input))).toBe(c.expectedValue);
  });
});

describe('morphology / threshold kernels: properties', () => {
  const r = rng(5);
  const mask = (w: number, h: number, p: number): Image2D<Uint8Array> => ({
    data: Uint8Array.from({ length: w * h }, () => (r() < p ? 1 : 0)),
    width: w,
    height: h,
  });
  it('reads any non-zero byte as foreground and writes 0/1', () => {
    const m = mask(37, 23, 0.6);
    const scaled = { ...m, data: m.data.map((v) => v * 255) };
    for (const op of ['binaryErosion', 'binaryDilation'] as const) {
      for (const outside of [0, 1] as const) {
        const a = k[op](m, 3, outside).data;
        expect(firstBitDifference(a, k[op](scaled, 3, outside).data)).toBe(-1);
        expect(a.every((v) => v === 0 || v === 1)).toBe(true);
      }
    }
  });
  it('dilation is the complement of the erosion of the complement with the other border value', () => {
    const m = mask(130, 70, 0.3);
    const inv = { ...m, data: m.data.map((v) => 1 - v) };
    for (const radius of [0, 1, 5, 11, 70]) {
      for (const outside of [0, 1] as const) {
        const d = k.binaryDilation(m, radius, outside).data;
        const e = k.binaryErosion(inv, radius, (1 - outside) as 0 | 1).data.map((v) => 1 - v);
        expect(firstBitDifference(d, e)).toBe(-1);
      }
    }
  });
  it('a radius larger than the image: erosion with outside 0 clears, dilation with outside 1 fills', () => {
    const m = mask(5, 4, 0.9);
    expect(k.binaryErosion(m, 9, 0).data.every((v) => v === 0)).toBe(true);
    expect(k.binaryDilation(m, 9, 1).data.every((v) => v === 1)).toBe(true);
  });
});

describeIfNative('morphology / threshold kernels: native and WASM are bit-identical', () => {
  const native = kernels('native');
  const wasm = kernels('wasm');
  const SHAPES: [number, number][] = [[1, 1], [1, 130], [130, 1], [2, 2], [17, 31], [64, 63], [65, 129], [1023, 1025]];
  for (const [h, w] of SHAPES) {
    it(`${h}×${w}`, () => {
      const r = rng(h * 7919 + w);
      const big = h * w > 100000;
      const m: Image2D<Uint8Array> = { data: Uint8Array.from({ length: h * w }, () => (r() < 0.55 ? 1 : 0)), width: w, height: h };
      for (const radius of big ? [2, 9] : [0, 1, 4, 9, 12]) {
        for (const outside of [0, 1] as const) {
          expect(firstBitDifference(native.binaryErosion(m, radius, outside).data, wasm.binaryErosion(m, radius, outside).data)).toBe(-1);
          expect(firstBitDifference(native.binaryDilation(m, radius, outside).data, wasm.binaryDilation(m, radius, outside).data)).toBe(-1);
        }
      }
      const f: Image2D<Float32Array> = {
        data: Float32Array.from({ length: h * w }, () => (r() < 0.1 ? 0.25 : r())),
        width: w,
        height: h,
      };
      for (const [block, step, offset] of big ? [[41, 4, -0.2]] : [[1, 1, 0], [3, 1, -0.2], [41, 4, -0.2], [7, 3, 0.05]]) {
        const a = native.localMedianThreshold(f, block, step, offset).data;
        const b = wasm.localMedianThreshold(f, block, step, offset).data;
        expect(firstBitDifference(a, b)).toBe(-1);
      }
      const u16 = { data: Uint16Array.from({ length: h * w }, () => Math.floor(r() * 65536)), width: w, height: h };
      for (const img of [f, u16, { ...m }]) expect(Object.is(native.otsuThreshold(img), wasm.otsuThreshold(img))).toBe(true);
    });
  }
});

describe.each(testBackends)('morphology / threshold kernels: bad input [%s]', (name) => {
  const kb = kernels(name);
  const m: Image2D<Uint8Array> = { data: new Uint8Array(12), width: 4, height: 3 };
  const f: Image2D<Float32Array> = { data: new Float32Array(12), width: 4, height: 3 };
  const cases: [string, () => unknown, RegExp, string][] = [
    ['erosion of a Uint16Array', () => kb.binaryErosion({ ...m, data: new Uint16Array(12) as never }, 1, 1), /Uint8Array/, 'ERR_SCSEG_DTYPE'],
    ['dilation of a Float32Array', () => kb.binaryDilation(f as never, 1, 0), /Uint8Array/, 'ERR_SCSEG_DTYPE'],
    ['erosion, length ≠ width×height', () => kb.binaryErosion({ ...m, width: 5 }, 1, 1), /12 elements/, 'ERR_SCSEG_SHAPE'],
    ['erosion, negative radius', () => kb.binaryErosion(m, -1, 1), /radius must be an integer in \[0, 4096\]/, 'ERR_SCSEG_ARGUMENT'],
    ['dilation, fractional radius', () => kb.binaryDilation(m, 1.5, 0), /radius/, 'ERR_SCSEG_ARGUMENT'],
    ['dilation, outside 2', () => kb.binaryDilation(m, 1, 2 as never), /outside .* must be 0 or 1/, 'ERR_SCSEG_ARGUMENT'],
    ['erosion, outside true', () => kb.binaryErosion(m, 1, true as never), /must be 0 or 1/, 'ERR_SCSEG_ARGUMENT'],
    ['local threshold, even block', () => kb.localMedianThreshold(f, 40, 4, -0.2), /median_block\) must be odd, got 40/, 'ERR_SCSEG_ARGUMENT'],
    ['local threshold, block 0', () => kb.localMedianThreshold(f, 0, 4, -0.2), /median_block/, 'ERR_SCSEG_ARGUMENT'],
    ['local threshold, step 0', () => kb.localMedianThreshold(f, 41, 0, -0.2), /median_step/, 'ERR_SCSEG_ARGUMENT'],
    ['local threshold, fractional step', () => kb.localMedianThreshold(f, 41, 1.5, -0.2), /median_step/, 'ERR_SCSEG_ARGUMENT'],
    ['local threshold, NaN offset', () => kb.localMedianThreshold(f, 41, 4, Number.NaN), /offset/, 'ERR_SCSEG_ARGUMENT'],
    ['local threshold, uint16 image', () => kb.localMedianThreshold({ ...f, data: new Uint16Array(12) as never }, 3, 1, 0), /float32/, 'ERR_SCSEG_DTYPE'],
    ['local threshold, NaN pixel', () => kb.localMedianThreshold({ ...f, data: Float32Array.of(0, 1, NaN, 3, 4, 5, 6, 7, 8, 9, 10, 11) }, 3, 1, 0), /NaN \(first at index 2\)/, 'ERR_SCSEG_VALUE'],
    ['otsu, NaN pixel', () => kb.otsuThreshold({ ...f, data: new Float32Array(12).fill(NaN) }), /NaN/, 'ERR_SCSEG_VALUE'],
    ['otsu, infinite pixel', () => kb.otsuThreshold({ ...f, data: Float32Array.of(0, 1, 2, Infinity, 4, 5, 6, 7, 8, 9, 10, 11) }), /±Infinity/, 'ERR_SCSEG_VALUE'],
    ['otsu, Int32Array', () => kb.otsuThreshold({ ...f, data: new Int32Array(12) as never }), /Int32Array/, 'ERR_SCSEG_DTYPE'],
  ];
  it.each(cases)('%s → InputError', (_n, call, message, code) => expectInputError(call, code, message));

  it('the raw bindings reject wrong lengths, dtypes and arguments themselves (no out-of-bounds access)', () => {
    const raw = kb.backend.bindings;
    expect(() => raw.binaryErosion(new Uint8Array(10), 4, 3, 1, 1, new Uint8Array(12))).toThrow(/length does not equal/);
    expect(() => raw.binaryDilation(new Uint8Array(12), 4, 3, 1, 1, new Uint16Array(12) as never)).toThrow(/Uint8Array/);
    expect(() => raw.binaryDilation(new Uint8Array(12), 4, 3, 1, 3, new Uint8Array(12))).toThrow(/binaryDilation: invalid argument/);
    expect(() => raw.localMedianThreshold(new Float32Array(12), 4, 3, 4, 1, 0, new Float32Array(12), 1)).toThrow(/invalid argument/);
    expect(() => raw.localMedianThreshold(new Float32Array(12), 4, 3, 3, 1, 0, new Float32Array(11), 1)).toThrow(/length does not equal/);
    expect(() => raw.otsuThreshold(new Float32Array([1, Infinity]), 2, 1)).toThrow(/otsuThreshold/);
    expect(() => raw.otsuThreshold(new Float32Array([1, NaN]), 2, 1)).toThrow(/otsuThreshold/);
  });

  it('still works after errors', () => {
    // disk(1) is the 4-neighbourhood cross; the border counts as foreground, so only the hole eats in.
    const out = kb.binaryErosion({ data: Uint8Array.of(1, 1, 1, 1, 1, 0, 1, 1, 1), width: 3, height: 3 }, 1, 1);
    expect(Array.from(out.data)).toEqual([1, 1, 0, 1, 0, 0, 1, 1, 0]);
    expect(kb.otsuThreshold({ data: Uint8Array.of(0, 0, 10, 10), width: 2, height: 2 })).toBeGreaterThan(0);
  });
});
