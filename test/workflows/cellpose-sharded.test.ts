/**
 * Sharded Cellpose (in-memory slice, `segmentSharded`): with the stand-in ONNX model, the stitched masks partition the
 * image as the whole-image run does — same cells, same pixels, a cell's nucleus and cytosol sharing one id — for
 * each workflow, with percentile or min–max scaling, resize with and without resample, explicit and automatic size
 * filters. Windows see the whole image's percentiles, resize, tile grid and size limit; small masks are removed as
 * `fix_label_gap_quirk: true` does, so the whole-image runs here set it too.
 */
import path from 'node:path';
import '../../lib/cellpose/node-models.js'; // the file-based model loader
import { loadConfig } from '../../lib/config/index.js';
import type { WorkflowAlias } from '../../lib/config/types.js';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { planesReader, selectChannels, stackReader } from '../../lib/segmentation/channels.js';
import { planShards, segmentSharded } from '../../lib/segmentation/sharding.js';
import { workflowFor } from '../../lib/workflows/index.js';
import { exampleData, fixturesDir, imagesDir, readPlanes } from '../helpers/fixtures.js';
import { samePartition } from '../helpers/labels.js';

const standIn = path.join(fixturesDir, 'cellpose-onnx', 'stand_in.onnx');
const k = kernels();
const a02 = [path.join(imagesDir, 'bbbc039', 'IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif')];
const example3 = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));

type Section = Record<string, unknown>;
const model = (extra: Section = {}): Section => ({ model_path: standIn, fix_label_gap_quirk: true, ...extra });

/** Two images side by side (a wider field with cells crossing the seam), as one set of planes. */
function sideBySide(a: Image2D[], b: Image2D[]): Image2D[] {
  return a.map((p, c) => {
    const q = b[c];
    const height = Math.min(p.height, q.height);
    const width = p.width + q.width;
    const data = new Uint16Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < p.width; x++) data[y * width + x] = p.data[y * p.width + x];
      for (let x = 0; x < q.width; x++) data[y * width + p.width + x] = q.data[y * q.width + x];
    }
    return { data, width, height };
  });
}

const cases: [string, WorkflowAlias, Section, () => Promise<Image2D[]>, [number, number][]][] = [
  ['DAPI, BBBC039 A02, rescale 1.7 (diameter 10)', 'DAPISegmentationCellpose',
    { nucleus_segmentation: model({ diameter: 10 }) }, () => readPlanes(a02), [[260 * 260, 170], [200 * 200, 150]]],
  ['DAPI, BBBC039 A02, rescale 1.7, no resample, size filter 20–2000 px', 'DAPISegmentationCellpose',
    { filter_masks_size: true, nucleus_segmentation: model({ diameter: 10, resample: false, min_size: 20, max_size: 2000 }) },
    () => readPlanes(a02), [[260 * 260, 170]]],
  ['DAPI, BBBC039 A02 twice side by side, rescale 1, automatic size filter', 'DAPISegmentationCellpose',
    { filter_masks_size: true, nucleus_segmentation: model() },
    async () => sideBySide(await readPlanes(a02), await readPlanes(a02)), [[400 * 400, 250]]],
  ['Cytosol (ids matched), example 3 twice side by side, min–max scaled', 'CytosolSegmentationCellpose',
    { nucleus_segmentation: model({ normalize: false }), cytosol_segmentation: model() },
    async () => sideBySide(await readPlanes(example3), await readPlanes(example3)), [[300 * 300, 240]]],
  ['CytosolOnly, example 3 twice side by side, 2 channels, automatic size filter', 'CytosolOnlySegmentationCellpose',
    { filter_masks_size: true, cytosol_segmentation: model() },
    async () => sideBySide(await readPlanes(example3), await readPlanes(example3)), [[300 * 300, 240]]],
];

describe.each(cases)(`sharded Cellpose == unsharded: %s [${k.backendName}]`, (_name, alias, sections, input, plans) => {
  it.each(plans)('shard_size %d, overlap %d px', async (shardSize, overlap) => {
    const { config } = loadConfig({ object: { [alias]: sections } }, alias);
    const planes = await input();
    const wf = workflowFor(alias);
    const ctx = { kernels: k };
    const whole = await wf.run(ctx, await selectChannels(planesReader(planes), config, wf.descriptor.masks), config);
    const reader = stackReader(planesReader(planes), config, wf.descriptor.masks);
    const sharded = await segmentSharded(ctx, wf, reader, config, { shardSize, overlap });
    expect(planShards(planes[0].width, planes[0].height, { shardSize, overlap }).length).toBeGreaterThanOrEqual(4);
    expect(whole.classes.length).toBeGreaterThan(10);
    const ids = new Map<number, number>(); // whole-image id → sharded id, shared by nucleus and cytosol
    whole.masks.forEach((mask, m) => {
      const r = samePartition(mask.data, sharded.masks[m].data, ids);
      expect(r.mismatches).toBe(0);
      expect(r.cells).toBe(whole.classes.length);
    });
    expect(sharded.classes.length).toBe(whole.classes.length);
  });
});

describe(`sharded Cellpose: what a shard cannot do [${k.backendName}]`, () => {
  it('a built-in model with a size model and no diameter is an error naming the key', async () => {
    const alias = 'DAPISegmentationCellpose';
    const { config } = loadConfig({ object: { [alias]: { nucleus_segmentation: { model: 'nuclei', models_dir: path.dirname(standIn) } } } }, alias);
    // stand_in.onnx carries a size model; the built-in name 'nuclei' resolves to <models_dir>/nuclei.onnx
    const fs = await import('node:fs');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cp-shard-'));
    try {
      fs.copyFileSync(standIn, path.join(dir, 'nuclei.onnx'));
      (config as { nucleus: { modelsDir: string } }).nucleus.modelsDir = dir;
      const planes = await readPlanes(a02);
      const wf = workflowFor(alias);
      const reader = stackReader(planesReader(planes), config, wf.descriptor.masks);
      const run = segmentSharded({ kernels: k }, wf, reader, config, { shardSize: 260 * 260, overlap: 100 });
      await expect(run).rejects.toThrow(InputError);
      await expect(segmentSharded({ kernels: k }, wf, reader, config, { shardSize: 260 * 260, overlap: 100 })).rejects.toThrow(
        /size model, which a shard cannot do; set nucleus_segmentation\.diameter/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
