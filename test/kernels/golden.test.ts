/**
 * Kernels against scikit-image / numpy golden outputs (scripts/fixtures/make_fixtures.py), compared bit for bit, on the
 * backend that SCSEG_BACKEND selects (npm test runs this file once per backend).
 */
import fs from 'node:fs';
import path from 'node:path';
import { kernels } from '../../lib/kernels/index.js';
import { fixturesDir, firstBitDifference, readArray, readImage, type ArrayRef } from '../helpers/fixtures.js';

interface Case {
  kernel: 'medianFilter' | 'percentileNormalize' | 'quantiles';
  q?: number[];
  input: ArrayRef;
  expected: ArrayRef;
  origin: string;
  radius?: number;
  lower?: number;
  upper?: number;
}

const dir = path.join(fixturesDir, 'kernels');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { cases: Case[] };
const k = kernels();
const label = (c: Case) =>
  `${c.input.dtype} ${c.input.shape.join('×')} (${c.origin}) ` +
  (c.kernel === 'medianFilter' ? `r=${c.radius}` : `q=${c.lower}..${c.upper}`);

describe(`medianFilter matches skimage.filters.median(img, disk(r)) [${k.backendName}]`, () => {
  const cases = manifest.cases.filter((c) => c.kernel === 'medianFilter');
  it('has fixtures for every dtype and radii up to 9', () => {
    expect(new Set(cases.map((c) => c.input.dtype))).toEqual(new Set(['uint8', 'uint16', 'float32']));
    expect(Math.max(...cases.map((c) => c.radius ?? 0))).toBeGreaterThanOrEqual(9);
  });
  it.each(cases.map((c) => [label(c), c] as const))('%s', (_name, c) => {
    const out = k.medianFilter(readImage(dir, c.input), c.radius!);
    expect(firstBitDifference(out.data, readArray(dir, c.expected))).toBe(-1);
  });
});

describe(`percentileNormalize matches scPortrait percentile_normalization [${k.backendName}]`, () => {
  const cases = manifest.cases.filter((c) => c.kernel === 'percentileNormalize');
  it.each(cases.map((c) => [label(c), c] as const))('%s', (_name, c) => {
    const out = k.percentileNormalize(readImage(dir, c.input), c.lower!, c.upper!);
    expect(firstBitDifference(out.data, readArray(dir, c.expected))).toBe(-1);
  });
});

describe(`quantiles match numpy.quantile [${k.backendName}]`, () => {
  const cases = manifest.cases.filter((c) => c.kernel === 'quantiles');
  it('has fixtures', () => expect(cases.length).toBeGreaterThan(10));
  it.each(cases.map((c) => [`${c.input.dtype} ${c.input.shape.join('×')} (${c.origin}) q=${c.q}`, c] as const))('%s', (_n, c) => {
    const out = k.quantiles(readImage(dir, c.input), c.q!);
    expect(firstBitDifference(out, readArray(dir, c.expected))).toBe(-1);
  });
});
