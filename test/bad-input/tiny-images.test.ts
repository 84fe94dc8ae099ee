/**
 * 1×1, 1×N and N×1 images are degenerate, not invalid: every filter and the watershed must cope (no crash, no
 * out-of-bounds read), and the run ends like any run that finds nothing — zero cells and the usual files — on
 * TIFF, .npy, .h5 and OME-Zarr inputs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { CONFIG3 } from './cases.js';
import { bytesOf, noise16, writeH5, writeNpy, writeTiff, writeZarr } from './files.js';
import { pooled, scsegAsync } from './spawn.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-tiny-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SHAPES: [string, number, number][] = [['1×1', 1, 1], ['1×N', 57, 1], ['N×1', 1, 57]];
type Writer = (file: string, w: number, h: number) => string | Promise<string>;
const FORMATS: [string, Writer][] = [
  ['tif', (f, w, h) => writeTiff(f, [noise16(w * h, 3), noise16(w * h, 4)], w, h)],
  ['npy', (f, w, h) => writeNpy(f, noise16(2 * w * h, 5), [2, h, w])],
  ['h5', (f, w, h) => writeH5(f, noise16(2 * w * h, 6), [2, h, w])],
  ['ome.zarr', (f, w, h) => writeZarr(f, Uint16Array, [2, h, w], [1, h, w], { '0/0/0': bytesOf(noise16(w * h, 7)), '1/0/0': bytesOf(noise16(w * h, 8)) })],
];
const CASES = SHAPES.flatMap(([shape, w, h]) => FORMATS.map(([ext, write]) => ({ name: `${shape} .${ext}`, ext, w, h, write })));

describe.each(['DAPISegmentation', 'WGASegmentation'])('%s on degenerate shapes', (workflow) => {
  const inputs = new Map<string, string>();
  const cli = new Map<string, Awaited<ReturnType<typeof scsegAsync>>>();
  beforeAll(async () => {
    for (const [i, c] of CASES.entries()) inputs.set(c.name, await c.write(path.join(tmp, `${workflow}-${i}.${c.ext}`), c.w, c.h));
    if (workflow !== 'DAPISegmentation') return; // the CLI adds nothing per workflow here: one is enough
    const runs = await pooled(CASES.map((c) => () => scsegAsync([
      'segment', '-q', '-c', CONFIG3, '-w', workflow, '-i', inputs.get(c.name)!, '-o', path.join(tmp, `${workflow}-${c.name}-cli`),
    ])), 3);
    CASES.forEach((c, i) => cli.set(c.name, runs[i]));
  }, 120_000);

  it.each(CASES.map((c) => [c.name, c] as const))('%s: no cells, the results written (API; CLI for DAPI)', async (name, c) => {
    const seg = await Segmentation.create({ config: { path: CONFIG3 }, workflow: workflow as never });
    const output = path.join(tmp, `${workflow}-${name}-api`);
    const result = await seg.run({ input: inputs.get(name)!, output });
    expect(result.classes.length).toBe(0);
    expect(result.masks.every((m) => m.width === c.w && m.height === c.h && m.data.every((v) => v === 0))).toBe(true);
    expect(fs.readdirSync(output).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'segmentation.h5']);
    const r = cli.get(name);
    if (!r) return;
    expect(r.stderr).toBe(''); // --quiet: not even the no-cells warning
    expect(r.status).toBe(0);
    // (the CLI's folder also holds its run record, run.json)
    expect(fs.readdirSync(path.join(tmp, `${workflow}-${name}-cli`))).toEqual(expect.arrayContaining(['classes.csv', 'qc_overlay.png', 'segmentation.h5']));
  });
});
