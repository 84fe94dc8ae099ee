/** The bad-input catalogue through the API: Segmentation.create + run reject with one typed error; nothing is written. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, InputError } from '../../lib/errors.js';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { CASES, CONFIG3 } from './cases.js';
import { fragments, outputState, seedPrevious } from './expect.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-bad-api-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('bad input through the API', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const dir = path.join(tmp, String(i));
    fs.mkdirSync(dir);
    const run = await c.setup(dir);
    const output = run.output ?? path.join(dir, 'out');
    seedPrevious(output, c.previous);
    let error: unknown;
    try {
      const seg = await Segmentation.create({ config: { path: run.config ?? CONFIG3 }, workflow: (run.workflow ?? 'DAPISegmentation') as never });
      await seg.run({ input: run.input, output });
    } catch (e) {
      error = e;
    }
    if (!(error instanceof InputError || error instanceof ConfigError)) throw error ?? new Error('the run succeeded');
    expect(error.code).toBe(c.code);
    for (const f of fragments(c.message(dir, run))) expect(error.message).toMatch(f);
    expect(outputState(output)).toEqual(c.previous ?? {});
  });
});
