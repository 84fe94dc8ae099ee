/**
 * The indexed recipe (no Redis): `scseg segment … --plan-only`, `scseg shard --index I` per shard — in any order,
 * duplicated, with the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID — and `scseg stitch` give the
 * single-machine sharded run's result: the same masks, ids included, pixel for pixel.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scseg } from '../helpers/cli.js';
import { exampleData } from '../helpers/fixtures.js';
import { readLabelsH5 } from '../helpers/labels.js';
import { shardFiles } from './helpers.js';

const config = path.join(exampleData, 'config_example3.yml');
const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-indexed-'));
// 16 shards of ≤ 120² (example 3 is 400²), overlap 100, as test/cli/sharded.test.ts.
const args = ['segment', '-c', config, '-w', 'WGASegmentation', '-i', ...inputs, '-b', backend, '--shard-size', '14400', '--overlap', '100', '-q'];

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe(`scseg shard / stitch from a plan [${backend}]`, () => {
  it('gives the single-machine sharded result, ids included; shards run in any order, twice, indexed by the scheduler', async () => {
    const local = path.join(tmp, 'local');
    expect(scseg([...args, '--threads', '2', '-o', local]).status).toBe(0);

    const out = path.join(tmp, 'indexed');
    const plan = path.join(tmp, 'plan.json');
    const planned = scseg([...args, '--threads', '2', '-o', out, '--plan-only', plan]);
    expect(planned.stderr).toBe('');
    expect(planned.status).toBe(0);
    const cache = path.join(out, '.scseg-cache');
    expect(fs.existsSync(path.join(cache, 'globals.v8'))).toBe(true);
    expect(shardFiles(cache)).toEqual([]);
    expect(fs.readdirSync(out)).toEqual(['.scseg-cache']); // nothing but the cache until the stitch

    // Stitching before every shard is done: exit 2, naming what is missing, nothing written.
    const early = scseg(['stitch', '--plan', plan, '-q']);
    expect(early.status).toBe(2);
    expect(early.stderr).toMatch(/16 of 16 shards are not finished \(0, 1, 2/);

    const order = [15, 3, 8, 0, 12, 1, 7, 14, 2, 9, 4, 13, 6, 10, 11];
    for (const i of order) expect(scseg(['shard', '--plan', plan, '--index', String(i), '-q']).status).toBe(0);
    expect(scseg(['shard', '--plan', plan, '-q'], { JOB_COMPLETION_INDEX: '5' }).status).toBe(0);
    const stamp = fs.statSync(path.join(cache, 'shard-000005.bin')).mtimeMs;
    // Slurm's index; a duplicate of a finished shard is not run again.
    const again = scseg(['shard', '--plan', plan], { SLURM_ARRAY_TASK_ID: '5' });
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/shard 5: already done/);
    expect(fs.statSync(path.join(cache, 'shard-000005.bin')).mtimeMs).toBe(stamp);

    const stitched = scseg(['stitch', '--plan', plan]);
    expect(stitched.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'run.json', 'segmentation.h5']); // cache removed
    const [a, b] = await Promise.all([readLabelsH5(path.join(local, 'segmentation.h5')), readLabelsH5(path.join(out, 'segmentation.h5'))]);
    expect(b.masks).toHaveLength(2);
    a.masks.forEach((m, i) => expect(Buffer.compare(Buffer.from(m.buffer), Buffer.from(b.masks[i].buffer))).toBe(0));
    expect(fs.readFileSync(path.join(out, 'classes.csv'), 'utf8')).toBe(fs.readFileSync(path.join(local, 'classes.csv'), 'utf8'));
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ segmentation: 'ShardedSegmentation', workflow: 'WGASegmentation', cells: JSON.parse(fs.readFileSync(path.join(local, 'run.json'), 'utf8')).cells });
    expect(run.options).toMatchObject({ distributed: 'indexed', shards: 16, shardSize: 14400, overlap: 100 });
    expect(run.options.runId).toMatch(/^[0-9a-z]+-[0-9a-f]{8}$/);

    // Stitching again: the folder already holds this plan's results.
    const twice = scseg(['stitch', '--plan', plan]);
    expect(twice.status).toBe(0);
    expect(twice.stderr).toMatch(/already holds this plan's results/);
  }, 120_000);

  it('refuses a bad index, a missing index and a file that is not a plan (exit 2, one line each)', () => {
    const plan = path.join(tmp, 'plan2.json');
    expect(scseg([...args, '-o', path.join(tmp, 'other'), '--plan-only', plan]).status).toBe(0);
    const env = { JOB_COMPLETION_INDEX: undefined, SLURM_ARRAY_TASK_ID: undefined } as unknown as NodeJS.ProcessEnv;
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--index', '16'], env, /--index "16": the plan has shards 0 to 15/],
      [['--index', '-1'], env, /the plan has shards 0 to 15/],
      [[], { JOB_COMPLETION_INDEX: 'x' }, /JOB_COMPLETION_INDEX "x"/],
      [[], env, /no shard index: pass --index I/],
    ];
    for (const [extra, e, message] of cases) {
      const r = scseg(['shard', '--plan', plan, '-q', ...extra], e);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const notPlan = scseg(['shard', '--plan', config, '--index', '0']);
    expect(notPlan.status).toBe(2);
    expect(notPlan.stderr).toMatch(/not JSON|not a scseg shard plan/);
    const unsharded = scseg(['segment', '-c', config, '-w', 'WGASegmentation', '-i', ...inputs, '-o', path.join(tmp, 'x'), '--plan-only', path.join(tmp, 'p3.json')]);
    expect(unsharded.status).toBe(2);
    expect(unsharded.stderr).toMatch(/give --shard-size/);
  }, 60_000);
});
