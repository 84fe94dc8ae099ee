/**
 * `scseg segment` sharded, as a user runs it: chosen by --shard-size, stopped with SIGINT and killed with SIGKILL
 * mid-run and started again (finished shards reused, not redone; the result identical to an uninterrupted run; the
 * earlier results in the folder untouched until then), and a cache of other arguments refused unless --overwrite.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOLD_BEFORE_COMMIT_ENV } from '../../lib/cli/run-context.js';
import { SHARD_FAULT_EXIT_ENV } from '../../lib/segmentation/shard-tasks.js';
import { cliCommand, scseg, snapshot, tiledExample } from '../helpers/cli.js';
import { exampleData, repoRoot } from '../helpers/fixtures.js';
import { readLabelsH5, samePartition } from '../helpers/labels.js';

const config = path.join(exampleData, 'config_example3.yml');
const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-sharded-'));
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';
const base = ['segment', '-c', config, '-w', 'WGASegmentation', '-i', ...inputs, '-b', backend];
// 16 shards of ≤ 120² (on the 4-px median_step grid), overlap 100.
const sharding = ['--shard-size', '14400', '--overlap', '100'];

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function shardFiles(cache: string): string[] {
  return fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => /^shard-\d+\.bin$/.test(f)).sort() : [];
}

describe(`scseg segment, sharded [${backend}]`, () => {
  it('shards when --shard-size is below the image size, with the in-memory run\'s partition', () => {
    const whole = path.join(tmp, 'whole');
    expect(scseg([...base, '-q', '-o', whole]).status).toBe(0);
    const out = path.join(tmp, 'sharded');
    const r = scseg([...base, ...sharding, '--threads', '2', '-o', out]);
    expect(r.stderr).toMatch(/16 shards/);
    expect(r.status).toBe(0);
    return Promise.all([readLabelsH5(path.join(whole, 'segmentation.h5')), readLabelsH5(path.join(out, 'segmentation.h5'))]).then(([a, b]) => {
      const ids = new Map<number, number>();
      a.masks.forEach((m, i) => expect(samePartition(m, b.masks[i], ids).mismatches).toBe(0));
    });
  });

  it('stops on SIGINT (exit 130) and after SIGKILL; the same command resumes: finished shards reused, not redone, result identical', async () => {
    // Example 3 tiled 3×3 (1200², one .npy): shards slow enough to be stopped among.
    const big = await tiledExample(path.join(tmp, 'tiled.npy'), 3);
    const args = ['segment', '-c', config, '-w', 'WGASegmentation', '-i', big, '-b', backend,
      '--shard-size', String(300 * 300), '--overlap', '100', '--threads', '1', '--keep-cache', '--overwrite'];
    const reference = path.join(tmp, 'tiled-reference');
    expect(scseg([...args, '-q', '-o', reference]).status).toBe(0);
    const expected = (await readLabelsH5(path.join(reference, 'segmentation.h5'))).masks;
    // The folder holds an earlier run's results (with --overwrite they are replaced, but only at the very end).
    const out = path.join(tmp, 'killed');
    expect(scseg([...base, '-q', '--format', 'zarr', '-o', out]).status).toBe(0);
    const earlier = snapshot(out);
    const cache = path.join(out, '.scseg-cache');
    const results = () => Object.fromEntries(Object.entries(snapshot(out)).filter(([f]) => !f.startsWith('.scseg-')));
    args.push('-o', out);

    /** Starts the CLI, waits until `shards` shard files exist, sends `signal`; resolves with exit code and stderr. */
    const stopAt = async (shards: number, signal: NodeJS.Signals) => {
      const child = spawn(process.execPath, cliCommand(args), {
        cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      let exited = false;
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
      const deadline = Date.now() + 120_000;
      while (shardFiles(cache).length < shards && Date.now() < deadline && !exited) await new Promise((r) => setTimeout(r, 20));
      child.kill(signal);
      return { code: await exit, stderr };
    };

    const interrupted = await stopAt(2, 'SIGINT');
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/shards are finished and kept in .*the same command continues from there/);
    const afterInterrupt = shardFiles(cache).length;
    expect(afterInterrupt).toBeGreaterThanOrEqual(2);
    // The earlier results as they were; beside them only the cache (no staging folder, lock or temporary).
    expect(results()).toEqual(earlier);
    expect(fs.readdirSync(out).filter((f) => f.startsWith('.'))).toEqual(['.scseg-cache']);

    const killed = await stopAt(afterInterrupt + 2, 'SIGKILL');
    expect(killed.stderr).toContain(`resuming from ${cache}: ${afterInterrupt} of 16 shards already done`);
    const before = shardFiles(cache);
    expect(before.length).toBeGreaterThanOrEqual(afterInterrupt + 2);
    expect(before.length).toBeLessThan(16);
    expect(results()).toEqual(earlier); // SIGKILL too: the swap had not begun
    const stamps = new Map(before.map((f) => [f, fs.statSync(path.join(cache, f)).mtimeMs]));

    const r = scseg(args);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${before.length} of 16 shards already done`);
    for (const [f, t] of stamps) expect(fs.statSync(path.join(cache, f)).mtimeMs).toBe(t);
    expect(shardFiles(cache)).toHaveLength(16);
    // The earlier run's OME-Zarr labels and QC overlay are gone; the killed run's staging folder too.
    expect(fs.readdirSync(out).sort()).toEqual(['.scseg-cache', 'classes.csv', 'run.json', 'segmentation.h5']);
    expect(fs.readdirSync(cache).filter((f) => f.startsWith('.'))).toEqual([]); // no half-written shard either
    const { masks } = await readLabelsH5(path.join(out, 'segmentation.h5'));
    // Ids are numbered by shard, so an identical run gives identical masks, ids included.
    masks.forEach((m, i) => expect(Buffer.compare(Buffer.from(m.buffer), Buffer.from(expected[i].buffer))).toBe(0));
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ segmentation: 'ShardedSegmentation', backend, threads: { workers: 1 } });
    expect(run.options).toMatchObject({ shardSize: 90000, overlap: 100, shards: 16, reusedShards: before.length, cache: '.scseg-cache', keepCache: true });
    expect(run.cells).toBe(fs.readFileSync(path.join(out, 'classes.csv'), 'utf8').split('\n').filter(Boolean).length);
    expect(run.cells).toBe(new Set(masks[0]).size - 1);
  }, 300_000);

  it('stopped after stitching, before the swap: every shard is still cached and the same command only stitches', async () => {
    const out = path.join(tmp, 'stitched-then-stopped');
    const args = [...base, ...sharding, '--threads', '2', '-o', out];
    const child = spawn(process.execPath, cliCommand(args), {
      cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '', [HOLD_BEFORE_COMMIT_ENV]: '1' }, stdio: ['ignore', 'ignore', 'ignore'],
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const staged = () => fs.existsSync(out) && fs.readdirSync(out).some((f) => f.startsWith('.scseg-staging-') && fs.existsSync(path.join(out, f, 'run.json')));
    for (const deadline = Date.now() + 120_000; !staged() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    expect(fs.readdirSync(out)).toEqual(['.scseg-cache']);
    expect(shardFiles(path.join(out, '.scseg-cache'))).toHaveLength(16);
    const r = scseg(args);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('16 of 16 shards already done');
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'run.json', 'segmentation.h5']); // cache removed after the swap
  });

  it('a worker that dies fails its shard only, named, with the others kept; the same command then completes', () => {
    const out = path.join(tmp, 'crashed');
    const args = [...base, ...sharding, '--threads', '2', '--keep-cache', '-o', out];
    const r = scseg(args, { [SHARD_FAULT_EXIT_ENV]: '5' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/shard 6 of 16 \(x 120–240, y 120–240\): the worker running it died/);
    expect(r.stderr).toContain('15 of 16 shards are finished and kept in');
    expect(fs.existsSync(path.join(out, 'segmentation.h5'))).toBe(false);
    const again = scseg(args);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('15 of 16 shards already done');
  });

  it('refuses a cache of a run with other arguments, and --overwrite discards it', () => {
    const cache = path.join(tmp, 'shared-cache');
    expect(scseg([...base, ...sharding, '-q', '--keep-cache', '--cache', cache, '-o', path.join(tmp, 'other-1')]).status).toBe(0);
    const out = path.join(tmp, 'other-2');
    const r = scseg([...base, '--shard-size', '14400', '--overlap', '104', '-q', '--cache', cache, '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/differs in: overlap.*--overwrite/);
    expect(fs.existsSync(out)).toBe(false); // the folder this run created is gone again
    const again = scseg([...base, '--shard-size', '14400', '--overlap', '104', '-q', '--overwrite', '--cache', cache, '-o', out]);
    expect(again.status).toBe(0);
    expect(fs.existsSync(cache)).toBe(false);
  });
});
