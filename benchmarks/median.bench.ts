/**
 * Median filter benchmark: native vs WASM vs scikit-image (Debian python3-skimage, run side by side in the
 * same invocation) on real microscopy data tiled to 1024² and 4096² uint16, disk(4).
 * Writes benchmarks/results/median.json and median.md and prints the table. Also checks that all three
 * produce the same output bits.
 *
 *   npm run bench                     all sizes
 *   SCSEG_BENCH_SIZES=1024 npm run bench
 *   SCSEG_PYTHON=/usr/bin/python3     interpreter that has scikit-image (default /usr/bin/python3)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kernels, type Kernels } from '../lib/kernels/index.js';
import { exampleData, firstBitDifference, repoRoot } from '../test/helpers/fixtures.js';
import { bestOf, writeResults, type Row } from './report.js';

const RADIUS = 4;
const sizes = (process.env.SCSEG_BENCH_SIZES ?? '1024,4096').split(',').map(Number);
const python = process.env.SCSEG_PYTHON ?? '/usr/bin/python3';
const source = process.env.SCSEG_BENCH_SOURCE ?? path.join(exampleData, 'Ch2.tif');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-bench-'));

function makeInput(size: number): Uint16Array {
  const raw = path.join(tmp, `input_${size}.raw`);
  execFileSync(python, [path.join(repoRoot, 'benchmarks', 'make_input.py'), source, String(size), String(size), raw]);
  const buf = fs.readFileSync(raw);
  return new Uint16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function skimageMedian(size: number, repeat: number): { seconds: number; out: Uint16Array } | undefined {
  const raw = path.join(tmp, `input_${size}.raw`);
  const outFile = path.join(tmp, `skimage_${size}.raw`);
  try {
    const line = execFileSync(
      python,
      [path.join(repoRoot, 'benchmarks', 'median_skimage.py'), raw, String(size), String(size), 'uint16', String(RADIUS), String(repeat), outFile],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    const buf = fs.readFileSync(outFile);
    return { seconds: JSON.parse(line).seconds, out: new Uint16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) };
  } catch (err) {
    console.warn(`scikit-image reference unavailable (${(err as Error).message.split('\n')[0]}); reporting ours only`);
    return undefined;
  }
}

const rows: Row[] = [];
const backends: Kernels[] = [];
for (const name of ['native', 'wasm'] as const) {
  try {
    backends.push(kernels(name));
  } catch (err) {
    console.warn(`${name} backend unavailable: ${(err as Error).message.split('\n')[0]}`);
  }
}

for (const size of sizes) {
  const data = makeInput(size);
  const image = { data, width: size, height: size };
  const repeat = size >= 4096 ? 2 : 3;
  const ref = skimageMedian(size, size >= 4096 ? 1 : 2);
  const row: Row = { case: `median disk(${RADIUS}) uint16 ${size}²`, seconds: {} };
  let nativeOut: Uint16Array | undefined;
  for (const k of backends) {
    const { seconds, result } = bestOf(repeat, () => k.medianFilter(image, RADIUS));
    row.seconds[k.backendName] = seconds;
    if (k.backendName === 'native') nativeOut = result.data;
    if (ref && firstBitDifference(result.data, ref.out) !== -1) throw new Error(`${k.backendName} differs from scikit-image at ${size}²`);
    if (nativeOut && k.backendName === 'wasm' && firstBitDifference(result.data, nativeOut) !== -1) {
      throw new Error(`wasm differs from native at ${size}²`);
    }
  }
  if (ref) row.seconds['scikit-image'] = ref.seconds;
  rows.push(row);
  console.log(`${row.case}: ${Object.entries(row.seconds).map(([k, v]) => `${k} ${(v * 1000).toFixed(0)} ms`).join(', ')}`);
}

fs.rmSync(tmp, { recursive: true, force: true });
writeResults('median', rows, {
  reference: 'scikit-image',
  notes: [
    `input: ${path.relative(repoRoot, source)} tiled to size, uint16; outputs of all backends verified bit-identical to scikit-image`,
    'ratios are from this one run (same machine, same input); speedup = reference time / ours',
  ],
});
