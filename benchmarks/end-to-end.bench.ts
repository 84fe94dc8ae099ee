/**
 * End-to-end benchmark: what a user waits for. The whole `scseg segment` process (start-up to exit, as a user runs
 * it) on a 2048² two-channel image, WGA and DAPI, native and WASM, against the original scPortrait on the same
 * image (in-process, after its numba warm-up: `run_original.py`), plus `scseg --version`, peak RSS, where our time
 * goes (run.json's stages), h5py writing the same segmentation.h5 layout, and the masks' agreement (ARI, F1).
 * Writes benchmarks/results/end-to-end.json and end-to-end.md.
 *
 *   SCPORTRAIT_SRC=/path/to/scPortrait npm run bench:e2e     (without it: ours only, with a notice)
 *   SCSEG_BENCH_E2E_SIZE=2048   image side          SCSEG_BENCH_REPEAT=3   runs per case (best is kept)
 *   SCSEG_BENCH_E2E_INPUT=dir   a folder with ch1.tif (nucleus) + ch2.tif (WGA) instead of the tiled example 3
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/helpers/fixtures.js';
import { readLabelsH5 } from '../test/helpers/labels.js';
import { adjustedRandIndex, cellCount, f1AtIoU, readMasks } from './python-original/metrics.js';

const python = process.env.SCSEG_PYTHON ?? '/usr/bin/python3';
const size = Number(process.env.SCSEG_BENCH_E2E_SIZE ?? 2048);
const repeat = Number(process.env.SCSEG_BENCH_REPEAT ?? 3);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-e2e-'));
const cli = path.join(repoRoot, 'dist', 'lib', 'cli', 'main.js');
const config = path.join(repoRoot, 'data', 'example3', 'config_example3.yml');
const workflows = ['WGASegmentation', 'DAPISegmentation'] as const;
const backends = ['native', 'wasm'] as const;

interface Run {
  wall: number;
  /** Peak resident set of the process, MB (null when it could not be read). */
  rssMB: number | null;
  stages: Record<string, number>;
  out: string;
}

/** Peak RSS of a child: /usr/bin/time's %M when present, else VmHWM polled from /proc until it exits. */
function runProcess(argv: string[]): Promise<{ wall: number; rssMB: number | null; status: number | null; stderr: string }> {
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const rssFile = path.join(tmp, 'rss.txt');
  const [cmd, args] = timeBin ? [timeBin, ['-f', '%M', '-o', rssFile, ...argv]] : [argv[0], argv.slice(1)];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let hwm = 0;
    const poll = timeBin ? undefined : setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch {
        // gone already
      }
    }, 10);
    child.on('error', reject);
    child.on('exit', (status) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      const kb = timeBin ? Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : hwm;
      resolve({ wall, rssMB: kb > 0 ? kb / 1024 : null, status, stderr });
    });
  });
}

async function segment(workflow: string, backend: string, inputs: string[], out: string): Promise<Run> {
  const argv = [process.execPath, cli, 'segment', '-w', workflow, '-c', config, ...inputs.flatMap((f) => ['-i', f]),
    '-o', out, '--backend', backend, '--quiet', '--overwrite'];
  const r = await runProcess(argv);
  if (r.status !== 0) throw new Error(`scseg segment ${workflow} --backend ${backend} exited ${r.status}: ${r.stderr}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { seconds: Record<string, number> };
  return { wall: r.wall, rssMB: r.rssMB, stages: manifest.seconds, out };
}

async function best(n: number, fn: () => Promise<Run>): Promise<Run> {
  let top: Run | undefined;
  for (let i = 0; i < n; i++) {
    const r = await fn();
    if (!top || r.wall < top.wall) top = r;
  }
  return top!;
}

/** run.json's stages grouped: reading, the workflow's steps (kernels and the TypeScript around them), writing. */
function split(stages: Record<string, number>): { read: number; workflow: number; write: number; inside: number } {
  let read = 0;
  let workflow = 0;
  let write = 0;
  for (const [k, v] of Object.entries(stages)) {
    if (k === 'total') continue;
    if (k === 'read') read += v;
    else if (k.startsWith('write ')) write = Math.max(write, v); // the files are written concurrently
    else workflow += v;
  }
  return { read, workflow, write, inside: stages.total };
}

function original(workflow: string, inputs: string[]): { seconds: number; masks: Uint32Array[] } | undefined {
  if (!process.env.SCPORTRAIT_SRC) return undefined;
  const out = path.join(tmp, `original-${workflow}`);
  execFileSync(python, [
    path.join(repoRoot, 'benchmarks', 'python-original', 'run_original.py'), '--workflow', workflow, '--config', config,
    ...inputs.flatMap((f) => ['--input', f]), '--out', out, '--repeat', String(Math.max(1, repeat - 1)),
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const result = JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8')) as { seconds: number };
  return { seconds: result.seconds, masks: readMasks(path.join(out, 'masks.npy')).masks };
}

/** h5py writing our masks in segmentation.h5's layout (uint64 `labels`, chunks (1, c, c)): best of `repeat`. */
function h5pySeconds(h5: string, chunk: number): number | undefined {
  const script = `
import sys, time, h5py, numpy as np
with h5py.File(sys.argv[1], 'r') as f: a = f['labels'][()]
best = 1e9
for _ in range(${repeat}):
    t = time.perf_counter()
    with h5py.File(sys.argv[2], 'w') as f: f.create_dataset('labels', data=a, chunks=(1, ${chunk}, ${chunk}))
    best = min(best, time.perf_counter() - t)
print(best)`;
  try {
    return Number(execFileSync(python, ['-c', script, h5, path.join(tmp, 'h5py.h5')], { encoding: 'utf8' }).trim());
  } catch (err) {
    console.warn(`h5py unavailable (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

async function versionSeconds(): Promise<number> {
  let top = Infinity;
  for (let i = 0; i < 5; i++) top = Math.min(top, (await runProcess([process.execPath, cli, '--version'])).wall);
  return top;
}

const f = (x: number | undefined | null, digits = 2) => (x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(digits));

async function main(): Promise<void> {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build:ts first`);
  let inputDir = process.env.SCSEG_BENCH_E2E_INPUT;
  if (!inputDir) {
    inputDir = path.join(tmp, `wga_${size}`);
    execFileSync(python, [path.join(repoRoot, 'scripts', 'images', 'make_large_image.py'), inputDir, '--size', String(size)], { stdio: 'ignore' });
  }
  const inputs = ['ch1.tif', 'ch2.tif'].map((n) => path.join(inputDir!, n));
  if (!process.env.SCPORTRAIT_SRC) console.warn('SCPORTRAIT_SRC is not set: the original scPortrait is not run (ours only).');

  const version = await versionSeconds();
  console.log(`scseg --version: ${(version * 1000).toFixed(0)} ms`);
  const rows = [];
  for (const workflow of workflows) {
    const runs: Partial<Record<(typeof backends)[number], Run>> = {};
    for (const backend of backends) {
      const out = path.join(tmp, `${workflow}-${backend}`);
      runs[backend] = await best(repeat, () => segment(workflow, backend, inputs, out));
      console.log(`${workflow} ${backend}: ${runs[backend]!.wall.toFixed(2)} s, ${f(runs[backend]!.rssMB, 0)} MB`);
    }
    const ours = await readLabelsH5(path.join(runs.native!.out, 'segmentation.h5'));
    const wasmMasks = await readLabelsH5(path.join(runs.wasm!.out, 'segmentation.h5'));
    const identical = ours.masks.every((m, i) => Buffer.from(m.buffer).equals(Buffer.from(wasmMasks.masks[i].buffer)));
    const orig = original(workflow, inputs);
    const agreement = orig
      ? ours.masks.map((m, i) => ({ ari: adjustedRandIndex(orig.masks[i], m), f1: f1AtIoU(orig.masks[i], m).f1 }))
      : undefined;
    const h5py = h5pySeconds(path.join(runs.native!.out, 'segmentation.h5'), 50);
    const native = runs.native!;
    const wasm = runs.wasm!;
    rows.push({
      workflow,
      cells: cellCount(ours.masks[0]),
      originalSeconds: orig?.seconds,
      native: { wall: native.wall, rssMB: native.rssMB, ...split(native.stages), stages: native.stages },
      wasm: { wall: wasm.wall, rssMB: wasm.rssMB, ...split(wasm.stages), stages: wasm.stages },
      nativeWasmIdentical: identical,
      agreement,
      h5: { ours: native.stages['write segmentation.h5'], h5py },
    });
  }

  const header = '| workflow | cells | original s | native CLI s | WASM CLI s | original / native CLI | original / WASM CLI | WASM / native | native: start-up+exit · read · workflow · write s | original / native workflow | peak RSS native · WASM MB | segmentation.h5: ours · h5py s | ARI · F1 vs original | native = WASM masks |';
  const lines = [header, `|${header.split('|').slice(1, -1).map(() => '---').join('|')}|`];
  for (const r of rows) {
    const o = r.originalSeconds;
    lines.push(`| ${[
      r.workflow, r.cells, f(o), f(r.native.wall), f(r.wasm.wall),
      o ? `${f(o / r.native.wall, 1)}×` : '—', o ? `${f(o / r.wasm.wall, 1)}×` : '—', f(r.wasm.wall / r.native.wall),
      `${f(r.native.wall - r.native.inside)} · ${f(r.native.read)} · ${f(r.native.workflow)} · ${f(r.native.write)}`,
      o ? `${f(o / r.native.workflow, 1)}×` : '—',
      `${f(r.native.rssMB, 0)} · ${f(r.wasm.rssMB, 0)}`, `${f(r.h5.ours, 3)} · ${f(r.h5.h5py, 3)}`,
      r.agreement ? r.agreement.map((a) => `${f(a.ari, 4)} · ${f(a.f1, 4)}`).join('; ') : '—',
      r.nativeWasmIdentical ? 'yes' : '**no**',
    ].join(' | ')} |`);
  }
  const md = [
    '# End to end: the whole `scseg segment` process vs the original scPortrait',
    '',
    `${new Date().toISOString()} — ${os.cpus()[0]?.model.trim()} × ${os.cpus().length}, node ${process.version}; ${size}² two-channel input (${process.env.SCSEG_BENCH_E2E_INPUT ?? 'example 3 tiled'}), best of ${repeat}`,
    '',
    ...lines,
    '',
    `- \`scseg --version\`: ${(version * 1000).toFixed(0)} ms (best of 5, whole process)`,
    '- ours: the whole CLI process, start-up to exit, writing segmentation.h5, classes.csv, qc_overlay.png and run.json; stages from run.json (the files are written concurrently: write = the longest)',
    '- original: scPortrait from SCPORTRAIT_SRC, in-process after a warm-up run (numba compiled), channel selection + `_execute_segmentation`, no file output',
    '- h5py: the same masks in the same layout (uint64 `labels`, chunks (1, 50, 50)) written by Debian\'s h5py, best of the repeats',
    '',
  ].join('\n');
  const dir = path.join(repoRoot, 'benchmarks', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'end-to-end.json'), `${JSON.stringify({ date: new Date().toISOString(), size, repeat, versionSeconds: version, rows }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'end-to-end.md'), md);
  console.log(md);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
