/**
 * Mutation fuzzing of the image readers (issue 13): real files — the io fixtures and scPortrait's example 3 — are
 * mutated (bit flips, interesting 8/16/32-bit values, truncation, copied and inserted byte runs; values in a TIFF's
 * OME-XML or ImageJ description; for OME-Zarr the JSON metadata, byte-wise and by replacing or deleting a key's
 * value) and opened through the public openImage,
 * then a window and (when small enough) a whole channel are read. A mutated file may read fine or fail, but only
 * with the package's own errors (lib/errors.ts: ScsegError and its subclasses); any other exception — a TypeError
 * from a parser, a RangeError, an Emscripten abort — is a finding. Fixed seed, fixed number of mutations per format;
 * reproducers of findings are written to build/fuzz/readers/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScsegError } from '../../lib/errors.js';
import { openImage } from '../../lib/io/index.js';
import { fixturesDir, int, pick, rng, type Rand } from '../helpers/fixtures.js';

const ioDir = path.join(fixturesDir, 'io');
const repoRoot = path.resolve(fixturesDir, '..', '..');
const findingsDir = path.join(repoRoot, 'build', 'fuzz', 'readers');
/** Mutations per format (≈ 20 s in all); SCSEG_FUZZ_READERS_SCALE multiplies them for a longer hunt. */
const SCALE = Number(process.env.SCSEG_FUZZ_READERS_SCALE ?? 1);
const MUTATIONS = {
  tiff: Math.round(800 * SCALE),
  npy: Math.round(1000 * SCALE),
  hdf5: Math.round(400 * SCALE),
  zarr: Math.round(100 * SCALE),
} as const;
const SEED = Number(process.env.SCSEG_FUZZ_READERS_SEED ?? 0x5c5e9);
/** Whole channels are read only up to this many pixels (a mutated header may claim any size). */
const MAX_READ_PIXELS = 1 << 22;


const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40];
const INTERESTING_32 = [0, 1, 2, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 65535, 4096];

/** An offset, mostly in the first KiB (headers, IFDs, the npy dict), else anywhere. */
function offset(r: Rand, length: number): number {
  if (length <= 1) return 0;
  return r() < 0.7 ? int(r, Math.min(length, 1024)) : int(r, length);
}

/** 1–4 byte-level mutations; returns the new bytes and what was done (for the report). */
function mutateBytes(r: Rand, input: Uint8Array): { bytes: Uint8Array; ops: string[] } {
  let b = Uint8Array.from(input);
  const ops: string[] = [];
  const count = 1 + int(r, 4);
  for (let k = 0; k < count && b.length > 0; k++) {
    const at = offset(r, b.length);
    switch (int(r, 7)) {
      case 0: {
        const bit = int(r, 8);
        b[at] ^= 1 << bit;
        ops.push(`flip bit ${bit} @${at}`);
        break;
      }
      case 1: {
        const v = pick(r, INTERESTING_8);
        b[at] = v;
        ops.push(`byte @${at} = ${v}`);
        break;
      }
      case 2: {
        const v = pick(r, INTERESTING_32);
        const little = r() < 0.5;
        const width = r() < 0.5 ? 2 : 4;
        for (let i = 0; i < width && at + i < b.length; i++) {
          const shift = 8 * (little ? i : width - 1 - i);
          b[at + i] = (v >>> shift) & 0xff;
        }
        ops.push(`u${8 * width}${little ? 'le' : 'be'} @${at} = ${v}`);
        break;
      }
      case 3: {
        const len = int(r, b.length);
        b = b.slice(0, len);
        ops.push(`truncate to ${len}`);
        break;
      }
      case 4: {
        const from = int(r, b.length);
        const len = Math.min(1 + int(r, 64), b.length - from, b.length - at);
        b.copyWithin(at, from, from + len);
        ops.push(`copy ${len} bytes @${from} → @${at}`);
        break;
      }
      case 5: {
        const len = 1 + int(r, 16);
        const ins = Uint8Array.from({ length: len }, () => int(r, 256));
        const out = new Uint8Array(b.length + len);
        out.set(b.subarray(0, at));
        out.set(ins, at);
        out.set(b.subarray(at), at + len);
        b = out;
        ops.push(`insert ${len} bytes @${at}`);
        break;
      }
      default: {
        const len = Math.min(1 + int(r, 16), b.length - at);
        const out = new Uint8Array(b.length - len);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + len), at);
        b = out;
        ops.push(`delete ${len} bytes @${at}`);
        break;
      }
    }
  }
  return { bytes: b, ops };
}

const INTERESTING_JSON: unknown[] = [
  null, true, 0, -1, 1, 2.5, 1e300, -1e300, 2 ** 53, 2 ** 31, '', 'x', '<u2', '|u1', '>f8', 'uint64', 'zstd',
  [], [0], [-1], [0, 0, 0], [1e9, 1e9, 1e9], [2 ** 31, 2 ** 31], [1, 2, 3, 4, 5, 6, 7], {}, { id: 'blosc' },
  ['a', 'b'], [null], [[0, 1]],
];

/** Replaces (or deletes) one value somewhere in a JSON document. */
function mutateJson(r: Rand, doc: unknown): { doc: unknown; op: string } {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(doc, []);
  const target = pick(r, paths.filter((p) => p.length > 0));
  if (!target) return { doc: pick(r, INTERESTING_JSON), op: 'replace the document' };
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of target.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = target[target.length - 1];
  if (r() < 0.2 && !Array.isArray(parent)) {
    delete parent[key];
    return { doc: copy, op: `delete ${target.join('.')}` };
  }
  const value = pick(r, INTERESTING_JSON);
  parent[key] = value;
  return { doc: copy, op: `${target.join('.')} = ${JSON.stringify(value)}` };
}

interface Finding {
  seed: string;
  ops: string[];
  error: string;
  reproducer: string;
}

/** How the mutated inputs fared: read without error, or refused with one of the package's errors. */
const outcomes = { read: 0, typed: 0 };

/** Opens and reads a (mutated) input; resolves to the unexpected error, if any. */
async function exercise(input: string): Promise<unknown> {
  let source;
  try {
    source = await openImage(input);
    const { width, height, channelCount } = source;
    await source.readWindow(0, { x: 0, y: 0, width: Math.min(width, 32), height: Math.min(height, 32) });
    if (channelCount > 1) {
      await source.readWindow(channelCount - 1, {
        x: Math.max(0, width - 17), y: Math.max(0, height - 17), width: Math.min(width, 17), height: Math.min(height, 17),
      });
    }
    if (width * height <= MAX_READ_PIXELS) await source.readChannel(0);
    outcomes.read++;
    return undefined;
  } catch (err) {
    if (!(err instanceof ScsegError)) return err;
    outcomes.typed++;
    return undefined;
  } finally {
    try {
      await source?.close();
    } catch (err) {
      if (!(err instanceof ScsegError)) return err; // eslint-disable-line no-unsafe-finally
    }
  }
}

function describeError(err: unknown): string {
  const e = err as Error;
  const where = (e?.stack ?? '').split('\n').slice(1, 3).map((l) => l.trim()).join(' | ');
  return `${e?.constructor?.name ?? typeof err}: ${String(e?.message ?? err).slice(0, 200)}${where ? ` (${where})` : ''}`;
}

let work: string;
// h5wasm (Emscripten) warns on stderr once per bad UTF-8 name; a mutated name is expected here, not news.
const consoleError = console.error;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-fuzz-readers-'));
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('Invalid UTF-8')) return;
    consoleError(...args);
  };
});
afterAll(() => {
  console.error = consoleError;
  fs.rmSync(work, { recursive: true, force: true });
});

function report(format: string, findings: Finding[], before: { read: number; typed: number }): void {
  // The mutations must exercise both paths, or the test checks nothing.
  expect(outcomes.read - before.read).toBeGreaterThan(0);
  expect(outcomes.typed - before.typed).toBeGreaterThan(0);
  if (findings.length === 0) return;
  throw new Error(
    `${findings.length} ${format} mutation(s) escaped as untyped errors:\n` +
      findings
        .slice(0, 8)
        .map((f) => `  ${f.seed} [${f.ops.join('; ')}]\n    → ${f.error}\n    reproducer: ${f.reproducer}`)
        .join('\n'),
  );
}

function saveReproducer(from: string, name: string): string {
  fs.mkdirSync(findingsDir, { recursive: true });
  const to = path.join(findingsDir, name);
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
  return path.relative(repoRoot, to);
}

const DESCRIPTION_VALUES = ['0', '1', '2', '9', '-1', '99999', '1e9', 'x', '', 'XYZCT', 'TZCYX', 'uint32', 'double', 'bit'];

/**
 * A value in a TIFF's OME-XML (Attr="value") or ImageJ (key=value) description replaced in place, padded or cut
 * to the same length so that every offset of the file stays valid; undefined when the file has no description.
 */
function mutateDescription(r: Rand, input: Uint8Array): { bytes: Uint8Array; ops: string[] } | undefined {
  const text = Buffer.from(input).toString('latin1');
  const values = [...text.matchAll(/\b(Size[XYCZT]|DimensionOrder|Type|SamplesPerPixel|images|channels|slices|frames)(="|=)([^"\n]*)/g)];
  if (values.length === 0) return undefined;
  const m = pick(r, values);
  const at = m.index + m[1].length + m[2].length;
  const old = m[3];
  const replacement = pick(r, DESCRIPTION_VALUES).padEnd(old.length, ' ').slice(0, old.length);
  const bytes = Uint8Array.from(input);
  bytes.set(Buffer.from(replacement, 'latin1'), at);
  return { bytes, ops: [`description ${m[1]}: ${JSON.stringify(old)} → ${JSON.stringify(replacement)}`] };
}

/** Byte-level fuzzing of single-file formats: each mutation of a seed file is written under the seed's name. */
async function fuzzFiles(format: keyof typeof MUTATIONS, seeds: string[], salt: number): Promise<Finding[]> {
  const r = rng(SEED ^ salt);
  const contents = seeds.map((s) => new Uint8Array(fs.readFileSync(s)));
  const findings: Finding[] = [];
  for (let i = 0; i < MUTATIONS[format]; i++) {
    const k = int(r, seeds.length);
    const { bytes, ops } = (format === 'tiff' && r() < 0.6 && mutateDescription(r, contents[k])) || mutateBytes(r, contents[k]);
    const dir = path.join(work, `${format}-${i}`);
    fs.mkdirSync(dir);
    const file = path.join(dir, path.basename(seeds[k]));
    fs.writeFileSync(file, bytes);
    const err = await exercise(file);
    if (err !== undefined) {
      findings.push({ seed: path.relative(repoRoot, seeds[k]), ops, error: describeError(err), reproducer: saveReproducer(file, `${format}-${i}-${path.basename(file)}`) });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return findings;
}

const fixtures = (ext: RegExp) =>
  fs.readdirSync(ioDir).filter((f) => ext.test(f) && fs.statSync(path.join(ioDir, f)).isFile()).sort().map((f) => path.join(ioDir, f));

describe('reader fuzzing: mutated real files give the package\'s typed errors only', () => {
  it(`TIFF (${MUTATIONS.tiff} mutations of the io fixtures and data/example3)`, async () => {
    const seeds = [...fixtures(/\.tiff?$/), path.join(repoRoot, 'data', 'example3', 'Ch2.tif')];
    expect(seeds.length).toBeGreaterThan(10);
    const before = { ...outcomes };
    report('TIFF', await fuzzFiles('tiff', seeds, 1), before);
  }, 600_000);

  it(`npy (${MUTATIONS.npy} mutations)`, async () => {
    const seeds = fixtures(/\.npy$/);
    expect(seeds.length).toBeGreaterThan(3);
    const before = { ...outcomes };
    report('npy', await fuzzFiles('npy', seeds, 2), before);
  }, 600_000);

  it(`HDF5 (${MUTATIONS.hdf5} mutations)`, async () => {
    const seeds = fixtures(/\.h5$/);
    expect(seeds.length).toBeGreaterThan(3);
    const before = { ...outcomes };
    report('HDF5', await fuzzFiles('hdf5', seeds, 3), before);
  }, 600_000);

  it(`OME-Zarr metadata (${MUTATIONS.zarr} mutations of .zarray/.zattrs/.zgroup/zarr.json)`, async () => {
    const stores = fs.readdirSync(ioDir).filter((f) => f.endsWith('.zarr')).sort().map((f) => path.join(ioDir, f));
    expect(stores.length).toBeGreaterThan(3);
    const metadata = stores.map((s) =>
      fs.readdirSync(s, { recursive: true, encoding: 'utf8' })
        .filter((f) => /(^|\/)(\.zarray|\.zattrs|\.zgroup|zarr\.json)$/.test(f)),
    );
    const r = rng(SEED ^ 4);
    const findings: Finding[] = [];
    const before = { ...outcomes };
    for (let i = 0; i < MUTATIONS.zarr; i++) {
      const k = int(r, stores.length);
      const rel = pick(r, metadata[k]);
      const store = path.join(work, `zarr-${i}`, path.basename(stores[k]));
      fs.cpSync(stores[k], store, { recursive: true });
      const file = path.join(store, rel);
      const text = fs.readFileSync(file);
      let ops: string[];
      if (r() < 0.7) {
        const m = mutateJson(r, JSON.parse(text.toString('utf8')));
        fs.writeFileSync(file, JSON.stringify(m.doc));
        ops = [`${rel}: ${m.op}`];
      } else {
        const m = mutateBytes(r, new Uint8Array(text));
        fs.writeFileSync(file, m.bytes);
        ops = m.ops.map((o) => `${rel}: ${o}`);
      }
      const err = await exercise(store);
      if (err !== undefined) {
        findings.push({ seed: path.relative(repoRoot, stores[k]), ops, error: describeError(err), reproducer: saveReproducer(store, `zarr-${i}-${path.basename(store)}`) });
      }
      fs.rmSync(path.join(work, `zarr-${i}`), { recursive: true, force: true });
    }
    report('OME-Zarr', findings, before);
  }, 600_000);
});
