/**
 * Sharded segmentation at scale: a ≥ 20000² two-channel uint16 image built on disk (scripts/images/
 * make_large_image.py: example 3 tiled, 512² TIFF tiles) segmented with WGA by the CLI as a user runs it
 * (`node dist/lib/cli/main.js segment`, the whole process timed, peak RSS by /usr/bin/time), sharded over 2
 * workers; against the in-memory class on a 4096² crop of the same data (throughput in pixels/s), and the
 * sharded-vs-unsharded partition check on that crop.
 *
 *   npm run bench:sharded
 *   SCSEG_BENCH_SIZE=20000  SCSEG_BENCH_DIR=/tmp/scseg-bench  SCSEG_BENCH_SHARD=2048  SCSEG_BENCH_WORKERS=2
 *
 * Writes benchmarks/results/sharded.json and sharded.md. Images are kept in SCSEG_BENCH_DIR between runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/helpers/fixtures.js';
import { readLabelsH5, samePartition } from '../test/helpers/labels.js';

const size = Number(process.env.SCSEG_BENCH_SIZE ?? 20000);
const crop = Number(process.env.SCSEG_BENCH_CROP ?? 4096);
const shardSide = Number(process.env.SCSEG_BENCH_SHARD ?? 2048);
const workers = Number(process.env.SCSEG_BENCH_WORKERS ?? 2);
const overlap = Number(process.env.SCSEG_BENCH_OVERLAP ?? 200);
const dir = process.env.SCSEG_BENCH_DIR ?? path.join(os.tmpdir(), 'scseg-bench');
// The crop's runs are short and this machine's speed drifts by ±20 % between minutes: best of a few.
const repeat = Number(process.env.SCSEG_BENCH_REPEAT ?? 3);
const python = process.env.SCSEG_PYTHON ?? '/usr/bin/python3';
const config = path.join(repoRoot, 'data', 'example3', 'config_example3.yml');
const cli = path.join(repoRoot, 'dist', 'lib', 'cli', 'main.js');

function image(side: number): string[] {
  const out = path.join(dir, `wga-${side}`);
  const files = ['ch1.tif', 'ch2.tif'].map((f) => path.join(out, f));
  if (!files.every((f) => fs.existsSync(f))) {
    console.log(`building ${side}² two-channel image in ${out}`);
    execFileSync(python, [path.join(repoRoot, 'scripts', 'images', 'make_large_image.py'), out, '--size', String(side), '--tile', '512'], { stdio: 'inherit' });
  }
  return files;
}

interface Run {
  case: string;
  pixels: number;
  seconds: number;
  peakRssMB: number;
  pixelsPerSecond: number;
  output: string;
}

function fastest(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function segment(name: string, input: string[], side: number, extra: string[]): Run {
  const output = path.join(dir, `out-${name}`);
  fs.rmSync(output, { recursive: true, force: true });
  const args = [cli, 'segment', '-q', '-c', config, '-w', 'WGASegmentation', '-i', ...input, '-o', output, '--no-qc', ...extra];
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name}: scseg failed (${r.status}):\n${r.stderr}`);
  const [seconds, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const run = { case: name, pixels: side * side, seconds, peakRssMB: kb / 1024, pixelsPerSecond: (side * side) / seconds, output };
  console.log(`${name}: ${seconds.toFixed(1)} s, peak RSS ${(kb / 1024).toFixed(0)} MB, ${(run.pixelsPerSecond / 1e6).toFixed(2)} Mpx/s`);
  return run;
}

fs.mkdirSync(dir, { recursive: true });
console.log('compiling dist/ (tsc)');
execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(repoRoot, 'tsconfig.build.json')], { stdio: 'inherit' });
const sharding = ['--shard-size', String(shardSide * shardSide), '--overlap', String(overlap), '--threads', String(workers)];

const small = image(crop);
// Interleaved, so that drift hits both alike.
const pairs = Array.from({ length: repeat }, () => [segment(`in-memory-${crop}`, small, crop, []), segment(`sharded-${crop}`, small, crop, sharding)]);
const inMemory = fastest(pairs.map((p) => p[0]));
const shardedSmall = fastest(pairs.map((p) => p[1]));
const [a, b] = await Promise.all([
  readLabelsH5(path.join(inMemory.output, 'segmentation.h5')),
  readLabelsH5(path.join(shardedSmall.output, 'segmentation.h5')),
]);
const ids = new Map<number, number>();
const check = a.masks.map((m, i) => samePartition(m, b.masks[i], ids));
const big = image(size);
const shardedBig = segment(`sharded-${size}`, big, size, sharding);

const runs = [inMemory, shardedSmall, shardedBig];
const ratio = shardedBig.pixelsPerSecond / inMemory.pixelsPerSecond;
const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
const lines = [
  '| case | pixels | wall (whole CLI) | peak RSS | Mpx/s |',
  '|---|---|---|---|---|',
  ...runs.map((r) => `| ${r.case} | ${(r.pixels / 1e6).toFixed(1)} M | ${r.seconds.toFixed(1)} s | ${r.peakRssMB.toFixed(0)} MB | ${(r.pixelsPerSecond / 1e6).toFixed(2)} |`),
];
const notes = [
  `WGA (example 3 config), sharded: shards of ${shardSide}², overlap ${overlap} px, ${workers} workers; in memory: one process, default kernel threads. ${crop}² runs: best of ${repeat}, interleaved; ${size}²: one run.`,
  `Throughput, sharded ${size}² / in-memory ${crop}²: ${(ratio * 100).toFixed(0)} % (target ≥ 85 %).`,
  `Sharded ${crop}² vs in-memory ${crop}²: ${check.map((c, i) => `mask ${i}: ${c.cells} cells, ${c.mismatches} mismatched pixels`).join('; ')}.`,
];
const md = ['# Sharded segmentation benchmark', '', `${new Date().toISOString()} — ${machine}`, '', ...lines, '', ...notes.map((n) => `- ${n}`), ''].join('\n');
const results = path.join(repoRoot, 'benchmarks', 'results');
fs.mkdirSync(results, { recursive: true });
fs.writeFileSync(path.join(results, 'sharded.json'), `${JSON.stringify({ name: 'sharded', date: new Date().toISOString(), machine, runs, ratio, check, size, crop, shardSide, overlap, workers }, null, 1)}\n`);
fs.writeFileSync(path.join(results, 'sharded.md'), md);
console.log(`\n${md}`);
