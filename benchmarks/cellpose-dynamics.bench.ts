/**
 * Cellpose dynamics benchmark: our cellposeMasksToFlows / cellposeMasks (native with 1 thread and with the default
 * budget, WASM) against Cellpose 3.1.1.3's own masks_to_flows / compute_masks (run side by side by
 * benchmarks/cellpose_dynamics.py) on a 2048² BBBC039 label image (1452 nuclei) whose flows are fed back as the
 * network's output. Checks that every result equals Cellpose's bit for bit, then writes
 * benchmarks/results/cellpose-dynamics.{json,md}.
 *
 *   CELLPOSE_SRC=/path/to/cellpose-3.1.1.3 PYTHONPATH=<fastremap/fill_voids stand-ins> \
 *       npx tsx benchmarks/cellpose-dynamics.bench.ts
 *   SCSEG_BENCH_SIZE=1024 …           another size;  SCSEG_PYTHON=…  the interpreter with torch (/usr/bin/python3)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kernels, type Kernels } from '../lib/kernels/index.js';
import { firstBitDifference, repoRoot } from '../test/helpers/fixtures.js';
import { bestOf, writeResults, type Row } from './report.js';

const size = Number(process.env.SCSEG_BENCH_SIZE ?? 2048);
const python = process.env.SCSEG_PYTHON ?? '/usr/bin/python3';
const repeat = 3;
if (!process.env.CELLPOSE_SRC) {
  // skipped, not failed: `npm run bench` runs on machines without a Cellpose checkout too
  console.warn('cellpose-dynamics benchmark skipped: CELLPOSE_SRC is not set (a Cellpose 3.1.1.3 source tree; see the header of this file)');
  process.exit(0);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cellpose-bench-'));
const line = execFileSync(python, [path.join(repoRoot, 'benchmarks', 'cellpose_dynamics.py'), tmp, String(size), String(repeat)], {
  encoding: 'utf8',
  maxBuffer: 1 << 20,
});
const cellpose = JSON.parse(line.trim().split('\n').pop()!) as { masks: number; seconds: Record<string, number>; torch: string };
const read = <T>(file: string, C: new (b: ArrayBuffer) => T): T => {
  const buf = fs.readFileSync(path.join(tmp, file));
  return new C(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};
const labels = { data: read('labels.u32', Uint32Array), width: size, height: size };
const theirFlows = read('flows.f32', Float32Array);
const dP = { data: read('dP.f32', Float32Array), width: size, height: size };
const cellprob = { data: read('cellprob.f32', Float32Array), width: size, height: size };
const theirMasks: Record<string, Uint32Array> = { '0.4': read('masks_0.4.u32', Uint32Array), '0': read('masks_0.u32', Uint32Array) };
fs.rmSync(tmp, { recursive: true, force: true });

const runs: [string, Kernels][] = [];
for (const name of ['native', 'wasm'] as const) {
  try {
    const k = kernels(name);
    if (name === 'native') runs.push(['native 1 thread', k.withThreads(1)]);
    runs.push([name === 'native' ? `native ${k.threads} threads` : 'wasm', k]);
  } catch (err) {
    console.warn(`${name} backend unavailable: ${(err as Error).message.split('\n')[0]}`);
  }
}

const rows: Row[] = [];
const flowsRow: Row = { case: `masks_to_flows ${size}² (${cellpose.masks} masks)`, seconds: { cellpose: cellpose.seconds.masks_to_flows } };
for (const [label, k] of runs) {
  const { seconds, result } = bestOf(repeat, () => k.cellposeMasksToFlows(labels));
  if (firstBitDifference(result.data, theirFlows) !== -1) throw new Error(`${label}: flows differ from Cellpose's`);
  flowsRow.seconds[label] = seconds;
}
rows.push(flowsRow);
for (const flowThreshold of [0.4, 0]) {
  const row: Row = {
    case: `compute_masks ${size}², niter 200, flow_threshold ${flowThreshold}`,
    seconds: { cellpose: cellpose.seconds[`compute_masks_${flowThreshold}`] },
  };
  for (const [label, k] of runs) {
    const { seconds, result } = bestOf(repeat, () => k.cellposeMasks(dP, cellprob, { niter: 200, flowThreshold }));
    if (firstBitDifference(result.data, theirMasks[String(flowThreshold)]) !== -1) throw new Error(`${label}: masks differ from Cellpose's`);
    row.seconds[label] = seconds;
  }
  rows.push(row);
}

writeResults('cellpose-dynamics', rows, {
  reference: 'cellpose',
  notes: [
    `input: ../shared/data/bbbc039 labels tiled to ${size}² (${cellpose.masks} masks), Cellpose's masks_to_flows fed back ` +
      '(dP = 5 × flows, cellprob ±5); Cellpose 3.1.1.3 on CPU (numba + torch ' + cellpose.torch + '), min_size 15',
    'every result of ours verified bit-identical to Cellpose\'s (flows as float32, masks label for label)',
    `best of ${repeat} runs each; ratios are from this one run (same machine, same input); speedup = Cellpose time / ours`,
  ],
});
