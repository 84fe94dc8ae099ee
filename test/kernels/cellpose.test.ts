/**
 * Cellpose 3.1.1.3's flow dynamics (native/cellpose_dynamics.hpp, native/cellpose_flows.hpp) against Cellpose
 * itself: test/fixtures/cellpose/ holds real label crops, the sha256 of Cellpose's flows of each
 * (`masks_to_flows`; one of them stored whole) and Cellpose's masks from those flows fed back
 * (`resize_and_compute_masks`, several parameter sets, the label-gap quirk and its fix) — made by
 * scripts/fixtures/make_cellpose_fixtures.py. Parity is asked as ARI ≥ 0.9999 and checked to be exact; then
 * native vs WASM bit-identity, thread budgets, bad input.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Image2D } from '../../lib/image.js';
import { kernels, type CellposeMaskOptions, type FlowField, type Kernels } from '../../lib/kernels/index.js';
import { firstBitDifference, fixturesDir, hashNoise } from '../helpers/fixtures.js';
import { describeIfNative, testBackends } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

interface Ref {
  file: string;
  dtype: 'uint16' | 'float32';
  shape: number[];
}
interface Source {
  name: string;
  origin: string;
  labels: Ref;
  masks: number;
  flowsSha256: string;
  flows?: Ref;
  noise?: { seed: number; flowAmplitude: number; cellprobAmplitude: number };
}
interface Case {
  name: string;
  source: string;
  params: Required<CellposeMaskOptions> & { differsFromQuirk?: boolean };
  expected: Ref;
  maskCount: number;
}

const dir = path.join(fixturesDir, 'cellpose');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { sources: Source[]; cases: Case[] };

function readRef(ref: Ref): Uint16Array | Float32Array {
  const raw = gunzipSync(fs.readFileSync(path.join(dir, ref.file)));
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw); // aligned copy
  return ref.dtype === 'uint16' ? new Uint16Array(bytes.buffer) : new Float32Array(bytes.buffer);
}
const labelsOf = (ref: Ref): Image2D<Uint32Array> => ({
  data: Uint32Array.from(readRef(ref) as Uint16Array),
  width: ref.shape[1],
  height: ref.shape[0],
});
const sha256 = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/** The network outputs the generator fed Cellpose: dP = 5 × flows (float32), cellprob ±5, plus the source's noise. */
function networkOutputs(source: Source, flows: FlowField, labels: Image2D<Uint32Array>) {
  const dP = new Float32Array(flows.data.length);
  for (let i = 0; i < dP.length; i++) dP[i] = 5 * flows.data[i];
  const cellprob = Float32Array.from(labels.data, (l) => (l > 0 ? 5 : -5));
  if (source.noise) {
    const { seed, flowAmplitude, cellprobAmplitude } = source.noise;
    const noise = hashNoise(seed, dP.length + cellprob.length);
    for (let i = 0; i < dP.length; i++) dP[i] += noise[i] * flowAmplitude;
    for (let i = 0; i < cellprob.length; i++) cellprob[i] += noise[dP.length + i] * cellprobAmplitude;
  }
  const { width, height } = labels;
  return { dP: { data: dP, width, height }, cellprob: { data: cellprob, width, height } };
}

/** Adjusted Rand index of two label images (sklearn's adjusted_rand_score on the flattened labels). */
function adjustedRandIndex(a: Uint32Array, b: Uint32Array): number {
  const pairs = new Map<number, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  const bump = (m: Map<number, number>, key: number) => m.set(key, (m.get(key) ?? 0) + 1);
  for (let i = 0; i < a.length; i++) {
    bump(pairs, a[i] * 4294967296 + b[i]);
    bump(rows, a[i]);
    bump(cols, b[i]);
  }
  const c2 = (n: number) => (n * (n - 1)) / 2;
  const sum = (m: Map<number, number>) => [...m.values()].reduce((s, n) => s + c2(n), 0);
  const index = sum(pairs), sa = sum(rows), sb = sum(cols);
  const expected = (sa * sb) / c2(a.length), max = (sa + sb) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}

const maxOf = (a: Uint32Array) => a.reduce((m, v) => (v > m ? v : m), 0);

const sources = new Map(manifest.sources.map((s) => [s.name, s]));

/** Every source's inputs, from our own flows (which must equal Cellpose's bit for bit, checked below). */
function inputs(k: Kernels) {
  return new Map(
    manifest.sources.map((s) => {
      const labels = labelsOf(s.labels);
      const flows = k.cellposeMasksToFlows(labels);
      return [s.name, { labels, flows, ...networkOutputs(s, flows, labels) }] as const;
    }),
  );
}

const k = kernels();
const ours = inputs(k);
const ariByCase: [string, number, number, number][] = [];

describe(`cellposeMasksToFlows equals Cellpose's masks_to_flows [${k.backendName}]`, () => {
  it.each(manifest.sources.map((s) => [s.name, s] as const))('%s: the same float32 flows, bit for bit', (_n, s) => {
    expect(sha256(ours.get(s.name)!.flows.data)).toBe(s.flowsSha256);
  });
  const stored = manifest.sources.filter((s) => s.flows);
  it.each(stored.map((s) => [s.name, s] as const))('%s: against the stored flows (max |Δ| = 0)', (_n, s) => {
    const theirs = readRef(s.flows!) as Float32Array;
    const mine = ours.get(s.name)!.flows.data;
    let max = 0;
    for (let i = 0; i < theirs.length; i++) max = Math.max(max, Math.abs(theirs[i] - mine[i]));
    expect(max).toBe(0);
    expect(firstBitDifference(mine, theirs)).toBe(-1);
    // Unit vectors inside the masks, 0 outside.
    const { labels } = ours.get(s.name)!;
    const n = labels.data.length;
    for (let i = 0; i < n; i++) {
      const norm = Math.hypot(mine[i], mine[n + i]);
      if (labels.data[i] === 0) expect(norm).toBe(0);
      else expect(Math.abs(norm - 1)).toBeLessThan(1e-6);
    }
  });
  it('covers every source with a flow digest and stores one field whole', () => {
    expect(manifest.sources.length).toBeGreaterThanOrEqual(5);
    expect(stored.length).toBeGreaterThanOrEqual(1);
  });
});

describe(`cellposeMasks reproduces Cellpose's compute_masks [${k.backendName}]`, () => {
  it.each(manifest.cases.map((c) => [`${c.name} ${JSON.stringify(c.params)}`, c] as const))('%s', (_n, c) => {
    const { dP, cellprob } = ours.get(c.source)!;
    const expected = Uint32Array.from(readRef(c.expected) as Uint16Array);
    const got = k.cellposeMasks(dP, cellprob, c.params);
    const ari = adjustedRandIndex(got.data, expected);
    const max = maxOf(got.data);
    ariByCase.push([c.name, ari, max, c.maskCount]);
    expect(ari).toBeGreaterThanOrEqual(0.9999);
    expect(max).toBe(c.maskCount);
    expect(firstBitDifference(got.data, expected)).toBe(-1); // exact: same masks, same label numbers
  });

  it('the fixtures exercise the flow-error step, the label-gap quirk and its fix, noise, minSize ≤ 0, niter 100', () => {
    const cs = manifest.cases;
    expect(cs.some((c) => c.params.fixLabelGapQuirk && c.params.differsFromQuirk)).toBe(true);
    expect(cs.some((c) => c.params.flowThreshold === 0) && cs.some((c) => c.params.flowThreshold > 0)).toBe(true);
    expect(cs.some((c) => sources.get(c.source)!.noise)).toBe(true);
    expect(cs.some((c) => c.params.minSize <= 0) && cs.some((c) => c.params.niter === 100)).toBe(true);
  });

  it('the label-gap quirk removes other masks than the fixed step (F03_s5: Cellpose keeps 26, intended 28)', () => {
    const { dP, cellprob } = ours.get('bbbc039_F03_s5')!;
    const quirk = k.cellposeMasks(dP, cellprob, { niter: 200 });
    const fixed = k.cellposeMasks(dP, cellprob, { niter: 200, fixLabelGapQuirk: true });
    expect(maxOf(quirk.data)).toBe(26);
    expect(maxOf(fixed.data)).toBe(28);
  });

  it('clean: false then cellposeCleanMasks is cellposeMasks (with and without the quirk); unclean masks keep holes and gaps', () => {
    const { dP, cellprob } = ours.get('bbbc039_F03_s5')!;
    for (const fixLabelGapQuirk of [false, true]) {
      const whole = k.cellposeMasks(dP, cellprob, { niter: 200, fixLabelGapQuirk });
      const raw = k.cellposeMasks(dP, cellprob, { niter: 200, fixLabelGapQuirk, clean: false });
      const cleaned = k.cellposeCleanMasks(raw, { minSize: 15, fixLabelGapQuirk });
      expect(firstBitDifference(cleaned.data, whole.data)).toBe(-1);
      expect(firstBitDifference(raw.data, whole.data)).not.toBe(-1); // the flow-error step left gaps to clean
    }
    const raw = k.cellposeMasks(dP, cellprob, { niter: 200, clean: false });
    const before = Uint32Array.from(raw.data);
    k.cellposeCleanMasks(raw);
    expect(firstBitDifference(raw.data, before)).toBe(-1); // the input is not modified
    expectInputError(() => k.cellposeCleanMasks(raw, { minSize: 2.5 }), 'ERR_SCSEG_ARGUMENT', /minSize/);
  });

  it('cellposeCleanMasks takes any uint32 ids (up to 2^32 − 1) without tables sized by the largest id', () => {
    // fuzzing found a 128 GiB allocation for an id near 2^32; ids above the pixel count are compacted first, keeping
    // the values the label-gap quirk reads (it removes the label whose value equals a rank)
    const { dP, cellprob } = ours.get('bbbc039_F03_s5')!;
    const raw = k.cellposeMasks(dP, cellprob, { niter: 200, clean: false });
    const top = maxOf(raw.data);
    const remap = (f: (v: number) => number) => ({ ...raw, data: raw.data.map((v) => (v === 0 ? 0 : f(v))) });
    const huge = (v: number) => 2 ** 32 - 1 - (top - v) * 3; // order kept, far beyond the pixel count
    const far = (v: number) => 100000 + v; // order kept, below the pixel count (the dense path)
    for (const fixLabelGapQuirk of [false, true]) {
      const o = { minSize: 15, fixLabelGapQuirk };
      const viaHuge = k.cellposeCleanMasks(remap(huge), o).data;
      expect(firstBitDifference(viaHuge, k.cellposeCleanMasks(remap(far), o).data)).toBe(-1);
      // ids 1–10 kept (the quirk can hit them), the others far or huge: the same masks either way
      const mixed = (g: (v: number) => number) => (v: number) => (v <= 10 ? v : g(v));
      expect(firstBitDifference(k.cellposeCleanMasks(remap(mixed(huge)), o).data, k.cellposeCleanMasks(remap(mixed(far)), o).data)).toBe(-1);
      if (fixLabelGapQuirk) expect(firstBitDifference(viaHuge, k.cellposeCleanMasks(raw, o).data)).toBe(-1); // order is all it reads
    }
    expect(maxOf(k.cellposeCleanMasks(remap(huge), { minSize: 0 }).data)).toBeGreaterThan(10);
  });

  it('an all-zero cellprob gives an empty mask (nothing is above the threshold 0)', () => {
    const { dP } = ours.get('dsb_256')!;
    const zero = { data: new Float32Array(dP.width * dP.height), width: dP.width, height: dP.height };
    expect(k.cellposeMasks(dP, zero, { niter: 200 }).data.every((v) => v === 0)).toBe(true);
    expect(k.cellposeMasks(dP, zero, { niter: 200, cellprobThreshold: -1 }).data.some((v) => v !== 0)).toBe(true);
  });

  it('tiny images and NaN cellprob (below every threshold, as in Cellpose) are fine', () => {
    for (const [w, h] of [[1, 1], [1, 7], [9, 1], [3, 2]]) {
      const dP = { data: new Float32Array(2 * w * h).fill(0.5), width: w, height: h };
      const cellprob = { data: new Float32Array(w * h).fill(3), width: w, height: h };
      expect(k.cellposeMasks(dP, cellprob, { niter: 10 }).data.length).toBe(w * h);
    }
    const { dP, labels } = ours.get('dsb_256')!;
    const cellprob = Float32Array.from(labels.data, (l) => (l > 0 ? Number.NaN : -5));
    expect(k.cellposeMasks(dP, { data: cellprob, width: 256, height: 256 }, { niter: 50 }).data.every((v) => v === 0)).toBe(true);
  });

  afterAll(() => {
    const lines = ariByCase.map(([n, a, got, want]) => `  ${n}: ARI ${a.toFixed(6)}, ${got} masks (Cellpose ${want})`);
    console.log(`cellposeMasks vs Cellpose [${k.backendName}]\n${lines.join('\n')}`);
  });
});

/** A larger input: the sources' crops tiled 2×2 (512², ~170 masks), flows and noise as the fixtures make them. */
function tiled(kk: Kernels) {
  const names = ['bbbc039_A02_s1', 'dsb_512_dense', 'bbbc039_F03_s5', 'bbbc039_C07_s5_noisy'];
  const W = 512, H = 512;
  const labels = new Uint32Array(W * H);
  names.forEach((name, t) => {
    const l = labelsOf(sources.get(name)!.labels);
    const [oy, ox] = [(t >> 1) * 256, (t & 1) * 256];
    for (let y = 0; y < 256; y++)
      for (let x = 0; x < 256; x++) {
        const v = l.data[y * 256 + x];
        if (v) labels[(oy + y) * W + ox + x] = v + 1000 * t;
      }
  });
  const img = { data: labels, width: W, height: H };
  const flows = kk.cellposeMasksToFlows(img);
  return { labels: img, flows, ...networkOutputs({ ...sources.get('bbbc039_C07_s5_noisy')!, noise: { seed: 11, flowAmplitude: 0.5, cellprobAmplitude: 4 } }, flows, img) };
}

describeIfNative('native and WASM give bit-identical Cellpose results', () => {
  const native = kernels('native');
  const wasm = kernels('wasm');
  const n = inputs(native);
  const w = inputs(wasm);
  it.each(manifest.sources.map((s) => [s.name] as const))('%s: cellposeMasksToFlows', (name) => {
    expect(firstBitDifference(n.get(name)!.flows.data, w.get(name)!.flows.data)).toBe(-1);
  });
  it.each(manifest.cases.map((c) => [c.name, c] as const))('%s: cellposeMasks', (_n, c) => {
    const { dP, cellprob } = n.get(c.source)!;
    expect(firstBitDifference(native.cellposeMasks(dP, cellprob, c.params).data, wasm.cellposeMasks(dP, cellprob, c.params).data)).toBe(-1);
  });
  it('a 512² tiling with noise, every parameter set', () => {
    const t = tiled(native);
    expect(firstBitDifference(t.flows.data, wasm.cellposeMasksToFlows(t.labels).data)).toBe(-1);
    for (const o of [{ niter: 200 }, { niter: 137, flowThreshold: 0, minSize: 0 }, { niter: 200, fixLabelGapQuirk: true, cellprobThreshold: 1 }]) {
      const a = native.cellposeMasks(t.dP, t.cellprob, o), b = wasm.cellposeMasks(t.dP, t.cellprob, o);
      expect(maxOf(a.data)).toBeGreaterThan(50);
      expect(firstBitDifference(a.data, b.data)).toBe(-1);
    }
  });
});

describe(`Cellpose results do not depend on the thread budget [${k.backendName}]`, () => {
  const t = tiled(k.withThreads(1));
  it('threads 1, 2 and 3 give the same flows and masks', () => {
    const base = k.withThreads(1).cellposeMasks(t.dP, t.cellprob, { niter: 200 });
    for (const threads of [2, 3]) {
      const kk = k.withThreads(threads);
      expect(firstBitDifference(kk.cellposeMasksToFlows(t.labels).data, t.flows.data)).toBe(-1);
      expect(firstBitDifference(kk.cellposeMasks(t.dP, t.cellprob, { niter: 200 }).data, base.data)).toBe(-1);
    }
  });
});

describe.each(testBackends)('Cellpose kernels reject bad input with typed errors [%s]', (name) => {
  const kk = kernels(name);
  const img = <T,>(data: T, width: number, height: number) => ({ data, width, height });
  const dP = img(new Float32Array(2 * 12), 4, 3);
  const cellprob = img(new Float32Array(12).fill(1), 4, 3);
  const cases: [string, () => unknown, string, RegExp][] = [
    ['dP of one plane', () => kk.cellposeMasks(img(new Float32Array(12), 4, 3), cellprob, { niter: 5 }), 'ERR_SCSEG_SHAPE', /\[2, height, width\]/],
    ['dP Float64Array', () => kk.cellposeMasks(img(new Float64Array(24) as never, 4, 3), cellprob, { niter: 5 }), 'ERR_SCSEG_DTYPE', /Float32Array/],
    ['cellprob of another shape', () => kk.cellposeMasks(dP, img(new Float32Array(12), 3, 4), { niter: 5 }), 'ERR_SCSEG_SHAPE', /same shape/],
    ['cellprob Uint16Array', () => kk.cellposeMasks(dP, img(new Uint16Array(12) as never, 4, 3), { niter: 5 }), 'ERR_SCSEG_DTYPE', /Float32Array/],
    ['NaN flows', () => kk.cellposeMasks(img(new Float32Array(24).fill(Number.NaN), 4, 3), cellprob, { niter: 5 }), 'ERR_SCSEG_VALUE', /NaN or ±Infinity/],
    ['infinite flows', () => kk.cellposeMasks(img(Float32Array.from({ length: 24 }, (_, i) => (i === 23 ? -Infinity : 0)), 4, 3), cellprob, { niter: 5 }), 'ERR_SCSEG_VALUE', /finite/],
    ['niter 0', () => kk.cellposeMasks(dP, cellprob, { niter: 0 }), 'ERR_SCSEG_ARGUMENT', /niter must be an integer in \[1, 1048576\]/],
    ['niter −5', () => kk.cellposeMasks(dP, cellprob, { niter: -5 }), 'ERR_SCSEG_ARGUMENT', /niter/],
    ['niter 2.5', () => kk.cellposeMasks(dP, cellprob, { niter: 2.5 }), 'ERR_SCSEG_ARGUMENT', /niter/],
    ['niter missing', () => kk.cellposeMasks(dP, cellprob, {} as never), 'ERR_SCSEG_ARGUMENT', /niter/],
    ['niter too large', () => kk.cellposeMasks(dP, cellprob, { niter: 2 ** 21 }), 'ERR_SCSEG_ARGUMENT', /niter/],
    ['negative flowThreshold', () => kk.cellposeMasks(dP, cellprob, { niter: 5, flowThreshold: -0.1 }), 'ERR_SCSEG_ARGUMENT', /flowThreshold/],
    ['NaN cellprobThreshold', () => kk.cellposeMasks(dP, cellprob, { niter: 5, cellprobThreshold: Number.NaN }), 'ERR_SCSEG_ARGUMENT', /cellprobThreshold/],
    ['fractional minSize', () => kk.cellposeMasks(dP, cellprob, { niter: 5, minSize: 1.5 }), 'ERR_SCSEG_ARGUMENT', /minSize/],
    ['negative maxSizeFraction', () => kk.cellposeMasks(dP, cellprob, { niter: 5, maxSizeFraction: -1 }), 'ERR_SCSEG_ARGUMENT', /maxSizeFraction/],
    ['fixLabelGapQuirk "yes"', () => kk.cellposeMasks(dP, cellprob, { niter: 5, fixLabelGapQuirk: 'yes' as never }), 'ERR_SCSEG_ARGUMENT', /boolean/],
    ['options null', () => kk.cellposeMasks(dP, cellprob, null as never), 'ERR_SCSEG_ARGUMENT', /options/],
    ['dP null', () => kk.cellposeMasks(null as never, cellprob, { niter: 5 }), 'ERR_SCSEG_SHAPE', /dP must be an object/],
    ['huge dims', () => kk.cellposeMasks(img(new Float32Array(8), 2 ** 31, 2 ** 31), img(new Float32Array(4), 2 ** 31, 2 ** 31), { niter: 5 }), 'ERR_SCSEG_SHAPE', /elements/],
    ['zero width', () => kk.cellposeMasksToFlows(img(new Uint32Array(0), 0, 3)), 'ERR_SCSEG_SHAPE', /width must be a positive integer/],
    ['labels Int32Array', () => kk.cellposeMasksToFlows(img(new Int32Array(12) as never, 4, 3)), 'ERR_SCSEG_DTYPE', /Uint32Array/],
    ['labels of the wrong length', () => kk.cellposeMasksToFlows(img(new Uint32Array(11), 4, 3)), 'ERR_SCSEG_SHAPE', /11 elements/],
  ];
  it.each(cases)('%s → InputError', (_n, call, code, message) => expectInputError(call, code, message));

  it('more pixels than the backend holds → ERR_SCSEG_TOO_LARGE (WASM: 2^25, native: 2^31 − 1)', () => {
    expect(kk.limits.maxCellposePixels).toBe(name === 'wasm' ? 2 ** 25 : 2 ** 31 - 1);
    expect(kk.limits.maxCellposeIterations).toBe(2 ** 20);
    if (name !== 'wasm') return; // native: 8 GiB of labels, not for a test
    const side = Math.ceil(Math.sqrt(kk.limits.maxCellposePixels + 1));
    expectInputError(() => kk.cellposeMasksToFlows(img(new Uint32Array(side * side), side, side)), 'ERR_SCSEG_TOO_LARGE', /WASM/);
  });

  it('the raw bindings check lengths themselves (no out-of-bounds access)', () => {
    const raw = kk.backend.bindings;
    const out = new Uint32Array(12);
    expect(() => raw.cellposeMasks(new Float32Array(12), cellprob.data, 4, 3, 5, 0, 0.4, 15, 0.4, 0, false, true, true, out, 1)).toThrow(/dP: length does not equal 2\*width\*height/);
    expect(() => raw.cellposeMasks(dP.data, cellprob.data, 4, 3, 5, 0, 0.4, 15, 0.4, 0, false, true, true, new Uint32Array(11), 1)).toThrow(/labels: length/);
    expect(() => raw.cellposeMasks(dP.data, cellprob.data, 4, 3, 0, 0, 0.4, 15, 0.4, 0, false, true, true, out, 1)).toThrow(/invalid argument/);
    expect(() => raw.cellposeMasks(dP.data, cellprob.data, 4, 3, 5, 0, 0.4, 15, 0.4, -1, false, true, true, out, 1)).toThrow(/invalid argument/);
    expect(() => raw.cellposeMasksToFlows(new Uint32Array(12), 4, 3, new Float32Array(12), 1)).toThrow(/flows: length does not equal 2\*width\*height/);
    expect(() => raw.cellposeMasks(dP.data, cellprob.data, 2 ** 26, 2 ** 26, 5, 0, 0.4, 15, 0.4, 0, false, true, true, out, 1)).toThrow(/length|fit in memory/);
  });

  it("imagePixels: a window decides 'too big' by the whole image's pixel count (default: its own)", () => {
    const c = manifest.cases.find((x) => x.source === 'dsb_256')!;
    const { dP: flows, cellprob: prob } = ours.get('dsb_256')!;
    const own = kk.cellposeMasks(flows, prob, c.params).data;
    const area = prob.width * prob.height;
    expect(firstBitDifference(kk.cellposeMasks(flows, prob, { ...c.params, imagePixels: area }).data, own)).toBe(-1);
    expect(own.some((v) => v !== 0)).toBe(true);
    // an image of 1 pixel: every mask is more than 0.4 of it
    expect(kk.cellposeMasks(flows, prob, { ...c.params, imagePixels: 1 }).data.every((v) => v === 0)).toBe(true);
    expectInputError(() => kk.cellposeMasks(flows, prob, { ...c.params, imagePixels: -1 }), 'ERR_SCSEG_ARGUMENT', /imagePixels/);
  });

  it('still works after errors', () => {
    const c = manifest.cases.find((x) => x.source === 'dsb_256')!;
    const { dP: flows, cellprob: prob } = ours.get('dsb_256')!;
    const expected = Uint32Array.from(readRef(c.expected) as Uint16Array);
    expect(firstBitDifference(kk.cellposeMasks(flows, prob, c.params).data, expected)).toBe(-1);
  });
});
