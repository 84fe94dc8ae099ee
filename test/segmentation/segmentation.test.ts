/** The programmatic API: Segmentation.create + run, in memory and with a results directory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { openImage, readClassesCsv } from '../../lib/io/index.js';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { exampleData as example3 } from '../helpers/fixtures.js';
import { readLabelsH5 } from '../helpers/labels.js';
import { expectResponsive } from '../helpers/responsive.js';

const config = { path: path.join(example3, 'config_example3.yml') };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-api-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('Segmentation', () => {
  let planes: Image2D[];
  beforeAll(async () => {
    const src = await openImage(['Ch1.tif', 'Ch2.tif', 'Ch3.tif'].map((f) => path.join(example3, f)));
    planes = await Promise.all([0, 1, 2].map((c) => src.readChannel(c)));
    await src.close();
  });

  it('segments in-memory planes and files alike; writes the results directory only when asked', async () => {
    const seg = await Segmentation.create({ config, workflow: 'WGASegmentation' });
    const inMemory = await seg.run({ input: planes });
    expect(inMemory.files).toBeUndefined();
    expect(inMemory.maskNames).toEqual(['nucleus', 'cytosol']);
    expect(inMemory.warnings.some((w) => /chunk_size/.test(w))).toBe(true); // example 3 repeats chunk_size

    const out = path.join(tmp, 'res');
    const fromFiles = await seg.run({ input: ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(example3, f)), output: out, qc: false });
    expect(Array.from(fromFiles.classes)).toEqual(Array.from(inMemory.classes));
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'segmentation.h5']);
    expect(readClassesCsv(fromFiles.files!.classes)).toEqual(Array.from(inMemory.classes));
  });

  it('DAPI returns the nucleus mask as cytosol and writes one mask', async () => {
    const dapi = {
      DAPISegmentation: {
        lower_quantile_normalization: 0.001,
        upper_quantile_normalization: 0.999,
        median_filter_size: 4,
        nucleus_segmentation: {
          lower_quantile_normalization: 0.01, upper_quantile_normalization: 0.99, median_block: 41, median_step: 4,
          threshold: 0.2, min_distance: 8, peak_footprint: 7, speckle_kernel: 9, dilation: 0,
        },
      },
    };
    const seg = await Segmentation.create({ config: { object: dapi }, workflow: 'DAPISegmentation' });
    const out = path.join(tmp, 'dapi');
    const r = await seg.run({ input: planes, output: out, qc: false });
    expect(r.masks).toHaveLength(1);
    expect(r.cytosol).toBe(r.nucleus);
    expect(r.classes.length).toBeGreaterThan(20);
    expect(readClassesCsv(r.files!.classes)).toEqual(Array.from(r.classes));
  });

  it('rejects unavailable workflows and unwritable outputs with InputError', async () => {
    await expect(
      Segmentation.create({ config: { object: { NuclearExpansionSegmentationCellpose: { nucleus_segmentation: { model: 'nuclei' } } } }, workflow: 'ShardedNuclearExpansionSegmentationCellpose' }),
    ).rejects.toThrow(/no sharded form yet/);
    await expect(
      Segmentation.create({ config: { object: { DAPISegmentationCellpose: { nucleus_segmentation: { model_path: path.join(tmp, 'absent.onnx') } } } }, workflow: 'DAPISegmentationCellpose' }),
    ).rejects.toThrow(/nucleus_segmentation: model_path .*absent\.onnx: no such file .*export-cellpose-onnx\.py/);
    const seg = await Segmentation.create({ config, workflow: 'WGASegmentation' });
    const blocker = path.join(tmp, 'blocker');
    fs.writeFileSync(blocker, '');
    await expect(seg.run({ input: planes, output: path.join(blocker, 'x') })).rejects.toThrow(/blocker is a file, not a directory/);
  });
});

describe('Segmentation runs its workflow off the calling thread', () => {
  const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(example3, f));

  it('gives the same result as a run on the calling thread, with the masks moved back', async () => {
    const here = await (await Segmentation.create({ config, workflow: 'WGASegmentation', offThread: false })).run({ input: inputs });
    const lines: string[] = [];
    const seg = await Segmentation.create({ config, workflow: 'WGASegmentation', log: (m) => lines.push(m) });
    const there = await seg.run({ input: inputs, output: path.join(tmp, 'off-thread') });
    expect(there.masks.map((m) => Buffer.from(m.data.buffer).equals(Buffer.from(here.masks[m === there.masks[0] ? 0 : 1].data.buffer)))).toEqual([true, true]);
    expect(Array.from(there.classes)).toEqual(Array.from(here.classes));
    expect(lines.some((l) => l.startsWith('segmenting with WGASegmentation'))).toBe(true);
    expect(readClassesCsv(there.files!.classes)).toEqual(Array.from(here.classes));
  });

  it('writeOnCallingThread: the worker segments, this thread writes the same files (the QC background moved back)', async () => {
    const inWorker = path.join(tmp, 'written-in-worker');
    const here = path.join(tmp, 'written-here');
    const a = await (await Segmentation.create({ config, workflow: 'WGASegmentation' })).run({ input: inputs, output: inWorker });
    const seg = await Segmentation.create({ config, workflow: 'WGASegmentation', writeOnCallingThread: true });
    // onFileWritten: each file as soon as it is in place, complete (what the CLI checksums meanwhile).
    const announced: [string, number][] = [];
    const b = await seg.run({ input: inputs, output: here, onFileWritten: (f) => announced.push([path.basename(f), fs.statSync(f).size]) });
    expect(announced.map(([f]) => f).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'segmentation.h5']);
    for (const [f, size] of announced) expect([f, size]).toEqual([f, fs.statSync(path.join(here, f)).size]);
    expect(Object.keys(b)).not.toContain('background');
    expect(Object.keys(b.files!).sort()).toEqual(['classes', 'qc', 'segmentation']);
    for (const f of ['classes.csv', 'qc_overlay.png']) {
      expect([f, fs.readFileSync(path.join(here, f)).equals(fs.readFileSync(path.join(inWorker, f)))]).toEqual([f, true]);
    }
    // HDF5 object headers carry a modification time (seconds): the labels are compared, not the bytes.
    const [ha, hb] = await Promise.all([readLabelsH5(path.join(inWorker, 'segmentation.h5')), readLabelsH5(path.join(here, 'segmentation.h5'))]);
    expect(hb.masks.length).toBe(2);
    hb.masks.forEach((m, i) => expect(Buffer.from(m.buffer).equals(Buffer.from(ha.masks[i].buffer))).toBe(true));
    expect(Array.from(b.classes)).toEqual(Array.from(a.classes));
    expect(b.timings['write segmentation.h5']).toBeGreaterThan(0);
  });

  it('keeps a timer on the calling thread firing every ≤ 50 ms', async () => {
    const seg = await Segmentation.create({ config, workflow: 'WGASegmentation' });
    await seg.run({ input: inputs }); // the worker's start-up
    await expectResponsive(() => seg.run({ input: inputs, output: path.join(tmp, 'timer') }));
  });

  it('an abort stops the worker\'s run and rejects with the signal\'s reason', async () => {
    const seg = await Segmentation.create({ config, workflow: 'WGASegmentation' });
    const controller = new AbortController();
    const reason = new Error('stop');
    const run = seg.run({ input: inputs, output: path.join(tmp, 'aborted'), signal: controller.signal, });
    setTimeout(() => controller.abort(reason), 5);
    await expect(run).rejects.toBe(reason);
    expect(fs.existsSync(path.join(tmp, 'aborted', 'segmentation.h5'))).toBe(false);
  });
});
