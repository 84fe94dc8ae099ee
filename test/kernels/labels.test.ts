/**
 * Marker watershed and label utilities against the original calls (scripts/fixtures/make_fixtures_labels.py: skimage
 * 0.19.3 watershed, scPortrait's own remove_edge_labels / numba_mask_centroid / contact_filter / SizeFilter /
 * MatchNucleusCytosolIds), compared bit for bit on the backend SCSEG_BACKEND selects; then native vs WASM
 * bit-identity and bad input on both backends.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { kernels, type Kernels } from '../../lib/kernels/index.js';
import {
  automaticSizeThresholds,
  normalQuantile,
  sizeFilter,
  sizeFilterDetails,
  type SizeThresholds,
} from '../../lib/workflows/size-filter.js';
import { fixturesDir, rng } from '../helpers/fixtures.js';
import { testBackends, describeIfNative } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

interface Ref {
  file: string;
  dtype: 'uint8' | 'uint16' | 'uint32' | 'float32' | 'float64';
  shape: number[];
}
type Case = Record<string, unknown> & { kernel: string; origin?: string };

const dir = path.join(fixturesDir, 'labels');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };
const CTORS = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array };

function readRef(ref: Ref): Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array {
  const buf = fs.readFileSync(path.join(dir, ref.file));
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  const Ctor = CTORS[ref.dtype];
  return new Ctor(copy.buffer, 0, buf.byteLength / Ctor.BYTES_PER_ELEMENT);
}
/** Label arrays are stored as uint16 when their ids fit; the kernels take Uint32Array. */
const labelsOf = (ref: Ref): Image2D<Uint32Array> => ({
  data: Uint32Array.from(readRef(ref) as Uint16Array | Uint32Array),
  width: ref.shape[1] ?? 1,
  height: ref.shape[0],
});
const uint32Of = (ref: Ref) => Uint32Array.from(readRef(ref) as Uint16Array | Uint32Array);
const cases = (kernel: string) => manifest.cases.filter((c) => c.kernel === kernel);

/** Index of the first differing element (bit pattern for floats), or -1. */
function firstDifference(a: ArrayLike<number> & { buffer?: ArrayBufferLike }, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const k = kernels();

describe(`watershed matches skimage.segmentation.watershed [${k.backendName}]`, () => {
  const ws = cases('watershed');
  it('covers real nucleus/cytosol surfaces, plateaus, float32, big ids and awkward shapes', () => {
    expect(ws.length).toBeGreaterThanOrEqual(15);
  });
  it.each(ws.map((c) => [`${c.name}: ${c.origin}`, c] as const))('%s', (_n, c) => {
    const s = c.surface as Ref;
    const surface = { data: readRef(s) as Float64Array | Float32Array, width: s.shape[1], height: s.shape[0] };
    const mask = c.mask ? { data: readRef(c.mask as Ref) as Uint8Array, width: s.shape[1], height: s.shape[0] } : null;
    const out = k.watershed(surface, labelsOf(c.markers as Ref), mask);
    expect(firstDifference(out.data, uint32Of(c.expected as Ref))).toBe(-1);
    const raised = k.watershed(surface, labelsOf(c.markers as Ref), mask, { raiseToParent: true });
    expect(firstDifference(raised.data, uint32Of(c.expectedRaiseToParent as Ref))).toBe(-1);
  });
  // The nucleus-step fixtures are the watershed of skfmm's distance from the markers: distanceWatershed must
  // give the same labels from the seeds alone (one of them large enough to run part by part).
  const nucleusSteps = ws.filter((c) => String(c.origin).includes('nucleus step'));
  it.each(nucleusSteps.map((c) => [c.name, c] as const))('distanceWatershed equals the nucleus step: %s', (_n, c) => {
    const markers = labelsOf(c.markers as Ref);
    const mask = { data: readRef(c.mask as Ref) as Uint8Array, width: markers.width, height: markers.height };
    const seeds = { data: Uint8Array.from(markers.data, (m) => (m !== 0 ? 1 : 0)), width: markers.width, height: markers.height };
    const out = k.distanceWatershed(seeds, mask, markers);
    expect(firstDifference(out.data, uint32Of(c.expected as Ref))).toBe(-1);
  });
  it('distanceWatershed rejects mismatched shapes and wrong types', () => {
    const img = <T,>(data: T, width: number, height: number) => ({ data, width, height });
    const seeds = img(new Uint8Array(16), 4, 4);
    expectInputError(() => k.distanceWatershed(seeds, seeds, img(new Uint32Array(9), 3, 3)), 'ERR_SCSEG_SHAPE');
    expectInputError(() => k.distanceWatershed(seeds, seeds, img(new Float32Array(16), 4, 4) as never), 'ERR_SCSEG_DTYPE');
  });
  it('has nucleus-step fixtures, one over 2^16 pixels', () => {
    expect(nucleusSteps.length).toBeGreaterThanOrEqual(4);
    expect(nucleusSteps.some((c) => (c.markers as Ref).shape[0] * (c.markers as Ref).shape[1] >= 2 ** 16)).toBe(true);
  });

  it('the two scikit-image generations differ on some fixtures (plateaus), so both variants are exercised', () => {
    expect(ws.filter((c) => (c.expected as Ref).file !== (c.expectedRaiseToParent as Ref).file).length).toBeGreaterThan(3);
  });
});

describe(`label utilities match scPortrait's helpers [${k.backendName}]`, () => {
  it.each(cases('labelAreas').map((c) => [c.origin, c] as const))('labelAreas: %s', (_n, c) => {
    const r = k.labelAreas(labelsOf(c.labels as Ref));
    expect(Array.from(r.ids)).toEqual(c.ids);
    expect(Array.from(r.areas)).toEqual(c.areas);
  });
  it.each(cases('labelCentroids').map((c) => [c.origin, c] as const))('labelCentroids: %s', (_n, c) => {
    const r = k.labelCentroids(labelsOf(c.labels as Ref));
    expect(firstDifference(r.ids, uint32Of(c.ids as Ref))).toBe(-1);
    expect(firstDifference(r.y, readRef(c.y as Ref))).toBe(-1);
    expect(firstDifference(r.x, readRef(c.x as Ref))).toBe(-1);
  });
  it.each(cases('removeEdgeLabels').map((c) => [c.origin, c] as const))('removeEdgeLabels: %s', (_n, c) => {
    expect(firstDifference(k.removeEdgeLabels(labelsOf(c.labels as Ref)).data, uint32Of(c.expected as Ref))).toBe(-1);
  });
  it.each(cases('contactFilter').map((c) => [`${c.origin} τ=${c.threshold}`, c] as const))('contactFilter: %s', (_n, c) => {
    const out = k.contactFilter(labelsOf(c.labels as Ref), c.threshold as number);
    expect(firstDifference(out.data, uint32Of(c.expected as Ref))).toBe(-1);
  });
  it.each(cases('matchNucleusCytosol').map((c) => [`${c.origin} t=${c.threshold}`, c] as const))(
    'matchNucleusCytosol: %s',
    (_n, c) => {
      const r = k.matchNucleusCytosol(labelsOf(c.nucleus as Ref), labelsOf(c.cytosol as Ref), c.threshold as number);
      expect(firstDifference(r.nucleus.data, uint32Of(c.expectedNucleus as Ref))).toBe(-1);
      expect(firstDifference(r.cytosol.data, uint32Of(c.expectedCytosol as Ref))).toBe(-1);
    },
  );
  it('removeLabels ignores absent ids, duplicates and 0', () => {
    const labels = { data: Uint32Array.from([0, 5, 5, 7, 2 ** 32 - 1, 7]), width: 3, height: 2 };
    const out = k.removeLabels(labels, Uint32Array.from([7, 0, 7, 12345, 2 ** 32 - 1]));
    expect(Array.from(out.data)).toEqual([0, 5, 5, 0, 0, 0]);
    expect(Array.from(labels.data)).toEqual([0, 5, 5, 7, 2 ** 32 - 1, 7]);
  });
  it('labelCentroids / labelAreas of an image without labels are empty (the original crashes there)', () => {
    const empty = { data: new Uint32Array(6), width: 3, height: 2 };
    expect(k.labelCentroids(empty).ids.length).toBe(0);
    expect(k.labelAreas(empty).areas.length).toBe(0);
  });
});

describe(`sizeFilter matches scPortrait's SizeFilter [${k.backendName}]`, () => {
  const sf = cases('sizeFilter');
  it('includes explicit and automatic thresholds and a mask without background', () => {
    expect(sf.some((c) => c.thresholds === null)).toBe(true);
    expect(sf.some((c) => String(c.origin).includes('no background'))).toBe(true);
  });
  it.each(sf.map((c) => [`${c.origin} ${JSON.stringify(c.thresholds ?? { ci: c.confidenceInterval })}`, c] as const))(
    '%s',
    (_n, c) => {
      const t: SizeThresholds = c.thresholds
        ? { min: (c.thresholds as number[])[0], max: (c.thresholds as number[])[1] }
        : { confidenceInterval: c.confidenceInterval as number };
      const r = sizeFilterDetails(k, labelsOf(c.labels as Ref), t);
      expect(Array.from(r.removed)).toEqual(c.removed);
      expect(firstDifference(r.labels.data, uint32Of(c.expected as Ref))).toBe(-1);
      expect(firstDifference(sizeFilter(k, labelsOf(c.labels as Ref), t).data, r.labels.data)).toBe(-1);
      // Automatic thresholds: sklearn sums log-areas with BLAS in an unspecified order, we sum with
      // compensation, so μ and σ (and the thresholds) may differ in the last bits — hence a relative
      // tolerance; the generator asserts no fixture threshold sits within 1e-6 of an integer area.
      const applied = c.applied as number[];
      expect(r.thresholds).not.toBeNull();
      for (let i = 0; i < 2; i++) {
        expect(Math.abs(r.thresholds![i] - applied[i])).toBeLessThanOrEqual(1e-12 * Math.abs(applied[i]));
      }
    },
  );
  it('fewer than two objects: unchanged (sklearn refuses to fit)', () => {
    const one = { data: Uint32Array.from([0, 3, 3, 0]), width: 2, height: 2 };
    const r = sizeFilterDetails(k, one, { confidenceInterval: 0.95 });
    expect(r.thresholds).toBeNull();
    expect(Array.from(r.labels.data)).toEqual([0, 3, 3, 0]);
    expect(automaticSizeThresholds(new Float64Array(0), 0.95)).toBeNull();
  });
  it('normalQuantile agrees with scipy.stats.norm.ppf', () => {
    const [c] = cases('normalQuantile');
    const p = c.p as number[];
    const ppf = c.ppf as number[];
    for (let i = 0; i < p.length; i++) {
      const got = normalQuantile(p[i]);
      // Neither is correctly rounded: AS 241 and scipy's Cephes ndtri each err by a few ulp (measured: ≤ 3 ulp
      // apart on these points). A few ulp of Φ⁻¹ move exp(μ + σΦ⁻¹) by ~1e-15 relative, far from flipping an
      // integer-area comparison. Allow 2e-15 relative.
      expect(Math.abs(got - ppf[i])).toBeLessThanOrEqual(2e-15 * Math.abs(ppf[i]));
    }
    expect(normalQuantile(0)).toBe(-Infinity); // as scipy (checked by the generator)
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});

// ── native vs WASM ─────────────────────────────────────────────────────────────────────────────────────────

function randomLabels(w: number, h: number, seed: number, ids: number, bigIds = false): Image2D<Uint32Array> {
  const r = rng(seed);
  const data = new Uint32Array(w * h);
  // Blocky regions with a random id each (so labels have areas, edges and contacts), some background.
  const block = 1 + Math.floor(r() * 6);
  const table = Array.from({ length: ids }, () => (bigIds ? 1 + Math.floor(r() * (2 ** 32 - 2)) : 1 + Math.floor(r() * ids)));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const cell = Math.floor(y / block) * 7919 + Math.floor(x / block) * 104729;
      data[y * w + x] = r() < 0.05 || cell % 5 === 0 ? 0 : table[cell % ids];
    }
  }
  return { data, width: w, height: h };
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(firstDifference(a, b)).toBe(-1);
}

describeIfNative('native and WASM label kernels are bit-identical', () => {
  const native = kernels('native');
  const wasm = kernels('wasm');
  const SHAPES: [number, number][] = [[1, 1], [1, 37], [37, 1], [2, 2], [17, 31], [64, 63], [257, 129]];

  it.each(SHAPES)('watershed %i×%i: float64/float32 surfaces, ties, masks, big ids', (h, w) => {
    for (let seed = 0; seed < 4; seed++) {
      const r = rng(h * 131 + w * 7 + seed);
      const levels = [1, 2, 3, 1000][seed];
      const s64 = Float64Array.from({ length: w * h }, () => Math.floor(r() * levels) / levels);
      const markers = Uint32Array.from({ length: w * h }, () => (r() < 0.03 ? 1 + Math.floor(r() * (seed === 3 ? 2 ** 32 - 2 : 9)) : 0));
      const mask = Uint8Array.from({ length: w * h }, () => (r() < 0.85 ? 1 : 0));
      const m = { data: markers, width: w, height: h };
      for (const surface of [{ data: s64, width: w, height: h }, { data: Float32Array.from(s64), width: w, height: h }]) {
        for (const mk of [null, { data: mask, width: w, height: h }]) {
          same(native.watershed(surface, m, mk).data, wasm.watershed(surface, m, mk).data);
          const raise = { raiseToParent: true };
          same(native.watershed(surface, m, mk, raise).data, wasm.watershed(surface, m, mk, raise).data);
        }
      }
    }
  });

  it('watershed 1023×1025 (fast-marching-like surface from many equal-valued seeds)', () => {
    const w = 1025;
    const h = 1023;
    const r = rng(99);
    const markers = new Uint32Array(w * h);
    const seeds: [number, number][] = [];
    for (let i = 0; i < 400; i++) {
      const y = Math.floor(r() * h);
      const x = Math.floor(r() * w);
      markers[y * w + x] = i + 1;
      seeds.push([y, x]);
    }
    // Distance to the nearest of a few seeds, rounded to quarters: many ties, all markers at 0.
    const surface = new Float64Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let best = Infinity;
        for (let s = 0; s < 400; s += 37) best = Math.min(best, Math.hypot(y - seeds[s][0], x - seeds[s][1]));
        surface[y * w + x] = markers[y * w + x] ? 0 : Math.round(best * 4) / 4;
      }
    }
    const img = { data: surface, width: w, height: h };
    const m = { data: markers, width: w, height: h };
    same(native.watershed(img, m, null).data, wasm.watershed(img, m, null).data);
  });

  it.each(SHAPES)('label utilities %i×%i', (h, w) => {
    for (const [seed, bigIds] of [[1, false], [2, true], [3, false]] as const) {
      const labels = randomLabels(w, h, h * 31 + w + seed, 12, bigIds);
      const cytosol = randomLabels(w, h, h * 17 + w + seed, 6, bigIds);
      const a = native.labelCentroids(labels);
      const b = wasm.labelCentroids(labels);
      same(a.ids, b.ids);
      same(a.y, b.y);
      same(a.x, b.x);
      const aa = native.labelAreas(labels);
      const ab = wasm.labelAreas(labels);
      same(aa.ids, ab.ids);
      same(aa.areas, ab.areas);
      same(native.removeEdgeLabels(labels).data, wasm.removeEdgeLabels(labels).data);
      same(native.removeLabels(labels, aa.ids.filter((_, i) => i % 2 === 0)).data, wasm.removeLabels(labels, aa.ids.filter((_, i) => i % 2 === 0)).data);
      for (const t of [0, 0.25, 0.5, 1, 1.5]) same(native.contactFilter(labels, t).data, wasm.contactFilter(labels, t).data);
      for (const t of [0.3, 0.5, 0.95, 1]) {
        const ma = native.matchNucleusCytosol(labels, cytosol, t);
        const mb = wasm.matchNucleusCytosol(labels, cytosol, t);
        same(ma.nucleus.data, mb.nucleus.data);
        same(ma.cytosol.data, mb.cytosol.data);
      }
      for (const t of [{ min: 3, max: 40 }, { confidenceInterval: 0.9 }]) {
        same(sizeFilter(native, labels, t).data, sizeFilter(wasm, labels, t).data);
      }
    }
  });

  it('golden fixtures give identical results on both backends', () => {
    for (const c of cases('watershed')) {
      const s = c.surface as Ref;
      const surface = { data: readRef(s) as Float64Array, width: s.shape[1], height: s.shape[0] };
      const mask = c.mask ? { data: readRef(c.mask as Ref) as Uint8Array, width: s.shape[1], height: s.shape[0] } : null;
      const m = labelsOf(c.markers as Ref);
      same(native.watershed(surface, m, mask).data, wasm.watershed(surface, m, mask).data);
    }
  });
});

// ── bad input ──────────────────────────────────────────────────────────────────────────────────────────────

describe.each(testBackends)('label kernels reject bad input [%s]', (name) => {
  const kk: Kernels = kernels(name);
  const labels = { data: new Uint32Array(12), width: 4, height: 3 };
  const surface = { data: new Float64Array(12), width: 4, height: 3 };
  const mask = { data: new Uint8Array(12), width: 4, height: 3 };
  const bad: [string, () => unknown, RegExp, string][] = [
    ['watershed surface Uint16Array', () => kk.watershed({ ...surface, data: new Uint16Array(12) as never }, labels, null), /Float64Array or Float32Array.*Uint16Array/, 'ERR_SCSEG_DTYPE'],
    ['watershed markers Int32Array', () => kk.watershed(surface, { ...labels, data: new Int32Array(12) as never }, null), /markers.*Uint32Array/, 'ERR_SCSEG_DTYPE'],
    ['watershed mask Float32Array', () => kk.watershed(surface, labels, { ...mask, data: new Float32Array(12) as never }), /mask.*Uint8Array/, 'ERR_SCSEG_DTYPE'],
    ['watershed markers shape', () => kk.watershed(surface, { data: new Uint32Array(12), width: 3, height: 4 }, null), /3×4.*4×3/, 'ERR_SCSEG_SHAPE'],
    ['watershed mask shape', () => kk.watershed(surface, labels, { data: new Uint8Array(12), width: 6, height: 2 }), /mask is 6×2/, 'ERR_SCSEG_SHAPE'],
    ['watershed NaN surface', () => kk.watershed({ ...surface, data: Float64Array.from({ length: 12 }, (_, i) => (i === 5 ? NaN : 0)) }, labels, null), /NaN \(first at index 5\)/, 'ERR_SCSEG_VALUE'],
    ['watershed options', () => kk.watershed(surface, labels, null, { raiseToParent: 1 as never }), /raiseToParent\?: boolean/, 'ERR_SCSEG_ARGUMENT'],
    ['watershed length ≠ w×h', () => kk.watershed({ ...surface, width: 5 }, labels, null), /12 elements.*5×3 = 15/, 'ERR_SCSEG_SHAPE'],
    ['labels Uint16Array', () => kk.labelCentroids({ ...labels, data: new Uint16Array(12) as never }), /Uint32Array.*Uint16Array/, 'ERR_SCSEG_DTYPE'],
    ['labels zero width', () => kk.labelAreas({ data: new Uint32Array(0), width: 0, height: 3 }), /width must be a positive integer/, 'ERR_SCSEG_SHAPE'],
    ['labels null', () => kk.removeEdgeLabels(null as never), /must be an object/, 'ERR_SCSEG_SHAPE'],
    ['removeLabels ids as array', () => kk.removeLabels(labels, [1, 2] as never), /ids must be a Uint32Array/, 'ERR_SCSEG_DTYPE'],
    ['contactFilter NaN threshold', () => kk.contactFilter(labels, NaN), /threshold must be a finite number/, 'ERR_SCSEG_ARGUMENT'],
    ['contactFilter infinite threshold', () => kk.contactFilter(labels, Infinity), /finite/, 'ERR_SCSEG_ARGUMENT'],
    ['match shapes differ', () => kk.matchNucleusCytosol(labels, { data: new Uint32Array(12), width: 2, height: 6 }, 0.5), /same shape/, 'ERR_SCSEG_SHAPE'],
    ['match threshold string', () => kk.matchNucleusCytosol(labels, labels, '0.5' as never), /finite number/, 'ERR_SCSEG_ARGUMENT'],
    ['sizeFilter min NaN', () => sizeFilter(kk, labels, { min: NaN, max: 5 }), /min must be a finite number/, 'ERR_SCSEG_ARGUMENT'],
    ['sizeFilter ci > 1', () => sizeFilter(kk, labels, { confidenceInterval: 95 }), /confidenceInterval must be a number in \[0, 1\]/, 'ERR_SCSEG_ARGUMENT'],
  ];
  it.each(bad)('%s → InputError', (_n, call, message, code) => expectInputError(call, code, message));

  it('the raw bindings check types and lengths themselves (no out-of-bounds access)', () => {
    const raw = kk.backend.bindings;
    expect(() => raw.watershed(new Float64Array(10), new Uint32Array(12), null, 4, 3, new Uint32Array(12), false, null, 1)).toThrow(/length does not equal/);
    expect(() => raw.watershed(new Float64Array(12), new Uint32Array(12), new Uint8Array(11), 4, 3, new Uint32Array(12), false, null, 1)).toThrow(/length/);
    expect(() => raw.watershed(new Float64Array(12), new Uint32Array(12), null, 4, 3, new Int32Array(12) as never, false, null, 1)).toThrow(/Uint32Array/);
    expect(() => raw.removeLabels(new Uint32Array(12), 4, 3, new Float64Array(2) as never, new Uint32Array(12), 1)).toThrow(/Uint32Array/);
    expect(() => raw.matchNucleusCytosol(new Uint32Array(12), new Uint32Array(13), 4, 3, 0.5, new Uint32Array(12), new Uint32Array(12), 1)).toThrow(/length/);
    expect(() => raw.contactFilter(new Uint32Array(12), 4, 3, NaN, new Uint32Array(12), 1)).toThrow(/invalid argument/);
  });
});
