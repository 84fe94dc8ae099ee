/**
 * The bad-input catalogue through the CLI: `scseg segment` exits 2 with one message naming what is wrong (no
 * HDF5 diagnostics, no stack), and the output directory is left as it was. The runs are spawned a few at a time
 * up front (the wrong-typed config keys of a group in one run); each test then checks its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliRun } from '../helpers/cli.js';
import { CASES, CONFIG3, configCaseInput, editedConfig, type CaseRun } from './cases.js';
import { fragments, outputState, seedPrevious } from './expect.js';
import { pooled, scsegAsync } from './spawn.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-bad-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Prepared { run: CaseRun; dir: string; output: string }
interface Outcome extends Prepared { cli: CliRun }
const outcomes: Outcome[] = [];

beforeAll(async () => {
  const prepared: Prepared[] = [];
  const groups = new Map<string, Prepared>();
  for (const [i, c] of CASES.entries()) {
    const edit = c.configEdit;
    if (edit && groups.has(edit.group)) {
      prepared.push(groups.get(edit.group)!);
      continue;
    }
    const dir = path.join(tmp, String(i));
    fs.mkdirSync(dir);
    let run: CaseRun;
    if (edit) {
      const edits = CASES.flatMap((o) => (o.configEdit?.group === edit.group ? [o.configEdit] : []));
      run = { input: [configCaseInput(dir)], config: editedConfig(dir, edit.workflow, edits), workflow: edit.workflow };
    } else {
      run = await c.setup(dir);
    }
    const p = { run, dir, output: run.output ?? path.join(dir, 'out') };
    seedPrevious(p.output, c.previous);
    if (edit) groups.set(edit.group, p);
    prepared.push(p);
  }
  const runs = [...new Set(prepared)];
  const results = await pooled(runs.map(({ run, output }) => () => scsegAsync([
    'segment', '-q', '-c', run.config ?? CONFIG3, '-w', run.workflow ?? 'DAPISegmentation', '-i', ...run.input, '-o', output,
  ])), 3);
  for (const p of prepared) outcomes.push({ ...p, cli: results[runs.indexOf(p)] });
}, 240_000);

describe('bad input through the CLI', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const { run, dir, output, cli } = outcomes[i];
    expect(cli.stderr).not.toMatch(/HDF5-DIAG|\n\s+at /);
    const lines = cli.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^scseg: /);
    for (const f of fragments(c.message(dir, run))) expect(cli.stderr).toMatch(f);
    if (!c.configEdit) expect(lines).toHaveLength(c.lines ?? 1);
    expect(cli.status).toBe(2);
    expect(outputState(output)).toEqual(c.previous ?? {});
  });
});
