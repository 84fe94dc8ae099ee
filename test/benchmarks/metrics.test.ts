/**
 * benchmarks/python-original/metrics.ts against sklearn / numpy, computed here by Debian's Python on seeded random
 * label images (SCSEG_PYTHON overrides /usr/bin/python3; without sklearn the reference cases are skipped).
 * ARI is compared to 1e-12: sklearn divides exact Python ints once, we divide two doubles rounded from exact
 * BigInts, so the two can differ in the last bits. Instance counts (TP/FP/FN, cell counts) must be exact.
 */
import { execFileSync } from 'node:child_process';
import { PYTHON, pythonHas } from '../helpers/python.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import { adjustedRandIndex, cellCount, f1AtIoU } from '../../benchmarks/python-original/metrics.js';
import { rng } from '../helpers/fixtures.js';


const REFERENCE = String.raw`
import json, sys
import numpy as np
from sklearn.metrics import adjusted_rand_score
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    a = np.fromfile(c["a"], dtype="<u4"); b = np.fromfile(c["b"], dtype="<u4")
    ari = float(adjusted_rand_score(a, b))
    pa, ia = np.unique(a, return_inverse=True); pb, ib = np.unique(b, return_inverse=True)
    inter = np.zeros((len(pa), len(pb)), np.int64); np.add.at(inter, (ia, ib), 1)
    area_a = inter.sum(1); area_b = inter.sum(0)
    iou = inter / (area_a[:, None] + area_b[None, :] - inter)
    iou = iou[pa != 0][:, pb != 0]
    tp = int((iou > 0.5).sum())  # IoU > 0.5 pairs are one-to-one by construction
    na = int((pa != 0).sum()); nb = int((pb != 0).sum())
    out.append({"ari": ari, "tp": tp, "fp": nb - tp, "fn": na - tp, "count_a": na, "count_b": nb})
print(json.dumps(out))
`;


interface Case {
  name: string;
  a: Uint32Array;
  b: Uint32Array;
}

/** Rectangles with random ids painted over background (overlaps make irregular shapes). */
function blocks(rand: () => number, h: number, w: number, n: number, idMax: number): Uint32Array {
  const img = new Uint32Array(h * w);
  for (let k = 0; k < n; k++) {
    const id = 1 + Math.floor(rand() * idMax);
    const y0 = Math.floor(rand() * h);
    const x0 = Math.floor(rand() * w);
    const bh = 1 + Math.floor(rand() * Math.max(1, h / 4));
    const bw = 1 + Math.floor(rand() * Math.max(1, w / 4));
    for (let y = y0; y < Math.min(h, y0 + bh); y++) img.fill(id, y * w + x0, y * w + Math.min(w, x0 + bw));
  }
  return img;
}

/** b = a shifted by (dy, dx) with some ids merged, some pixels re-labelled at random. */
function perturb(rand: () => number, a: Uint32Array, h: number, w: number, dy: number, dx: number): Uint32Array {
  const b = new Uint32Array(a.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = y - dy;
      const sx = x - dx;
      b[y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? a[sy * w + sx]! : 0;
    }
  }
  const merge = new Map<number, number>();
  for (const v of b) if (v !== 0 && !merge.has(v)) merge.set(v, rand() < 0.2 ? 7 : v ^ 0x5a5a);
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0) b[i] = merge.get(b[i]!)!;
    if (rand() < 0.02) b[i] = Math.floor(rand() * 4);
  }
  return b;
}

function makeCases(): Case[] {
  const rand = rng(20261125);
  const cases: Case[] = [];
  for (const [h, w, n, idMax] of [
    [7, 13, 4, 5],
    [31, 17, 12, 1000],
    [64, 64, 40, 0xfffffffe],
    [1, 97, 10, 20],
    [200, 151, 150, 1 << 20],
  ] as const) {
    const a = blocks(rand, h, w, n, idMax);
    cases.push({ name: `blocks ${h}x${w} vs shifted+merged`, a, b: perturb(rand, a, h, w, 1, -1) });
    cases.push({ name: `blocks ${h}x${w} vs independent`, a, b: blocks(rand, h, w, n, idMax) });
    const permuted = a.map((v) => Math.imul(v, 0x9e3779b1) >>> 0); // odd multiplier: a bijection fixing 0
    cases.push({ name: `blocks ${h}x${w} vs relabelled copy`, a, b: permuted });
  }
  const noise = (len: number, k: number) => Uint32Array.from({ length: len }, () => Math.floor(rand() * k));
  cases.push({ name: 'noise 3 classes', a: noise(500, 3), b: noise(500, 3) });
  cases.push({ name: 'all background', a: new Uint32Array(50), b: new Uint32Array(50) });
  cases.push({ name: 'background vs labels', a: new Uint32Array(50), b: noise(50, 5) });
  cases.push({ name: 'single pixel, same', a: Uint32Array.of(3), b: Uint32Array.of(9) });
  cases.push({ name: 'single pixel, bg vs label', a: Uint32Array.of(0), b: Uint32Array.of(1) });
  cases.push({ name: 'everything one label', a: new Uint32Array(40).fill(4), b: new Uint32Array(40).fill(4) });
  // IoU exactly 0.5 (1 of 2 pixels) is not a match; 2 of 3 is.
  cases.push({ name: 'IoU borderline', a: Uint32Array.of(1, 1, 0, 2, 2, 2, 0), b: Uint32Array.of(5, 0, 0, 6, 6, 0, 0) });
  return cases;
}

const haveReference = pythonHas('sklearn', 'numpy');
if (!haveReference) console.warn(`metrics.test: ${PYTHON} with sklearn not available, reference cases skipped`);
const describeRef = haveReference ? describe : describe.skip;

describeRef('metrics against sklearn / numpy (Debian python)', () => {
  const cases = makeCases();
  let expected: { ari: number; tp: number; fp: number; fn: number; count_a: number; count_b: number }[] = [];

  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-metrics-'));
    try {
      const manifest = cases.map((c, i) => {
        const a = path.join(dir, `${i}_a.bin`);
        const b = path.join(dir, `${i}_b.bin`);
        fs.writeFileSync(a, Buffer.from(c.a.buffer, c.a.byteOffset, c.a.byteLength));
        fs.writeFileSync(b, Buffer.from(c.b.buffer, c.b.byteOffset, c.b.byteLength));
        return { a, b };
      });
      const manifestPath = path.join(dir, 'cases.json');
      fs.writeFileSync(manifestPath, JSON.stringify(manifest));
      expected = JSON.parse(execFileSync(PYTHON, ['-c', REFERENCE, manifestPath], { encoding: 'utf8' }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = cases[i]!;
    const want = expected[i]!;
    expect(Math.abs(adjustedRandIndex(c.a, c.b) - want.ari)).toBeLessThanOrEqual(1e-12);
    const score = f1AtIoU(c.a, c.b, 0.5);
    expect({ tp: score.tp, fp: score.fp, fn: score.fn }).toEqual({ tp: want.tp, fp: want.fp, fn: want.fn });
    const denom = 2 * want.tp + want.fp + want.fn;
    expect(score.f1).toBe(denom === 0 ? 1 : (2 * want.tp) / denom);
    expect(cellCount(c.a)).toBe(want.count_a);
    expect(cellCount(c.b)).toBe(want.count_b);
  });

  it('covers non-trivial agreement (some ARI strictly between 0 and 1, some TP and FP)', () => {
    expect(expected.some((e) => e.ari > 0.1 && e.ari < 0.99)).toBe(true);
    expect(expected.some((e) => e.ari < 0)).toBe(true);
    expect(expected.some((e) => e.tp > 5 && e.fp > 0 && e.fn > 0)).toBe(true);
  });
});

describe('metrics conventions', () => {
  it('symmetry: ARI(a,b) = ARI(b,a); F1 swaps FP and FN', () => {
    const rand = rng(7);
    const a = blocks(rand, 40, 30, 20, 50);
    const b = perturb(rand, a, 40, 30, 2, 1);
    expect(adjustedRandIndex(a, b)).toBeCloseTo(adjustedRandIndex(b, a), 14);
    const ab = f1AtIoU(a, b);
    const ba = f1AtIoU(b, a);
    expect([ab.tp, ab.fp, ab.fn]).toEqual([ba.tp, ba.fn, ba.fp]);
  });

  it('below 0.5 the matching stays one-to-one (greedy by IoU, ties to the smaller prediction id)', () => {
    // reference id 1 (4 px) is split into prediction ids 8 and 5 (2 px each, IoU 0.5 each)
    const s = f1AtIoU(Uint32Array.of(1, 1, 1, 1), Uint32Array.of(8, 8, 5, 5), 0.3);
    expect([s.tp, s.fp, s.fn]).toEqual([1, 1, 0]);
    expect(s.precision).toBe(0.5);
    expect(s.recall).toBe(1);
  });

  it('no instances on either side scores 1; none predicted scores 0', () => {
    expect(f1AtIoU(new Uint32Array(4), new Uint32Array(4)).f1).toBe(1);
    const s = f1AtIoU(Uint32Array.of(1, 1, 0), new Uint32Array(3));
    expect([s.f1, s.precision, s.recall, s.fn]).toEqual([0, 0, 0, 1]);
  });

  it('accepts uint16 / uint8 ground truth', () => {
    expect(f1AtIoU(Uint16Array.of(0, 2, 2), Uint32Array.of(0, 9, 9)).f1).toBe(1);
    expect(cellCount(Uint8Array.of(0, 3, 3, 1))).toBe(2);
  });

  it('rejects mismatched sizes and bad thresholds with InputError', () => {
    expect(() => adjustedRandIndex(new Uint32Array(3), new Uint32Array(4))).toThrow(InputError);
    expect(() => f1AtIoU(new Uint32Array(3), new Uint32Array(4))).toThrow(InputError);
    expect(() => f1AtIoU(new Uint32Array(3), new Uint32Array(3), 1)).toThrow(InputError);
    expect(() => f1AtIoU(new Uint32Array(3), new Uint32Array(3), Number.NaN)).toThrow(InputError);
  });
});
