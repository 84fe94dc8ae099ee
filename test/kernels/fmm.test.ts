/**
 * Fast marching (fmmDistance, travelTime) against scikit-fmm 2022.08 goldens (scripts/fixtures/make_fixtures_fmm.py),
 * compared bit for bit: the kernel reproduces skfmm's marching rules and arithmetic exactly, so no tolerance.
 * Also: hand-checkable values, the +Infinity convention, native ≡ WASM bit identity, bad input → InputError.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { fixturesDir, rng } from '../helpers/fixtures.js';
import { testBackends, describeIfNative } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

interface Ref {
  file: string;
  dtype: 'uint8' | 'float64';
  shape: [number, number];
}
interface Case {
  name: string;
  origin: string;
  seeds: Ref;
  allowed: Ref;
  speed?: Ref;
  distance?: Ref | null;
  travelTime?: Ref | null;
  skfmmError?: string;
}

const dir = path.join(fixturesDir, 'fmm');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };

function read<T extends Uint8Array | Float64Array>(ref: Ref): Image2D<T> {
  const buf = fs.readFileSync(path.join(dir, ref.file));
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf);
  const data = ref.dtype === 'uint8' ? bytes : new Float64Array(bytes.buffer, 0, bytes.byteLength / 8);
  return { data: data as T, width: ref.shape[1], height: ref.shape[0] };
}

/** Index of the first element whose bit pattern differs (distinguishes ±0 and NaN payloads), or -1. */
function firstBitDifference64(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function maxAbsFiniteDifference(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

function expectSameBits(actual: Float64Array, expected: Float64Array): void {
  const i = firstBitDifference64(actual, expected);
  if (i !== -1) {
    throw new Error(
      `first difference at index ${i}: got ${actual[i]}, skfmm ${expected[i]} ` +
        `(max |Δ| over finite values ${maxAbsFiniteDifference(actual, expected)})`,
    );
  }
}

const mask = (width: number, height: number, ones: number[] = []): Image2D<Uint8Array> => {
  const data = new Uint8Array(width * height);
  for (const i of ones) data[i] = 1;
  return { data, width, height };
};
const full = (width: number, height: number, v: number): Image2D<Uint8Array> => ({
  data: new Uint8Array(width * height).fill(v),
  width,
  height,
});
const speedOf = (width: number, height: number, v: number): Image2D<Float64Array> => ({
  data: new Float64Array(width * height).fill(v),
  width,
  height,
});

const k = kernels();

describe(`fast marching matches scikit-fmm 2022.08 bit for bit [${k.backendName}]`, () => {
  it('has synthetic and real-image fixtures for both kernels', () => {
    expect(manifest.cases.filter((c) => c.distance).length).toBeGreaterThanOrEqual(10);
    expect(manifest.cases.filter((c) => c.travelTime).length).toBeGreaterThanOrEqual(10);
    expect(manifest.cases.filter((c) => c.name.startsWith('real')).length).toBe(4);
  });

  const withDistance = manifest.cases.filter((c) => c.distance !== undefined);
  it.each(withDistance.map((c) => [`${c.name}: ${c.origin}`, c] as const))('fmmDistance %s', (_n, c) => {
    const out = k.fmmDistance(read<Uint8Array>(c.seeds), read<Uint8Array>(c.allowed)).data;
    if (c.distance) expectSameBits(out, read<Float64Array>(c.distance).data);
    else expect(out.every((v) => v === Infinity)).toBe(true); // skfmm raised (no usable seed)
  });

  const withTravel = manifest.cases.filter((c) => c.travelTime !== undefined);
  it.each(withTravel.map((c) => [`${c.name}: ${c.origin}`, c] as const))('travelTime %s', (_n, c) => {
    const out = k.travelTime(read<Uint8Array>(c.seeds), read<Uint8Array>(c.allowed), read<Float64Array>(c.speed!)).data;
    if (c.travelTime) expectSameBits(out, read<Float64Array>(c.travelTime).data);
    else expect(out.every((v) => v === Infinity)).toBe(true);
  });
});

describe(`travelTime with targets: the march stops once they are frozen [${k.backendName}]`, () => {
  const real = manifest.cases.filter((c) => c.travelTime && c.name.startsWith('real'));
  it.each(real.map((c) => [c.name, c] as const))('%s: the targets get the full march\'s values, bit for bit', (_n, c) => {
    const seeds = read<Uint8Array>(c.seeds);
    const allowed = read<Uint8Array>(c.allowed);
    const speed = read<Float64Array>(c.speed!);
    const full = read<Float64Array>(c.travelTime!).data;
    // The seeds' 4-neighbours (what the global pass asks for), plus a few pixels far out.
    const targets = mask(seeds.width, seeds.height);
    const { width } = seeds;
    seeds.data.forEach((v, i) => {
      if (!v) return;
      for (const j of [i - width, i + width, i - 1, i + 1]) if (j >= 0 && j < targets.data.length) targets.data[j] = 1;
    });
    const r = rng(7);
    for (let n = 0; n < 5; n++) targets.data[Math.floor(r() * targets.data.length)] = 1;
    const out = k.travelTime(seeds, allowed, speed, { targets }).data;
    let checked = 0;
    targets.data.forEach((t, i) => {
      if (!t || !Number.isFinite(full[i])) return;
      expect(Object.is(out[i], full[i])).toBe(true);
      checked++;
    });
    expect(checked).toBeGreaterThan(5);
    // It stopped early: most pixels were never reached.
    const reached = out.filter((v) => Number.isFinite(v)).length;
    expect(reached).toBeLessThan(full.filter((v) => Number.isFinite(v)).length);
  });

  it('refuses targets of another shape or type', () => {
    const args = [mask(5, 3, [0]), full(5, 3, 1), speedOf(5, 3, 1)] as const;
    expectInputError(() => k.travelTime(...args, { targets: mask(3, 5) }), 'ERR_SCSEG_SHAPE', 'targets');
    expectInputError(() => k.travelTime(...args, { targets: { data: new Float64Array(15), width: 5, height: 3 } as never }), 'ERR_SCSEG_DTYPE', 'targets');
  });
});

describe(`fast marching semantics [${k.backendName}]`, () => {
  it('marches along a row like skfmm, rounding of 1/3 included', () => {
    // Exact on a line in exact arithmetic; skfmm's tp = (1/3)(4 T1 − T2) with 1/3 rounded drifts by a few ulps.
    const d = k.fmmDistance(mask(9, 1, [2]), full(9, 1, 1)).data;
    expect(Array.from(d)).toEqual(
      [2, 1, 0, 1, 2, 2.999999999999999, 3.9999999999999982, 4.999999999999995, 5.999999999999994],
    );
    const t = k.travelTime(mask(9, 1, [2]), full(9, 1, 1), speedOf(9, 1, 0.5)).data;
    expect(Array.from(t)).toEqual(
      [4, 2, 0, 2, 4, 5.999999999999998, 7.9999999999999964, 9.99999999999999, 11.999999999999988],
    );
  });

  it('is 0 at seeds and +Infinity at pixels that are not allowed or not reachable', () => {
    // 5×3: seed at (0,0); column 2 is a wall, so columns 3-4 are allowed but unreachable.
    const allowed = full(5, 3, 1);
    for (const y of [0, 1, 2]) allowed.data[y * 5 + 2] = 0;
    const I = Infinity;
    // skfmm: [[0 1 - - -] [1 1.7071… - - -] [2 2.5144… - - -]] with the masked entries ("-") → +Infinity.
    expect(Array.from(k.fmmDistance(mask(5, 3, [0]), allowed).data)).toEqual(
      [0, 1, I, I, I, 1, 1.7071067811865475, I, I, I, 2, 2.51447806718764, I, I, I],
    );
    expect(Array.from(k.travelTime(mask(5, 3, [0]), allowed, speedOf(5, 3, 0.25)).data)).toEqual(
      [0, 4, I, I, I, 4, 6.82842712474619, I, I, I, 8, 10.05791226875056, I, I, I],
    );
  });

  it('ignores seeds outside `allowed` and treats any non-zero mask value as set', () => {
    const allowed = full(6, 1, 255);
    allowed.data[5] = 0;
    const withMaskedSeed = k.fmmDistance(mask(6, 1, [0, 5]), allowed).data;
    expect(Array.from(withMaskedSeed)).toEqual([0, 1, 2, 2.999999999999999, 3.9999999999999982, Infinity]);
    const seeds = mask(6, 1);
    seeds.data[0] = 7;
    expect(firstBitDifference64(k.fmmDistance(seeds, allowed).data, withMaskedSeed)).toBe(-1);
  });

  it('returns +Infinity everywhere without a usable seed (skfmm raises "no zero contour")', () => {
    expect(k.fmmDistance(mask(4, 3), full(4, 3, 1)).data.every((v) => v === Infinity)).toBe(true);
    expect(k.travelTime(mask(4, 3, [5]), mask(4, 3), speedOf(4, 3, 1)).data.every((v) => v === Infinity)).toBe(true);
  });

  it('masks pixels with speed below DBL_EPSILON, as skfmm does', () => {
    const speed = speedOf(5, 1, 1);
    speed.data[2] = 1e-17;
    const out = k.travelTime(mask(5, 1, [0]), full(5, 1, 1), speed).data;
    expect(Array.from(out)).toEqual([0, 1, Infinity, Infinity, Infinity]);
  });
});

describe(`fmmDistance on a mask of many parts [${k.backendName}]`, () => {
  // Large masks of many 4-connected parts march part by part (cache-resident, across threads): each part's
  // distances must be what a march of that part alone gives (a lone part takes the whole-image path).
  it('equals marching each part on its own, bit for bit', () => {
    const W = 333, H = 301;
    const r = rng(77);
    const discs = Array.from({ length: 14 }, () => [Math.floor(r() * W), Math.floor(r() * H), 3 + Math.floor(r() * 22)]);
    const seeds = new Uint8Array(W * H);
    const partsOf = discs.map(([cx, cy, rad]) => {
      const part = new Uint8Array(W * H);
      for (let y = Math.max(0, cy - rad); y < Math.min(H, cy + rad + 1); y++)
        for (let x = Math.max(0, cx - rad); x < Math.min(W, cx + rad + 1); x++)
          if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) part[y * W + x] = 1;
      seeds[cy * W + cx] = 1;
      return part;
    });
    const all = new Uint8Array(W * H);
    for (const p of partsOf) for (let i = 0; i < all.length; i++) all[i] |= p[i];
    for (let i = 0; i < W * H; i++) if (all[i] && r() < 0.002) seeds[i] = 1; // a few extra seeds, some tied
    const img = (data: Uint8Array): Image2D<Uint8Array> => ({ data, width: W, height: H });
    const whole = k.fmmDistance(img(seeds), img(all)).data;
    // Overlapping discs merge into one part: compare on each connected part via flood fill from its pixels.
    const part = new Int32Array(W * H).fill(-1);
    let parts = 0;
    for (let i = 0; i < all.length; i++) {
      if (!all[i] || part[i] >= 0) continue;
      const stack = [i];
      part[i] = parts;
      while (stack.length) {
        const p = stack.pop()!;
        const x = p % W;
        for (const q of [p - W, p + W, x > 0 ? p - 1 : -1, x < W - 1 ? p + 1 : -1])
          if (q >= 0 && q < all.length && all[q] && part[q] < 0) {
            part[q] = parts;
            stack.push(q);
          }
      }
      parts++;
    }
    expect(parts).toBeGreaterThan(4);
    let compared = 0;
    for (let c = 0; c < parts; c++) {
      const only = Uint8Array.from(all, (_, i) => (part[i] === c ? 1 : 0));
      const alone = k.fmmDistance(img(seeds), img(only)).data;
      for (let i = 0; i < all.length; i++) {
        if (part[i] !== c) continue;
        if (!Object.is(alone[i], whole[i])) throw new Error(`part ${c}, pixel ${i}: ${whole[i]} vs alone ${alone[i]}`);
        compared++;
      }
    }
    expect(compared).toBe(all.reduce((a, b) => a + b, 0));
    expect(whole.filter((v) => v !== Infinity && v > 0).length).toBeGreaterThan(1000);
  });
});

describeIfNative('native and WASM fast marching give bit-identical outputs', () => {
  const native = kernels('native');
  const wasm = kernels('wasm');
  const SHAPES: [number, number][] = [[1, 1], [1, 37], [37, 1], [2, 2], [17, 31], [64, 63], [301, 257]];

  for (const [h, w] of SHAPES) {
    it(`random seeds/mask/speed ${h}×${w}`, () => {
      const r = rng(h * 7919 + w);
      const n = h * w;
      const seeds = { data: Uint8Array.from({ length: n }, () => (r() < 0.01 ? 1 : 0)), width: w, height: h };
      seeds.data[Math.floor(r() * n)] = 1;
      const allowed = { data: Uint8Array.from({ length: n }, () => (r() < 0.8 ? 1 : 0)), width: w, height: h };
      const speed = { data: Float64Array.from({ length: n }, () => 0.1 + 0.9 * r()), width: w, height: h };
      const d = native.fmmDistance(seeds, allowed).data;
      expect(firstBitDifference64(d, wasm.fmmDistance(seeds, allowed).data)).toBe(-1);
      const t = native.travelTime(seeds, allowed, speed).data;
      expect(firstBitDifference64(t, wasm.travelTime(seeds, allowed, speed).data)).toBe(-1);
    });
  }

  it.each(manifest.cases.filter((c) => c.name.startsWith('real')).map((c) => [c.name, c] as const))(
    'real-image fixture %s',
    (_n, c) => {
      const seeds = read<Uint8Array>(c.seeds);
      const allowed = read<Uint8Array>(c.allowed);
      const d = native.fmmDistance(seeds, allowed).data;
      expect(firstBitDifference64(d, wasm.fmmDistance(seeds, allowed).data)).toBe(-1);
      if (c.speed) {
        const speed = read<Float64Array>(c.speed);
        const a = native.travelTime(seeds, allowed, speed).data;
        expect(firstBitDifference64(a, wasm.travelTime(seeds, allowed, speed).data)).toBe(-1);
      }
    },
  );
});

describe.each(testBackends)('fast marching bad input [%s]', (name) => {
  const kk = kernels(name);
  const s = mask(4, 3, [0]);
  const a = full(4, 3, 1);
  const v = speedOf(4, 3, 1);
  const withSpeed = (value: number) => {
    const sp = speedOf(4, 3, 1);
    sp.data[5] = value;
    return sp;
  };
  const u16 = new Uint16Array(12) as never;
  const f32 = new Float32Array(12) as never;
  const cases: [string, () => unknown, RegExp, string][] = [
    ['Uint16Array seeds', () => kk.fmmDistance({ ...s, data: u16 }, a), /seeds.*Uint8Array.*Uint16Array/, 'ERR_SCSEG_DTYPE'],
    ['Float32Array allowed', () => kk.travelTime(s, { ...a, data: f32 }, v), /allowed.*Uint8Array/, 'ERR_SCSEG_DTYPE'],
    ['Float32Array speed', () => kk.travelTime(s, a, { ...v, data: f32 }), /speed.*Float64Array/, 'ERR_SCSEG_DTYPE'],
    ['seeds/allowed shape mismatch', () => kk.fmmDistance(s, full(3, 4, 1)), /3×4 but .* 4×3/, 'ERR_SCSEG_SHAPE'],
    ['speed shape mismatch', () => kk.travelTime(s, a, speedOf(6, 2, 1)), /speed is 6×2/, 'ERR_SCSEG_SHAPE'],
    ['length ≠ width×height', () => kk.fmmDistance({ ...s, width: 5 }, a), /12 elements/, 'ERR_SCSEG_SHAPE'],
    ['zero width', () => kk.fmmDistance({ data: new Uint8Array(0), width: 0, height: 3 }, a), /width must be/, 'ERR_SCSEG_SHAPE'],
    ['speed 0', () => kk.travelTime(s, a, withSpeed(0)), /finite and > 0.*found 0 at index 5/, 'ERR_SCSEG_VALUE'],
    ['negative speed', () => kk.travelTime(s, a, withSpeed(-0.5)), /found -0.5 at index 5/, 'ERR_SCSEG_VALUE'],
    ['NaN speed', () => kk.travelTime(s, a, withSpeed(NaN)), /found NaN at index 5/, 'ERR_SCSEG_VALUE'],
    ['infinite speed', () => kk.travelTime(s, a, withSpeed(Infinity)), /found Infinity/, 'ERR_SCSEG_VALUE'],
    ['null seeds', () => kk.fmmDistance(null as never, a), /must be an object/, 'ERR_SCSEG_SHAPE'],
  ];
  it.each(cases)('%s → InputError', (_n, call, message, code) => expectInputError(call, code, message));

  it('the raw bindings check lengths, dtypes and speeds themselves (defence in depth)', () => {
    const raw = kk.backend.bindings;
    const out = new Float64Array(12);
    expect(() => raw.fmmDistance(new Uint8Array(10), a.data, 4, 3, out, 1)).toThrow(/length does not equal/);
    expect(() => raw.fmmTravelTime(s.data, a.data, new Float64Array(11), 4, 3, out)).toThrow(/length does not equal/);
    expect(() => raw.fmmDistance(s.data, a.data, 4, 3, new Float32Array(12) as never, 1)).toThrow(/Float64Array/);
    let caught: { code?: string } | undefined;
    try {
      raw.fmmTravelTime(s.data, a.data, withSpeed(NaN).data, 4, 3, out);
    } catch (err) {
      caught = err as { code?: string };
    }
    expect(caught?.code).toBe('ERR_SCSEG_VALUE');
  });
});
