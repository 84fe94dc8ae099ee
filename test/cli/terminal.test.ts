/**
 * `scseg segment` on a terminal (a pseudo-terminal through util-linux `script`): Ctrl-C mid-run and with every
 * result staged leaves the earlier results as they were, no temporary behind, exit 130 and the cursor and line
 * wrapping given back; two Ctrl-C in a row likewise; an error exits (the progress bar's timer once kept the
 * process alive) with the terminal restored.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOLD_BEFORE_COMMIT_ENV } from '../../lib/cli/run-context.js';
import { scseg, scsegPty, snapshot, terminalRestored, tiledExample } from '../helpers/cli.js';
import { exampleData } from '../helpers/fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-tty-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';
const config3 = path.join(exampleData, 'config_example3.yml');
const CTRL_C = '\x03';
const hidden = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('.'));

describe(`scseg segment on a terminal [${backend}]`, () => {
  const out = path.join(tmp, 'results');
  let big = '';
  let earlier: Record<string, string> = {};

  beforeAll(async () => {
    big = await tiledExample(path.join(tmp, 'tiled4.npy'), 4);
    const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
    // The earlier results: example 3 with OME-Zarr labels and a QC overlay.
    expect(scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', '-i', ...inputs, '-o', out, '-b', backend, '--format', 'zarr']).status).toBe(0);
    earlier = snapshot(out);
  });

  const rerun = ['segment', '-c', config3, '-w', 'WGASegmentation', '-b', backend, '--overwrite', '--format', 'zarr'];

  it('Ctrl-C while the kernels run: exit 130, the earlier results as they were, no temporary, the terminal restored', async () => {
    let typed = false;
    const r = await scsegPty([...rerun, '-i', big, '-o', out], {
      watch: (output, type) => {
        if (!typed && /segmenting with/.test(output)) {
          typed = true;
          type(CTRL_C);
        }
      },
    });
    expect(typed).toBe(true);
    expect(r.output).toMatch(/warning: SIGINT: stopping; .*results stays as it was \(press Ctrl-C again to stop at once\)/);
    expect(r.output).toContain(`scseg: interrupted (SIGINT); ${out} is as it was`);
    expect(r.status).toBe(130);
    expect(terminalRestored(r.output)).toBe(true);
    expect(snapshot(out)).toEqual(earlier);
    expect(hidden(out)).toEqual([]);
  });

  it('Ctrl-C with every new file staged, run.json included: the same', async () => {
    let typed = false;
    const r = await scsegPty([...rerun, '-i', path.join(exampleData, 'Ch2.tif'), path.join(exampleData, 'Ch3.tif'), '-o', out], {
      env: { [HOLD_BEFORE_COMMIT_ENV]: '1' },
      watch: (_output, type) => {
        const staging = fs.readdirSync(out).find((f) => f.startsWith('.scseg-staging-'));
        if (!typed && staging && fs.existsSync(path.join(out, staging, 'run.json'))) {
          typed = true;
          type(CTRL_C);
        }
      },
    });
    expect(typed).toBe(true);
    expect(r.status).toBe(130);
    expect(terminalRestored(r.output)).toBe(true);
    expect(snapshot(out)).toEqual(earlier);
    expect(hidden(out)).toEqual([]);
  });

  it('Ctrl-C again while the run stops: it stops at once, exit 130, the same state, the terminal restored', async () => {
    let typed = 0;
    const r = await scsegPty([...rerun, '-i', big, '-o', out], {
      watch: (output, type) => {
        // The second one while the first waits for the worker to leave its kernel.
        if (typed === 0 && /segmenting with/.test(output)) type(CTRL_C), typed++;
        if (typed === 1 && /SIGINT: stopping/.test(output)) type(CTRL_C), typed++;
      },
    });
    expect(typed).toBe(2);
    expect(r.status).toBe(130);
    expect(terminalRestored(r.output)).toBe(true);
    expect(snapshot(out)).toEqual(earlier);
    expect(hidden(out)).toEqual([]);
  });

  it('an error with the progress bar showing: the process exits (exit 2, one message) and the terminal is restored', async () => {
    const corrupt = path.join(tmp, 'corrupt.tif');
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(64, 7)]));
    const fresh = path.join(tmp, 'never');
    const r = await scsegPty(['segment', '-c', config3, '-w', 'WGASegmentation', '-b', backend, '-i', corrupt, '-o', fresh], { timeoutMs: 30_000 });
    expect(r.status).toBe(2); // null: still running after 30 s
    expect(r.output).toMatch(/scseg \[.*\] \d\/4/); // the bar was drawn
    expect(r.output).toMatch(/scseg: .*corrupt\.tif/);
    expect(terminalRestored(r.output)).toBe(true);
    expect(fs.existsSync(fresh)).toBe(false);
  });
});
