/**
 * distanceTransform and peakLocalMax: goldens from scipy / scikit-image (scripts/fixtures/make_fixtures_distance.py),
 * compared exactly, on the backend SCSEG_BACKEND selects; native vs WASM bit identity; bad input.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { fixturesDir, rng } from '../helpers/fixtures.js';
import { describeIfNative } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

interface Ref {
  file: string;
  dtype: 'uint8' | 'float64' | 'int32';
  shape: number[];
}
interface Case {
  kernel: 'distanceTransform' | 'peakLocalMax';
  input: Ref;
  expected: Ref;
  origin: string;
  minDistance?: number;
  footprintRadius?: number;
  sameAsDebianSkimage019?: boolean;
}

const dir = path.join(fixturesDir, 'distance');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };
const CTORS = { uint8: Uint8Array, float64: Float64Array, int32: Int32Array } as const;

function read<D extends Ref['dtype']>(ref: Ref & { dtype: D }): InstanceType<(typeof CTORS)[D]> {
  const buf = fs.readFileSync(path.join(dir, ref.file));
  const Ctor = CTORS[ref.dtype];
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Ctor(copy.buffer, 0, buf.byteLength / Ctor.BYTES_PER_ELEMENT) as InstanceType<(typeof CTORS)[D]>;
}

function image<T extends Uint8Array | Float64Array>(ref: Ref, data: T): Image2D<T> {
  const [height, width] = ref.shape.length === 2 ? ref.shape : [1, ref.shape[0]];
  return { data, width, height };
}

/** Index of the first float64 whose bit pattern differs (distinguishes −0 from +0), or −1. */
function firstBitDifference64(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new BigInt64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigInt64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** Index of the first differing element of two int32 arrays (or the shorter length), or −1. */
function firstDifference32(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const k = kernels();

describe(`distanceTransform matches scipy.ndimage.distance_transform_edt bit for bit [${k.backendName}]`, () => {
  const cases = manifest.cases.filter((c) => c.kernel === 'distanceTransform');
  it('has fixtures for 1×N, N×1, all-foreground and real nuclei crops', () => {
    expect(cases.some((c) => c.input.shape[0] === 1 && c.input.shape[1] > 1)).toBe(true);
    expect(cases.some((c) => c.input.shape[1] === 1 && c.input.shape[0] > 1)).toBe(true);
    expect(cases.some((c) => /all foreground/.test(c.origin))).toBe(true);
    expect(cases.filter((c) => /Ch1\.tif|bbbc039/.test(c.origin)).length).toBeGreaterThanOrEqual(4);
  });
  it.each(cases.map((c) => [`${c.input.shape.join('×')} ${c.origin}`, c] as const))('%s', (_name, c) => {
    const out = k.distanceTransform(image(c.input, read(c.input as Ref & { dtype: 'uint8' })));
    expect(firstBitDifference64(out.data, read(c.expected as Ref & { dtype: 'float64' }))).toBe(-1);
  });

  it('treats every non-zero byte as foreground', () => {
    const c = cases.find((x) => /random blobs 47x53/.test(x.origin))!;
    const mask = read(c.input as Ref & { dtype: 'uint8' }).map((v) => (v ? 255 : 0));
    const out = k.distanceTransform(image(c.input, mask));
    expect(firstBitDifference64(out.data, read(c.expected as Ref & { dtype: 'float64' }))).toBe(-1);
  });
});

describe(`peakLocalMax matches skimage >= 0.20 peak_local_max(min_distance, footprint=disk(r)) [${k.backendName}]`, () => {
  const cases = manifest.cases.filter((c) => c.kernel === 'peakLocalMax');
  it('covers the config default (min_distance 8, footprint 7), ties that skimage 0.19 orders differently', () => {
    expect(cases.some((c) => c.minDistance === 8 && c.footprintRadius === 7 && /Ch1\.tif/.test(c.origin))).toBe(true);
    expect(cases.filter((c) => c.sameAsDebianSkimage019 === false).length).toBeGreaterThan(10);
  });
  it.each(cases.map((c) => [`${c.input.shape.join('×')} ${c.origin} m=${c.minDistance} r=${c.footprintRadius}`, c] as const))(
    '%s',
    (_name, c) => {
      const out = k.peakLocalMax(image(c.input, read(c.input as Ref & { dtype: 'float64' })), c.minDistance!, c.footprintRadius!);
      expect(out).toBeInstanceOf(Int32Array);
      expect(Array.from(out)).toEqual(Array.from(read(c.expected as Ref & { dtype: 'int32' })));
    },
  );
});

// ── native vs WASM ──────────────────────────────────────────────────────────────────────────────────────

function randomBlobMask(h: number, w: number, seed: number): Uint8Array {
  const r = rng(seed);
  const m = new Uint8Array(h * w);
  const n = Math.max(1, Math.round((h * w) / 300));
  for (let i = 0; i < n; i++) {
    const cy = Math.floor(r() * h), cx = Math.floor(r() * w), rad = 1 + Math.floor(r() * 12);
    for (let y = Math.max(0, cy - rad); y <= Math.min(h - 1, cy + rad); y++)
      for (let x = Math.max(0, cx - rad); x <= Math.min(w - 1, cx + rad); x++)
        if ((y - cy) ** 2 + (x - cx) ** 2 <= rad * rad) m[y * w + x] = 1;
  }
  for (let i = 0; i < m.length; i++) if (r() < 0.01) m[i] ^= 1;
  return m;
}

describeIfNative('native and WASM give bit-identical distance kernels', () => {
  const native = kernels('native');
  const wasm = kernels('wasm');
  const SHAPES: [number, number][] = [[1, 1], [1, 37], [37, 1], [2, 2], [17, 31], [64, 63], [300, 257], [515, 509]];
  for (const [h, w] of SHAPES) {
    it(`${h}×${w}: distanceTransform, then peakLocalMax on it and on noise`, () => {
      const mask = { data: randomBlobMask(h, w, h * 7919 + w), width: w, height: h };
      const a = native.distanceTransform(mask);
      const b = wasm.distanceTransform(mask);
      expect(firstBitDifference64(a.data, b.data)).toBe(-1);
      const full = { data: new Uint8Array(h * w).fill(1), width: w, height: h };
      expect(firstBitDifference64(native.distanceTransform(full).data, wasm.distanceTransform(full).data)).toBe(-1);
      const noise = { data: new Float64Array(h * w), width: w, height: h };
      for (let i = 0, s = h + 31 * w; i < noise.data.length; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        noise.data[i] = ((s >>> 24) - 100) / 4; // quarter steps: many ties, negative values
      }
      // Large shapes: fewer parameter sets (per-pixel JS argument checks are slow inside jest's vm context).
      const params = h * w > 100000 ? [[8, 7], [3, 0], [5, 12]] : [[8, 7], [1, 3], [3, 0], [0, 1], [5, 12]];
      for (const [m, fr] of params) {
        expect(firstDifference32(wasm.peakLocalMax(a, m, fr), native.peakLocalMax(a, m, fr))).toBe(-1);
        expect(firstDifference32(wasm.peakLocalMax(noise, m, fr), native.peakLocalMax(noise, m, fr))).toBe(-1);
      }
    });
  }
});

// ── bad input ───────────────────────────────────────────────────────────────────────────────────────────

describe(`distance kernels reject bad input with InputError [${k.backendName}]`, () => {
  const img = (n = 12) => ({ data: new Float64Array(n), width: 4, height: 3 });

  it('distanceTransform: dtype and shape', () => {
    expectInputError(() => k.distanceTransform({ data: new Float32Array(12), width: 4, height: 3 } as never), 'ERR_SCSEG_DTYPE');
    expectInputError(() => k.distanceTransform({ data: new Uint8ClampedArray(12), width: 4, height: 3 } as never), 'ERR_SCSEG_DTYPE');
    expectInputError(() => k.distanceTransform({ data: new Uint8Array(11), width: 4, height: 3 }), 'ERR_SCSEG_SHAPE');
    expectInputError(() => k.distanceTransform({ data: new Uint8Array(0), width: 0, height: 0 }), 'ERR_SCSEG_SHAPE');
    expectInputError(() => k.distanceTransform({ data: new Uint8Array(12), width: 4.5, height: 3 }), 'ERR_SCSEG_SHAPE');
    expectInputError(() => k.distanceTransform(null as never), 'ERR_SCSEG_SHAPE');
  });

  it('peakLocalMax: dtype, shape, NaN and parameters', () => {
    expectInputError(() => k.peakLocalMax({ data: new Float32Array(12), width: 4, height: 3 } as never, 1, 1), 'ERR_SCSEG_DTYPE');
    expectInputError(() => k.peakLocalMax(img(13), 1, 1), 'ERR_SCSEG_SHAPE');
    const nan = img();
    nan.data[5] = NaN;
    expectInputError(() => k.peakLocalMax(nan, 1, 1), 'ERR_SCSEG_VALUE');
    expectInputError(() => k.peakLocalMax(img(), -1, 1), 'ERR_SCSEG_ARGUMENT');
    expectInputError(() => k.peakLocalMax(img(), 1.5, 1), 'ERR_SCSEG_ARGUMENT');
    expectInputError(() => k.peakLocalMax(img(), 1, -1), 'ERR_SCSEG_ARGUMENT');
    expectInputError(() => k.peakLocalMax(img(), 1, 0.5), 'ERR_SCSEG_ARGUMENT');
    expectInputError(() => k.peakLocalMax(img(), 1, k.limits.maxPeakFootprintRadius + 1), 'ERR_SCSEG_ARGUMENT');
    expectInputError(() => k.peakLocalMax(img(), Infinity, 1), 'ERR_SCSEG_ARGUMENT');
  });

  it('the raw bindings check their arguments too', () => {
    const raw = k.backend.bindings;
    expectInputError(() => {
      try {
        raw.distanceTransform(new Uint8Array(12), 4, 3, new Float64Array(11), 1);
      } catch (e) {
        const err = e as { code: string; message: string };
        throw new InputError(err.message, err.code);
      }
    }, 'ERR_SCSEG_SHAPE');
    expectInputError(() => {
      try {
        raw.peakLocalMax(new Float64Array(12), 4, 3, -1, 1);
      } catch (e) {
        const err = e as { code: string; message: string };
        throw new InputError(err.message, err.code);
      }
    }, 'ERR_SCSEG_ARGUMENT');
  });

  it('edge cases that are valid: huge minDistance or radius give no peaks / the global maximum', () => {
    const im = { data: Float64Array.from({ length: 12 }, (_, i) => (i === 5 ? 2 : 1)), width: 4, height: 3 };
    expect(Array.from(k.peakLocalMax(im, 1000, 1))).toEqual([]);
    expect(Array.from(k.peakLocalMax(im, 1, 1000))).toEqual([1, 1]);
    expect(Array.from(k.peakLocalMax({ data: new Float64Array(12).fill(3), width: 4, height: 3 }, 0, 2))).toEqual([]);
  });
});
