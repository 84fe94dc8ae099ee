/**
 * A disk that fills up while the results are written (simulated: enospc.mjs makes writes under the output folder
 * fail with ENOSPC after a byte budget). The run must fail with one clear message naming the file, leave no
 * temporary behind, and leave the files of an earlier run as they were.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { exampleData } from '../helpers/fixtures.js';
import { CONFIG3 } from './cases.js';
import { scsegAsync } from './spawn.js';
// @ts-expect-error: a plain .mjs module (it is loaded with node --import too)
import { installEnospc } from './enospc.mjs';
import { escapeRegExp, outputState, seedPrevious } from './expect.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-enospc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const hook = path.join(path.dirname(new URL(import.meta.url).pathname), 'enospc.mjs');
const input = path.join(exampleData, 'Ch1.tif');
const PREVIOUS = { 'segmentation.h5': 'an earlier run\'s labels\n', 'classes.csv': '1\n2\n' };

function cli(output: string, after: number) {
  return scsegAsync(['segment', '-q', '-c', CONFIG3, '-w', 'DAPISegmentation', '-i', input, '-o', output, '--overwrite'], {
    NODE_OPTIONS: `--import ${hook}`, SCSEG_TEST_ENOSPC_DIR: output, SCSEG_TEST_ENOSPC_AFTER: String(after),
  });
}

describe('disk full while writing the results', () => {
  it('API: the first write fails → InputError naming the file and the cause, nothing left behind', async () => {
    const output = path.join(tmp, 'api');
    const seg = await Segmentation.create({ config: { path: CONFIG3 }, workflow: 'DAPISegmentation', offThread: false });
    fs.mkdirSync(output);
    const uninstall = installEnospc(output, 0);
    let error: unknown;
    try {
      await seg.run({ input, output });
    } catch (e) {
      error = e;
    } finally {
      uninstall();
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('ERR_SCSEG_IO_WRITE');
    expect((error as Error).message).toMatch(/segmentation\.h5: cannot write HDF5: No space left on device/);
    expect(outputState(output)).toEqual({});
  });

  // Known gap: the run's lock file (lib/segmentation/results-folder.ts) is created, then its pid cannot be written;
  // the empty .scseg-lock stays behind. Once it is removed on that failure this passes and becomes a plain `it`.
  it('CLI: a disk already full → exit 2, one line naming the file in the output folder and the cause, previous results intact', async () => {
    const output = path.join(tmp, 'cli-full');
    seedPrevious(output, PREVIOUS);
    const r = await cli(output, 0);
    expect(r.stderr.trim()).toMatch(new RegExp(`^scseg: ${escapeRegExp(output)}/\\S+: cannot write( HDF5)?: (No space left on device|ENOSPC)`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.status).toBe(2);
    expect(outputState(output)).toEqual(PREVIOUS);
  });

  it('CLI: the disk fills up inside segmentation.h5 → exit 2, one line, previous results intact, no temporaries', async () => {
    const output = path.join(tmp, 'cli-first');
    seedPrevious(output, PREVIOUS);
    const r = await cli(output, 4096);
    expect(r.stderr.trim()).toMatch(/^scseg: \S*segmentation\.h5: cannot write( HDF5)?: No space left on device$/);
    expect(r.status).toBe(2);
    expect(outputState(output)).toEqual(PREVIOUS);
  });

  // The CLI stages the whole results folder and swaps it in only once every file is written
  // (lib/segmentation/results-folder.ts), so a write that fails after segmentation.h5 leaves the earlier files.
  it('CLI: a later write fails (the QC overlay) → exit 2, one line, previous results intact', async () => {
    const output = path.join(tmp, 'cli-late');
    seedPrevious(output, PREVIOUS);
    const r = await cli(output, 1_300_000); // segmentation.h5 of example 3's DAPI run fits, the overlay does not
    expect(r.stderr.trim()).toMatch(/^scseg: \S*qc_overlay\.png: cannot write: ENOSPC[^\n]*$/);
    expect(r.status).toBe(2);
    expect(outputState(output)).toEqual(PREVIOUS);
  });
});
