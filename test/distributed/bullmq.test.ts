/**
 * `scseg segment … --distributed` on BullMQ with `scseg worker` processes and a private redis-server (with a
 * password), on example 3 tiled 3×3 (1200², 16 shards of 300²): the single-machine sharded result, ids included,
 * pixel for pixel — also with one of 3 workers killed (SIGKILL to its process group) mid-shard, and with Redis
 * killed and started empty mid-run (finished shards not redone). A crafted job naming paths outside the worker's
 * data roots is refused without retries; the password never appears in any output.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliCommand, scseg } from '../helpers/cli.js';
import { exampleData, repoRoot } from '../helpers/fixtures.js';
import { readLabelsH5 } from '../helpers/labels.js';
import { SHARD_FAULT_EXIT_ENV } from '../../lib/segmentation/shard-tasks.js';
import { describeIfRedis, RedisServer, shardFiles, sleep, until, WorkerProcess } from './helpers.js';

const config = path.join(exampleData, 'config_example3.yml');
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-bullmq-'));
const password = `pa:ss/w@rd-${process.pid}`;
const encoded = encodeURIComponent(password);
const sharding = ['--shard-size', String(300 * 300), '--overlap', '100'];

let redis: RedisServer;
let big: string;
let expected: Uint32Array[];
const workers: WorkerProcess[] = [];
/** Every output of every command and worker, checked for the password at the end. */
const outputs: string[] = [];

function startWorkers(n: number, extra: string[] = [], env: NodeJS.ProcessEnv = {}): WorkerProcess[] {
  const started = Array.from({ length: n }, () =>
    WorkerProcess.start(['--redis', redis.url, '-b', backend, '--threads', '1', '--lock-duration', '3000', ...extra, '--data-root', tmp], env),
  );
  workers.push(...started);
  return started;
}

async function stopWorkers(): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
  outputs.push(...workers.map((w) => w.log));
  workers.length = 0;
}

/**
 * scseg in the background (spawnSync would block this process's event loop, and with it the reading of the
 * workers' logs: a worker blocked on a full pipe never finishes the run being waited for).
 */
function scsegAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, cliCommand(args), { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => (outputs.push(stdout, stderr), resolve({ status, stdout, stderr }))));
}

/** `scseg segment … --distributed` in the background; resolves with its exit code and output. */
function segmentDistributed(out: string, extra: string[] = []): { done: Promise<{ code: number | null; stderr: string }> } {
  const args = ['segment', '-c', config, '-w', 'WGASegmentation', '-i', big, '-b', backend, ...sharding, '-o', out, '--distributed', '--redis', redis.url, ...extra];
  const child = spawn(process.execPath, cliCommand(args), { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return {
    done: new Promise((resolve) => child.on('exit', (code) => (clearTimeout(timer), outputs.push(stderr), resolve({ code, stderr })))),
  };
}

/**
 * Example 3 tiled 3×3 into one .npy, written by a plain Node process (test/helpers/cli.ts tiledExample): the
 * readers' lazily imported modules are not for jest's module registry to resolve.
 */
function tiledInput(file: string): string {
  const helper = pathToFileURL(path.join(repoRoot, 'test/helpers/cli.ts')).href;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `const m = await import(${JSON.stringify(helper)}); await m.tiledExample(${JSON.stringify(file)}, 3);`], {
    cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`writing ${file}: ${r.stderr}`);
  return file;
}

async function expectReference(out: string): Promise<void> {
  const { masks } = await readLabelsH5(path.join(out, 'segmentation.h5'));
  expect(masks).toHaveLength(expected.length);
  masks.forEach((m, i) => expect(Buffer.compare(Buffer.from(m.buffer), Buffer.from(expected[i].buffer))).toBe(0));
}

describeIfRedis(`scseg segment --distributed on BullMQ [${backend}]`, () => {
  beforeAll(async () => {
    redis = await RedisServer.start(password);
    // The inputs live under the workers' data root (tmp), as on a shared filesystem.
    big = tiledInput(path.join(tmp, 'tiled.npy'));
    const reference = path.join(tmp, 'reference');
    const r = scseg(['segment', '-c', config, '-w', 'WGASegmentation', '-i', big, '-b', backend, ...sharding, '--threads', '2', '-q', '-o', reference]);
    expect(r.status).toBe(0);
    expected = (await readLabelsH5(path.join(reference, 'segmentation.h5'))).masks;
  }, 60_000);

  afterEach(stopWorkers);

  afterAll(async () => {
    await stopWorkers();
    await redis?.stop();
    for (const text of outputs) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(encoded);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  it('3 workers, one killed with SIGKILL mid-shard: its shard is taken over, the result is the single-machine one', async () => {
    const pool = startWorkers(3);
    const out = path.join(tmp, 'killed');
    const run = segmentDistributed(out);
    // The third worker's first shard: kill it (and its job process) as soon as it has started.
    const victim = pool[2];
    await until(() => /shard \d+ started/.test(victim.log), 'the third worker to start a shard', 90_000);
    const shard = /shard (\d+) started/.exec(victim.log)![1];
    victim.killGroup();
    const finishedBeforeKill = fs.existsSync(path.join(out, '.scseg-cache', `shard-${shard.padStart(6, '0')}.bin`));
    expect(await victim.exited).toBeNull(); // killed by the signal
    const { code, stderr } = await run.done;
    expect(stderr).toMatch(/16 shards of 1200×1200 queued on redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
    expect(code).toBe(0);
    // Another worker ran (or found on disk) the killed worker's shard.
    expect(pool.slice(0, 2).map((w) => w.log).join('')).toMatch(new RegExp(`shard ${shard} (started|done)`));
    // Killed mid-shard: its output was not there yet, and the killed worker never reported it done.
    expect(finishedBeforeKill).toBe(false);
    expect(victim.log).not.toMatch(new RegExp(`shard ${shard} done`));
    await expectReference(out);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'run.json', 'segmentation.h5']);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(manifest.options).toMatchObject({ distributed: 'bullmq', shards: 16 });
  }, 150_000);

  it('Redis killed and started again empty mid-run: the run is queued again, finished shards are not redone, same result', async () => {
    startWorkers(1);
    const out = path.join(tmp, 'restarted');
    const cache = path.join(out, '.scseg-cache');
    const run = segmentDistributed(out, ['--keep-cache']);
    await until(() => shardFiles(cache).length >= 3, 'three finished shards', 90_000);
    await redis.down();
    const before = new Map(shardFiles(cache).map((f) => [f, fs.statSync(path.join(cache, f)).mtimeMs]));
    await sleep(500);
    await redis.up();
    const { code, stderr } = await run.done;
    expect(code).toBe(0);
    expect(stderr).toMatch(/Redis has no record of run [0-9a-z-]+ \(restarted without persistence\?\): queued again/);
    await expectReference(out);
    for (const [f, t] of before) expect(fs.statSync(path.join(cache, f)).mtimeMs).toBe(t);
    const log = workers[0].log;
    for (const f of before.keys()) {
      const i = Number(/\d+/.exec(f)![0]);
      expect(log).toMatch(new RegExp(`shard ${i} done \\(\\d+ cells, output already on disk: not redone\\)`));
    }
    expect(before.size).toBeGreaterThanOrEqual(3);
  }, 150_000);

  it('a job process that crashes fails that job only: retried with backoff, then the run fails naming the shard (exit 1); the worker lives on', async () => {
    // The shard task of shard 3 exits its process on the spot, as a native crash does (every attempt).
    const [faulty] = startWorkers(1, ['--data-root', exampleData], { [SHARD_FAULT_EXIT_ENV]: '3' });
    const out = path.join(tmp, 'crashing');
    const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
    const args = ['segment', '-c', config, '-w', 'WGASegmentation', '-i', ...inputs, '-b', backend, '--shard-size', '14400', '--overlap', '100', '-o', out, '--distributed', '--redis', redis.url];
    const r = await scsegAsync(args);
    expect(r.stderr).toMatch(/run [0-9a-z-]+: shard 3 failed: .*70/);
    expect(r.status).toBe(1);
    expect(faulty.log.match(/shard 3 failed, will be retried/g)).toHaveLength(2);
    expect(faulty.log).toMatch(/shard 15 done/); // the other shards ran on the same worker
    expect(faulty.child.exitCode).toBeNull();
    expect(fs.readdirSync(out)).toEqual(['.scseg-cache']); // no results: the stitch never ran
  }, 90_000);

  it('refuses a job whose plan names paths outside the data roots (no retry; exit 2 from scseg wait), and never prints the password', async () => {
    startWorkers(1);
    // A real plan (inside the data root) edited to read /etc/passwd through "..".
    const out = path.join(tmp, 'crafted');
    const planFile = path.join(tmp, 'crafted-plan.json');
    const planned = scseg(['segment', '-c', config, '-w', 'WGASegmentation', '-i', big, '-b', backend, ...sharding, '-q', '-o', out, '--plan-only', planFile]);
    expect(planned.status).toBe(0);
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    plan.input.paths = [path.join(tmp, '..', '..', 'etc', 'passwd')];
    fs.writeFileSync(planFile, JSON.stringify(plan));
    const { parseRedisUrl, redisClient } = await import('../../lib/distributed/redis.js');
    const { submitRun } = await import('../../lib/distributed/queue.js');
    const target = parseRedisUrl(redis.url);
    const client = await redisClient(target);
    try {
      await submitRun(target, client, 'scseg', planFile, plan);
    } finally {
      client.disconnect();
    }
    const waited = await scsegAsync(['wait', plan.id, '--redis', redis.url]);
    expect({ status: waited.status, stderr: waited.stderr }).toMatchObject({ status: 2 });
    expect(waited.stderr).toMatch(/the global pass failed: plan .*crafted-plan\.json: .*etc\/passwd is outside this worker's data roots/);
    const status = await scsegAsync(['status', plan.id, '--redis', redis.url]);
    expect(status.stdout).toMatch(/: failed\n/);
    await until(() => /the global pass failed/.test(workers[0].log), 'the worker to log the refusal', 10_000);
    expect(workers[0].log).not.toMatch(/will be retried/);
    expect(workers[0].log).toMatch(/redis:\/\/:\*\*\*@127\.0\.0\.1/);

    // A wrong password and an unreachable server: one line, exit 2, the password hidden.
    const wrong = scseg(['status', 'x1', '--redis', redis.url.replace(encoded, `${encoded}x`)]);
    const closed = scseg(['status', 'x1', '--redis', `redis://:${encoded}@127.0.0.1:1/0`]);
    outputs.push(wrong.stdout, wrong.stderr, closed.stdout, closed.stderr);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: .*WRONGPASS|invalid/i);
    expect(closed.status).toBe(2);
    expect(closed.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0/);
  }, 90_000);
});
