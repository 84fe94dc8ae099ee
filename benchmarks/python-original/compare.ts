/**
 * `npm run bench:original`: runs the ORIGINAL scPortrait (checkout given by SCPORTRAIT_SRC, Debian python3) and ours
 * (native and WASM) on every image of datasets.json plus a 2048² two-channel WGA image tiled from example 3, and
 * prints per image: cell counts, ARI and F1@IoU0.5 between the two label masks per mask, and the speed ratio.
 * Writes benchmarks/results/original.{json,md}.
 *
 *   SCPORTRAIT_SRC=/path/to/scPortrait npm run bench:original
 *   SCSEG_ORIGINAL_OUT=/tmp/orig   where the original's masks go (reused with SCSEG_ORIGINAL_REUSE=1)
 *   SCSEG_BENCH_ONLY=a,b           restrict to these dataset names
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../lib/config/index.js';
import type { WorkflowAlias } from '../../lib/config/types.js';
import { openImage } from '../../lib/io/index.js';
import { kernels, type BackendName } from '../../lib/kernels/index.js';
import { selectChannels } from '../../lib/segmentation/channels.js';
import { workflowFor } from '../../lib/workflows/index.js';
import { repoRoot } from '../../test/helpers/fixtures.js';
import { bestOfAsync } from '../report.js';
import { adjustedRandIndex, cellCount, f1AtIoU, readMasks } from './metrics.js';

interface Dataset {
  name: string;
  workflow: WorkflowAlias;
  inputs: string[];
  config: string;
}

const python = process.env.SCSEG_PYTHON ?? '/usr/bin/python3';
const here = path.join(repoRoot, 'benchmarks', 'python-original');
const outRoot = process.env.SCSEG_ORIGINAL_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-original-'));
const only = new Set((process.env.SCSEG_BENCH_ONLY ?? '').split(',').filter(Boolean));
/** The shared real images (../shared/data beside the checkout, or SCSEG_SHARED_DATA): most datasets are not committed. */
const sharedData = process.env.SCSEG_SHARED_DATA ?? path.resolve(repoRoot, '..', 'shared', 'data');
const resolve = (p: string) => (p.startsWith('$data/') ? path.join(sharedData, p.slice(6)) : path.resolve(repoRoot, p));

function datasets(): Dataset[] {
  const list = (JSON.parse(fs.readFileSync(path.join(here, 'datasets.json'), 'utf8')) as { datasets: Dataset[] }).datasets;
  const large = path.join(outRoot, 'inputs', 'wga_2048');
  if (!fs.existsSync(path.join(large, 'ch2.tif'))) {
    execFileSync(python, [path.join(repoRoot, 'scripts', 'images', 'make_large_image.py'), large, '--size', '2048'], { stdio: 'inherit' });
  }
  list.push({
    name: 'example3_tiled_2048',
    workflow: 'WGASegmentation',
    inputs: [path.join(large, 'ch1.tif'), path.join(large, 'ch2.tif')],
    config: '$data/scportrait_example3/config_example3.yml',
  });
  return list.filter((d) => only.size === 0 || only.has(d.name));
}

function runOriginal(list: Dataset[]): Map<string, { seconds: number; error?: string }> {
  const summary = path.join(outRoot, 'summary.json');
  if (!(process.env.SCSEG_ORIGINAL_REUSE === '1' && fs.existsSync(summary))) {
    if (!process.env.SCPORTRAIT_SRC) {
      console.error('SCPORTRAIT_SRC is not set: point it at a scPortrait source checkout to compare with the original.');
      process.exit(2);
    }
    const spec = path.join(outRoot, 'datasets.json');
    fs.writeFileSync(spec, JSON.stringify({ datasets: list.map((d) => ({ ...d, inputs: d.inputs.map((p) => (p.startsWith('$data/') ? p : path.resolve(repoRoot, p))) })) }));
    try {
      execFileSync(python, [path.join(here, 'run_all.py'), '--out-root', outRoot, '--datasets', spec, '--repeat', process.env.SCSEG_ORIGINAL_REPEAT ?? '1'], { stdio: 'inherit' });
    } catch {
      console.warn('the original failed on some datasets (see above); comparing the others');
    }
  }
  const entries = (JSON.parse(fs.readFileSync(summary, 'utf8')) as { datasets: { name: string; seconds?: number; error?: string }[] }).datasets;
  return new Map(entries.map((e) => [e.name, { seconds: e.seconds ?? NaN, error: e.error }]));
}

interface Row {
  dataset: string;
  workflow: string;
  mask: string;
  cells: Record<string, number>;
  ari: Record<string, number>;
  f1: Record<string, number>;
  seconds: Record<string, number>;
}

const list = datasets();
const original = runOriginal(list);
const rows: Row[] = [];
for (const d of list) {
  const orig = original.get(d.name);
  if (!orig || orig.error) {
    console.warn(`${d.name}: no original result (${orig?.error ?? 'missing'})`);
    continue;
  }
  const { config } = loadConfig({ path: resolve(d.config) }, d.workflow);
  const workflow = workflowFor(config.workflow);
  const masks = workflow.descriptor.masks;
  const src = await openImage(d.inputs.map(resolve));
  const stacks = await selectChannels(src, config, masks);
  await src.close();
  const ref = readMasks(path.join(outRoot, d.name, 'masks.npy'));
  const perMask = masks.map((mask, i) => ({
    dataset: d.name, workflow: config.workflow, mask,
    cells: { original: cellCount(ref.masks[i]) }, ari: {}, f1: {}, seconds: { original: orig.seconds },
  }) as Row);
  for (const backend of ['native', 'wasm'] as BackendName[]) {
    const k = kernels(backend);
    const repeat = Number(process.env.SCSEG_BENCH_REPEAT ?? 3);
    const { seconds, result } = await bestOfAsync(repeat, () => workflow.run({ kernels: k }, stacks, config));
    result.masks.forEach((m, i) => {
      const row = perMask[i];
      row.cells[backend] = cellCount(m.data);
      row.ari[backend] = adjustedRandIndex(ref.masks[i], m.data);
      row.f1[backend] = f1AtIoU(ref.masks[i], m.data, 0.5).f1;
      row.seconds[backend] = seconds;
    });
  }
  rows.push(...perMask);
  for (const r of perMask) {
    console.log(`${r.dataset} ${r.mask}: cells ${JSON.stringify(r.cells)} ARI ${JSON.stringify(r.ari)} F1 ${JSON.stringify(r.f1)} s ${JSON.stringify(r.seconds)}`);
  }
}

const f = (v: number | undefined, digits = 4) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));
const lines = [
  '| image | workflow | mask | cells original | cells native | cells wasm | ARI native | ARI wasm | F1@0.5 native | F1@0.5 wasm | original s | native s | wasm s | speed-up native | speed-up wasm |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.dataset} | ${r.workflow} | ${r.mask} | ${r.cells.original} | ${r.cells.native} | ${r.cells.wasm} | ${f(r.ari.native)} | ${f(r.ari.wasm)} | ${f(r.f1.native)} | ${f(r.f1.wasm)} | ${f(r.seconds.original, 3)} | ${f(r.seconds.native, 3)} | ${f(r.seconds.wasm, 3)} | ${f(r.seconds.original / r.seconds.native, 1)}× | ${f(r.seconds.original / r.seconds.wasm, 1)}× |`),
];
const md = [
  '# ours vs the original scPortrait',
  '',
  `${new Date().toISOString()} — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, node ${process.version}`,
  '',
  ...lines,
  '',
  '- original: scPortrait from SCPORTRAIT_SRC with Debian python3 (skimage 0.19.3 + stable peak sort, numba warmed up); time = its `_execute_segmentation`',
  '- ours: workflow time on channels already in memory, best of repeats; ARI over all pixels, F1 of one-to-one matches with IoU > 0.5',
  '',
].join('\n');
const dir = path.join(repoRoot, 'benchmarks', 'results');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'original.md'), md);
fs.writeFileSync(path.join(dir, 'original.json'), `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 1)}\n`);
console.log(`\n${md}`);
