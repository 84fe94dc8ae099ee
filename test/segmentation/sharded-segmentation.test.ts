/**
 * ShardedSegmentation end to end: workers, cache, stitching to segmentation.h5 — the same partition as the
 * in-memory run for several shard sizes, overlaps and worker counts, with the calling thread kept responsive.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../lib/config/index.js';
import type { WorkflowAlias } from '../../lib/config/types.js';
import { readClassesCsv, readOmeZarrLabels } from '../../lib/io/index.js';
import { kernels } from '../../lib/kernels/index.js';
import { planesReader, selectChannels } from '../../lib/segmentation/channels.js';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { ShardedSegmentation } from '../../lib/segmentation/sharded-segmentation.js';
import { workflowFor } from '../../lib/workflows/index.js';
import { exampleData, fixturesDir, imagesDir, readPlanes } from '../helpers/fixtures.js';
import { readLabelsH5, samePartition } from '../helpers/labels.js';
import { expectResponsive } from '../helpers/responsive.js';
import { writeNpy } from '../helpers/batch.js';
import { InputError } from '../../lib/errors.js';

const backend = kernels().backendName;
const exampleConfig = { path: path.join(exampleData, 'config_example3.yml') };
const wgaFiles = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
const dapiFiles = [path.join(imagesDir, 'bbbc039', 'IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif')];

async function unsharded(alias: WorkflowAlias, files: string[]) {
  const { config } = loadConfig(exampleConfig, alias);
  const wf = workflowFor(alias);
  const stacks = await selectChannels(planesReader(await readPlanes(files)), config, wf.descriptor.masks);
  return wf.run({ kernels: kernels() }, stacks, config);
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-sharded-'));
}

const cases: [string, WorkflowAlias, string[], [number, number, number][]][] = [
  ['WGA, example 3', 'WGASegmentation', wgaFiles, [[200 * 200, 100, 1], [160 * 160, 120, 2], [120 * 120, 104, 3]]],
  ['DAPI, BBBC039', 'DAPISegmentation', dapiFiles, [[256 * 256, 100, 2], [300 * 300, 128, 3]]],
];

describe.each(cases)(`ShardedSegmentation == Segmentation: %s [${backend}]`, (_name, alias, files, plans) => {
  it.each(plans)('shard_size %d, overlap %d px, %d worker(s)', async (shardSize, overlap, threads) => {
    const whole = await unsharded(alias, files);
    const out = tempDir();
    const sharded = await ShardedSegmentation.create({ config: exampleConfig, workflow: alias, backend, shardSize, overlap, threads });
    const result = await sharded.run({ input: files, output: out, zarr: threads === 2 });
    expect(result.shards).toBeGreaterThan(3);
    expect(result.conflicts).toBe(0);
    expect(result.cells).toBe(whole.classes.length);
    const { masks } = await readLabelsH5(result.files.segmentation);
    expect(masks.length).toBe(whole.masks.length);
    const ids = new Map<number, number>();
    whole.masks.forEach((mask, m) => {
      const r = samePartition(mask.data, masks[m], ids);
      expect(r.mismatches).toBe(0);
      expect(r.cells).toBe(whole.classes.length);
    });
    expect(readClassesCsv(result.files.classes)).toEqual(Array.from({ length: result.cells }, (_, i) => i + 1));
    if (threads === 2) {
      const zarr = await readOmeZarrLabels(result.files.zarr!, 'nucleus');
      expect(Buffer.compare(Buffer.from(zarr.data.buffer), Buffer.from(masks[0].buffer))).toBe(0);
    }
    // The cache is gone after success.
    expect(fs.existsSync(path.join(out, '.scseg-cache'))).toBe(false);
  });
});

describe(`ShardedSegmentation with a Cellpose workflow (stand-in ONNX model) [${backend}]`, () => {
  it('DAPISegmentationCellpose over 2 workers: the partition of the in-memory run (fix_label_gap_quirk as sharded runs do)', async () => {
    const standIn = path.join(fixturesDir, 'cellpose-onnx', 'stand_in.onnx');
    const section = { nucleus_segmentation: { model_path: standIn, diameter: 10, fix_label_gap_quirk: true } };
    const config = { object: { DAPISegmentationCellpose: section } };
    const whole = await (await Segmentation.create({ config, workflow: 'DAPISegmentationCellpose', backend })).run({ input: dapiFiles });
    const out = tempDir();
    const shardedSection = { ...section, shard_size: 260 * 260, overlap_px: 170, threads: 2 };
    const sharded = await ShardedSegmentation.create({
      config: { object: { ShardedDAPISegmentationCellpose: shardedSection } }, workflow: 'ShardedDAPISegmentationCellpose', backend,
    });
    const result = await sharded.run({ input: dapiFiles, output: out });
    expect(result.shards).toBe(6);
    expect(result.conflicts).toBe(0);
    expect(whole.classes.length).toBeGreaterThan(50);
    expect(result.cells).toBe(whole.classes.length);
    const { masks } = await readLabelsH5(result.files.segmentation);
    const r = samePartition(whole.nucleus.data, masks[0]);
    expect(r.mismatches).toBe(0);
    expect(r.cells).toBe(whole.classes.length);
    fs.rmSync(out, { recursive: true, force: true });
  });
});

describe(`ShardedSegmentation runs off the calling thread [${backend}]`, () => {
  it('a timer on the calling thread keeps firing every ≤ 50 ms during a 2-worker run', async () => {
    const sharded = await ShardedSegmentation.create({
      config: exampleConfig, workflow: 'WGASegmentation', backend, shardSize: 160 * 160, overlap: 128, threads: 2,
    });
    const run = () => sharded.run({ input: wgaFiles, output: tempDir(), zarr: true });
    await run(); // the first run of a process also loads (from sources: transpiles) its modules on this thread, once
    await expectResponsive(run);
  });
});

describe('ShardedSegmentation refuses plans that cannot work, before any worker starts', () => {
  it.each([
    [{ shardSize: 64 * 64, overlap: 8 }, /window \(6400 px\) is smaller than one cell may be \(max_size 30000 px\)/],
    [{ shardSize: 100 * 100, overlap: 100 }, /overlap_px \(100\) must be smaller than a shard's side \(100 px/],
    [{ overlap: 100 }, /shard_size is not set/],
  ])('%j', async (options, message) => {
    const sharded = await ShardedSegmentation.create({ config: exampleConfig, workflow: 'WGASegmentation', backend, ...options });
    const out = tempDir();
    await expect(sharded.run({ input: wgaFiles, output: out })).rejects.toThrow(message);
    expect(fs.readdirSync(out)).toEqual([]);
  });
});

describe(`ShardedSegmentation on a damaged input [${backend}]`, () => {
  it('fails with an InputError naming the file, and writes no result', async () => {
    const planes = await readPlanes(wgaFiles);
    const data = new Uint16Array(2 * 400 * 400);
    planes.forEach((p, c) => data.set(p.data as Uint16Array, c * 400 * 400));
    const dir = tempDir();
    const file = writeNpy(path.join(dir, 'wga.npy'), data, [2, 400, 400]);
    fs.truncateSync(file, Math.floor(fs.statSync(file).size * 0.7)); // the last rows of channel 1 are gone
    const sharded = await ShardedSegmentation.create({ config: exampleConfig, workflow: 'WGASegmentation', backend, shardSize: 200 * 200, overlap: 100, threads: 2 });
    const out = path.join(dir, 'out');
    const error = await sharded.run({ input: file, output: out }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('wga.npy');
    expect((error as Error).message).toMatch(/truncated/);
    expect(fs.existsSync(path.join(out, 'segmentation.h5'))).toBe(false);
  });
});
