/**
 * `scseg segment` sharded, as a user runs it: chosen by --shard-size, stopped with SIGINT and killed with SIGKILL mid-run and started again
 * (finished shards reused, not redone; the result identical to an uninterrupted run), and a cache of other
 * arguments refused unless --overwrite.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHARD_FAULT_EXIT_ENV } from '../../lib/segmentation/shard-tasks.js';
import { cliCommand, scseg } from '../helpers/cli.js';
import { exampleData, readPlanes, repoRoot } from '../helpers/fixtures.js';
import { readLabelsH5, samePartition } from '../helpers/labels.js';

const config = path.join(exampleData, 'config_example3.yml');
const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-sharded-'));
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';
const base = ['segment', '-c', config, '-w', 'WGASegmentation', '-i', ...inputs, '-b', backend];
// 16 shards of ≤ 120² (on the 4-px median_step grid), overlap 100.
const sharding = ['--shard-size', '14400', '--overlap', '100'];

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The example's two channels tiled n×n into one (2, 400n, 400n) uint16 .npy. */
async function tiledNpy(file: string, n: number): Promise<string> {
  const planes = await readPlanes(inputs);
  const w = 400 * n;
  const data = new Uint16Array(2 * w * w);
  planes.forEach((p, c) => {
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) data[c * w * w + y * w + x] = p.data[(y % 400) * 400 + (x % 400)];
    }
  });
  let header = `{'descr': '<u2', 'fortran_order': False, 'shape': (2, ${w}, ${w}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.from('\x93NUMPY\x01\x00', 'latin1');
  const len = Buffer.alloc(2);
  len.writeUInt16LE(header.length);
  fs.writeFileSync(file, Buffer.concat([prefix, len, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
  return file;
}

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
    const big = await tiledNpy(path.join(tmp, 'tiled.npy'), 3);
    const args = ['segment', '-c', config, '-w', 'WGASegmentation', '-i', big, '-b', backend,
      '--shard-size', String(300 * 300), '--overlap', '100', '--threads', '1', '--keep-cache'];
    const reference = path.join(tmp, 'tiled-reference');
    expect(scseg([...args, '-q', '-o', reference]).status).toBe(0);
    const expected = (await readLabelsH5(path.join(reference, 'segmentation.h5'))).masks;
    const out = path.join(tmp, 'killed');
    const cache = path.join(out, '.scseg-cache');
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

    const killed = await stopAt(afterInterrupt + 2, 'SIGKILL');
    expect(killed.stderr).toContain(`resuming from ${cache}: ${afterInterrupt} of 16 shards already done`);
    const before = shardFiles(cache);
    expect(before.length).toBeGreaterThanOrEqual(afterInterrupt + 2);
    expect(before.length).toBeLessThan(16);
    expect(fs.readdirSync(cache).filter((f) => f.startsWith('.'))).toEqual([]); // no half-written shard under a final name either
    expect(fs.existsSync(path.join(out, 'segmentation.h5'))).toBe(false);
    const stamps = new Map(before.map((f) => [f, fs.statSync(path.join(cache, f)).mtimeMs]));

    const r = scseg(args);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${before.length} of 16 shards already done`);
    for (const [f, t] of stamps) expect(fs.statSync(path.join(cache, f)).mtimeMs).toBe(t);
    expect(shardFiles(cache)).toHaveLength(16);
    const { masks } = await readLabelsH5(path.join(out, 'segmentation.h5'));
    // Ids are numbered by shard, so an identical run gives identical masks, ids included.
    masks.forEach((m, i) => expect(Buffer.compare(Buffer.from(m.buffer), Buffer.from(expected[i].buffer))).toBe(0));
  }, 300_000);

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
    const out = path.join(tmp, 'other');
    expect(scseg([...base, ...sharding, '-q', '--keep-cache', '-o', out]).status).toBe(0);
    const r = scseg([...base, '--shard-size', '14400', '--overlap', '104', '-q', '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/differs in: overlap.*--overwrite/);
    const again = scseg([...base, '--shard-size', '14400', '--overlap', '104', '-q', '--overwrite', '-o', out]);
    expect(again.status).toBe(0);
    expect(fs.existsSync(path.join(out, '.scseg-cache'))).toBe(false);
  });
});
