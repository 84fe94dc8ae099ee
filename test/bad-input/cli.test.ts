/**
 * The bad-input catalogue through the CLI: `scseg segment` exits 2 with one message naming what is wrong (no
 * HDF5 diagnostics, no stack), and the output directory is left as it was. The runs are spawned a few at a time
 * up front; each test then checks its own.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliCommand, type CliRun } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { CASES, CONFIG3, type CaseRun } from './cases.js';
import { fragments, outputState, seedPrevious } from './expect.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-bad-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The CLI in a child process, without blocking the test process (several run at once). */
export function scsegAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliCommand(args), { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs `jobs` with at most `limit` in flight. */
async function pooled<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  }));
  return out;
}

interface Outcome { run: CaseRun; dir: string; output: string; cli: CliRun }
const outcomes: Outcome[] = [];

beforeAll(async () => {
  const prepared = [];
  for (const [i, c] of CASES.entries()) {
    const dir = path.join(tmp, String(i));
    fs.mkdirSync(dir);
    const run = await c.setup(dir);
    const output = run.output ?? path.join(dir, 'out');
    seedPrevious(output, c.previous);
    prepared.push({ run, dir, output });
  }
  const results = await pooled(prepared.map(({ run, output }) => () => scsegAsync([
    'segment', '-q', '-c', run.config ?? CONFIG3, '-w', run.workflow ?? 'DAPISegmentation', '-i', ...run.input, '-o', output,
  ])), 3);
  prepared.forEach((p, i) => outcomes.push({ ...p, cli: results[i] }));
}, 240_000);

describe('bad input through the CLI', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const { run, dir, output, cli } = outcomes[i];
    expect(cli.stderr).not.toMatch(/HDF5-DIAG|\n\s+at /);
    const lines = cli.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^scseg: /);
    for (const f of fragments(c.message(dir, run))) expect(cli.stderr).toMatch(f);
    expect(lines).toHaveLength(c.lines ?? 1);
    expect(cli.status).toBe(2);
    expect(outputState(output)).toEqual(c.previous ?? {});
  });
});
