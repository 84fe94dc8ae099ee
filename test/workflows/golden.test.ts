/**
 * Parity with the ORIGINAL scPortrait on a machine that does not have it: the masks the original WGA/DAPI workflows
 * produced on committed real images (test/fixtures/golden, made by scripts/fixtures/make_golden_masks.py; commit
 * and library versions in its manifest) must come out of our public API identical — every pixel, every id — on
 * the backend SCSEG_BACKEND selects (npm test runs this once per backend).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { fixturesDir, repoRoot } from '../helpers/fixtures.js';

interface GoldenMask { name: string; file: string; dtype: 'uint16' | 'uint32'; shape: [number, number]; cells: number }
interface GoldenCase {
  name: string;
  workflow: 'WGASegmentation' | 'DAPISegmentation';
  config: { path: string; sha256: string };
  inputs: { path: string; sha256: string }[];
  masks: GoldenMask[];
}

const dir = path.join(fixturesDir, 'golden');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
  scportrait: { commit: string };
  cases: GoldenCase[];
};
const backend = (process.env.SCSEG_BACKEND ?? 'auto') as 'native' | 'wasm' | 'auto';

function readMask(m: GoldenMask): Uint32Array {
  const raw = gunzipSync(fs.readFileSync(path.join(dir, m.file)));
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw); // aligned copy
  const values = m.dtype === 'uint16' ? new Uint16Array(bytes.buffer) : new Uint32Array(bytes.buffer);
  expect(values.length).toBe(m.shape[0] * m.shape[1]);
  return Uint32Array.from(values);
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(path.join(repoRoot, file))).digest('hex');

/** How two label images differ: pixel count, first pixel, and whether a one-to-one relabelling maps one onto the other. */
function difference(expected: Uint32Array, actual: Uint32Array, width: number) {
  let pixels = 0;
  let first = -1;
  const forward = new Map<number, number>();
  const backward = new Map<number, number>();
  let bijective = true;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e !== a) {
      pixels++;
      if (first < 0) first = i;
    }
    if ((forward.get(e) ?? a) !== a || (backward.get(a) ?? e) !== e) bijective = false;
    forward.set(e, a);
    backward.set(a, e);
  }
  return { pixels, first: first < 0 ? null : { x: first % width, y: Math.floor(first / width) }, upToRelabelling: bijective };
}

describe(`golden masks of the original scPortrait ${manifest.scportrait.commit.slice(0, 8)} [SCSEG_BACKEND=${backend}]`, () => {
  it.each(manifest.cases.map((c) => [c.name, c] as const))('%s: identical masks and ids', async (_name, c) => {
    // The committed inputs and config are the ones the masks were made from.
    expect(sha256(c.config.path)).toBe(c.config.sha256);
    for (const input of c.inputs) expect(sha256(input.path)).toBe(input.sha256);

    const seg = await Segmentation.create({ config: { path: path.join(repoRoot, c.config.path) }, workflow: c.workflow, backend });
    const result = await seg.run({ input: c.inputs.map((i) => path.join(repoRoot, i.path)) });

    expect(result.maskNames).toEqual(c.masks.map((m) => m.name));
    expect(result.masks).toHaveLength(c.masks.length);
    for (const [i, m] of c.masks.entries()) {
      const ours = result.masks[i];
      expect([ours.height, ours.width]).toEqual(m.shape);
      const golden = readMask(m);
      const diff = difference(golden, ours.data, ours.width);
      expect({ mask: m.name, ...diff }).toEqual({ mask: m.name, pixels: 0, first: null, upToRelabelling: true });
      expect(new Set(ours.data).size - 1).toBe(m.cells);
    }
    const nucleusIds = [...new Set(readMask(c.masks[0]))].filter((v) => v !== 0).sort((a, b) => a - b);
    expect(Array.from(result.classes)).toEqual(nucleusIds);
  });
});
