/**
 * Distributed sharded segmentation on BullMQ: throughput against the number of `scseg worker` processes (1, 2, 3;
 * one job at a time each, one kernel thread per job) on this machine, beside the local sharded run (worker threads
 * in one process) on the same image, and the queue's cost per shard.
 *
 * Input: example 3 tiled n×n into one .npy (SCSEG_BENCH_TILES, default 5: 2000², 25 shards of 400², overlap 100),
 * WGA. Each distributed run is timed from `scseg segment … --distributed` starting to its exit (plan, queue, global
 * pass, shards, stitch, commit), with the workers already running (a warm cluster); the cases run round robin. The per-shard overhead is
 * measured by a run whose shard outputs already exist (the same run again, --keep-cache): every shard job is then a
 * queue round trip — Redis, the worker's sandboxed child, the output check — and nothing else.
 *
 *   npm run bench:distributed        (needs redis-server; started privately on a free port and stopped)
 *
 * Writes benchmarks/results/distributed.json and distributed.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tiledExample } from '../test/helpers/cli.js';
import { repoRoot } from '../test/helpers/fixtures.js';
import { readLabelsH5 } from '../test/helpers/labels.js';
import { redisAvailable, RedisServer, WorkerProcess } from '../test/distributed/helpers.js';

const tiles = Number(process.env.SCSEG_BENCH_TILES ?? 5);
const side = 400 * tiles;
const shardSide = 400;
const repeat = Number(process.env.SCSEG_BENCH_REPEAT ?? 3);
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';
const config = path.join(repoRoot, 'data', 'example3', 'config_example3.yml');
const cli = path.join(repoRoot, 'dist', 'lib', 'cli', 'main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-bench-distributed-'));

if (!redisAvailable) {
  console.log('bench:distributed skipped: redis-server is not installed (Debian: apt-get install redis-server)');
  process.exit(0);
}

console.log('compiling dist/ (tsc)');
execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(repoRoot, 'tsconfig.build.json')], { stdio: 'inherit' });
process.env.SCSEG_TEST_CLI = cli; // the workers start from dist/, as installed

const input = await tiledExample(path.join(dir, 'tiled.npy'), tiles);
const shards = tiles * tiles;
const sharding = ['--shard-size', String(shardSide * shardSide), '--overlap', '100'];
const base = ['segment', '-q', '-c', config, '-w', 'WGASegmentation', '-i', input, '-b', backend, ...sharding];

interface Row {
  case: string;
  processes: number;
  seconds: number;
  megapixelsPerSecond: number;
  shardsPerSecond: number;
}

function timed(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`scseg ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

const rows: Row[] = [];
const out = (name: string) => path.join(dir, `out-${name}`);
const redis = await RedisServer.start(`bench-${process.pid}`);

/** Runs `run` with `n` warm `scseg worker` processes (started, given a second to load, stopped afterwards). */
async function withWorkers<T>(n: number, run: () => T): Promise<T> {
  const workers = Array.from({ length: n }, () => WorkerProcess.start(['--redis', redis.url, '-b', backend, '--threads', '1', '--data-root', dir, '-q']));
  try {
    await new Promise((r) => setTimeout(r, 1000));
    return run();
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

interface Case {
  name: string;
  processes: number;
  run: (i: number) => Promise<number>;
}
const cases: Case[] = [
  ...[1, 2].map((t) => ({
    name: `local sharded, ${t} worker thread${t > 1 ? 's' : ''}`,
    processes: 1,
    run: async (i: number) => timed([...base, '--threads', String(t), '-o', out(`local-${t}-${i}`)]),
  })),
  ...[1, 2, 3].map((n) => ({
    name: `distributed, ${n} worker process${n > 1 ? 'es' : ''}`,
    processes: n,
    run: (i: number) => withWorkers(n, () => timed([...base, '-o', out(`dist-${n}-${i}`), '--distributed', '--redis', redis.url])),
  })),
];
let overhead: { seconds: number; stitchSeconds: number; perShardMs: number } | undefined;
let identical = true;
try {
  // Round robin, best of `repeat`: this machine's speed drifts (other work on its 2 cores), and drift then hits
  // every case alike.
  const seconds = cases.map(() => Infinity);
  for (let i = 0; i < repeat; i++) {
    for (const [k, c] of cases.entries()) {
      const t = await c.run(i);
      console.log(`${c.name}: ${t.toFixed(2)} s`);
      seconds[k] = Math.min(seconds[k], t);
    }
  }
  cases.forEach((c, k) => {
    rows.push({ case: c.name, processes: c.processes, seconds: seconds[k], megapixelsPerSecond: (side * side) / 1e6 / seconds[k], shardsPerSecond: shards / seconds[k] });
  });
  const reference = (await readLabelsH5(path.join(out('local-1-0'), 'segmentation.h5'))).masks;
  for (const n of [1, 2, 3]) {
    const masks = (await readLabelsH5(path.join(out(`dist-${n}-0`), 'segmentation.h5'))).masks;
    identical &&= masks.every((m, k) => Buffer.compare(Buffer.from(m.buffer), Buffer.from(reference[k].buffer)) === 0);
  }
  // The queue's own cost: the same run again over its kept cache — every shard job finds its output on disk.
  overhead = await withWorkers(1, () => {
    const o = out('overhead');
    timed([...base, '-o', o, '--distributed', '--redis', redis.url, '--keep-cache']);
    let best = { seconds: Infinity, stitchSeconds: 0 };
    for (let i = 0; i < repeat; i++) {
      const t = timed([...base, '-o', o, '--overwrite', '--distributed', '--redis', redis.url, '--keep-cache']);
      const stitchSeconds = JSON.parse(fs.readFileSync(path.join(o, 'run.json'), 'utf8')).seconds.stitch as number;
      if (t < best.seconds) best = { seconds: t, stitchSeconds };
    }
    return { ...best, perShardMs: ((best.seconds - best.stitchSeconds) / shards) * 1000 };
  });
  console.log(`all ${shards} shards already on disk: ${overhead.seconds.toFixed(2)} s (stitch ${overhead.stitchSeconds.toFixed(2)} s) → ${overhead.perShardMs.toFixed(0)} ms per shard`);
} finally {
  await redis.stop();
}

const local1 = rows[0];
const dist1 = rows.find((r) => r.case.startsWith('distributed, 1'))!;
const machine = `${os.cpus()[0]?.model.trim().split(' ').slice(0, 2).join(' ')} × ${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
const result = {
  date: new Date().toISOString(),
  machine,
  backend,
  image: `example 3 tiled ${tiles}×${tiles}: ${side}², 2 channels uint16 (.npy)`,
  shards,
  shardSide,
  overlap: 100,
  repeat,
  rows,
  overhead,
  overheadVsLocalPerShardMs: ((dist1.seconds - local1.seconds) / shards) * 1000,
  identicalToLocal: identical,
};
fs.mkdirSync(path.join(repoRoot, 'benchmarks', 'results'), { recursive: true });
fs.writeFileSync(path.join(repoRoot, 'benchmarks', 'results', 'distributed.json'), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  '# Distributed sharded segmentation (BullMQ) benchmark',
  '',
  `${result.date} — ${machine}, ${backend} backend`,
  '',
  `WGA (example 3 config) on ${result.image}; ${shards} shards of ≤ ${shardSide}², overlap 100 px. Wall time of the whole command (best of ${repeat}, the cases round robin); distributed: \`scseg worker\` processes already running, one job at a time each, 1 kernel thread per job.`,
  '',
  '| case | processes | wall | Mpx/s | shards/s |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.case} | ${r.processes} | ${r.seconds.toFixed(2)} s | ${r.megapixelsPerSecond.toFixed(2)} | ${r.shardsPerSecond.toFixed(2)} |`),
  '',
  `- Queue overhead per shard: ${overhead!.perShardMs.toFixed(0)} ms — a run whose ${shards} shard outputs are already on disk takes ${overhead!.seconds.toFixed(2)} s, of which the stitch ${overhead!.stitchSeconds.toFixed(2)} s (the rest, over ${shards} shards, includes the plan, the global job and the flow's bookkeeping, so it is an upper bound).`,
  `- Distributed (1 worker process) vs local (1 worker thread): ${(result.overheadVsLocalPerShardMs).toFixed(0)} ms more per shard.`,
  `- Masks of every distributed run identical to the local sharded run's, ids included: ${identical ? 'yes' : 'NO'}.`,
  '',
].join('\n');
fs.writeFileSync(path.join(repoRoot, 'benchmarks', 'results', 'distributed.md'), md);
console.log(md);
fs.rmSync(dir, { recursive: true, force: true });
if (!identical) process.exit(1);
