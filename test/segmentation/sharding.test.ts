/**
 * Sharded segmentation (in-memory slice): over several shard sizes and overlaps, the stitched masks partition the
 * image exactly as the unsharded run does — same cells, same pixels, nucleus and cytosol of a cell sharing one id;
 * only the ids differ (numbered by shard).
 */
import path from 'node:path';
import { loadConfig } from '../../lib/config/index.js';
import type { WorkflowAlias } from '../../lib/config/types.js';
import { kernels } from '../../lib/kernels/index.js';
import { planesReader, selectChannels, stackReader } from '../../lib/segmentation/channels.js';
import { planShards, segmentSharded } from '../../lib/segmentation/sharding.js';
import { workflowFor } from '../../lib/workflows/index.js';
import { InputError } from '../../lib/errors.js';
import { exampleData, imagesDir, readPlanes } from '../helpers/fixtures.js';
import { samePartition } from '../helpers/labels.js';

const cases: [string, WorkflowAlias, { path: string }, string[], [number, number][]][] = [
  ['WGA, example 3', 'WGASegmentation', { path: path.join(exampleData, 'config_example3.yml') },
    ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f)), [[200 * 200, 100], [160 * 160, 120], [120 * 120, 104]]],
  ['DAPI, BBBC039', 'DAPISegmentation', { path: path.join(exampleData, 'config_example3.yml') },
    [path.join(imagesDir, 'bbbc039', 'IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif')], [[256 * 256, 100], [300 * 300, 128]]],
];

describe.each(cases)(`sharded == unsharded: %s [${kernels().backendName}]`, (_name, alias, source, files, plans) => {
  it.each(plans)('shard_size %d, overlap %d px', async (shardSize, overlap) => {
    const { config } = loadConfig(source, alias);
    const input = await readPlanes(files);
    const wf = workflowFor(alias);
    const ctx = { kernels: kernels() };
    const whole = await wf.run(ctx, await selectChannels(planesReader(input), config, wf.descriptor.masks), config);
    const reader = stackReader(planesReader(input), config, wf.descriptor.masks);
    const sharded = await segmentSharded(ctx, wf, reader, config, { shardSize, overlap });
    expect(planShards(input[0].width, input[0].height, { shardSize, overlap }).length).toBeGreaterThan(3);
    const ids = new Map<number, number>(); // whole-image id → sharded id, shared by nucleus and cytosol
    whole.masks.forEach((mask, m) => {
      const r = samePartition(mask.data, sharded.masks[m].data, ids);
      expect(r.mismatches).toBe(0);
      expect(r.cells).toBe(whole.classes.length);
    });
    // Numbered 1..n.
    expect(Array.from(sharded.classes)).toEqual(Array.from({ length: whole.classes.length }, (_, i) => i + 1));
  });
});

describe('shard plan', () => {
  it('tiles the image with cores of at most shard_size pixels on the step grid, windows grown by the overlap', () => {
    const shards = planShards(1000, 700, { shardSize: 300 * 300, overlap: 50, align: 4 });
    let area = 0;
    for (const { core, window } of shards) {
      expect(core.width * core.height).toBeLessThanOrEqual(300 * 300);
      expect(core.x % 4).toBe(0);
      expect(window.x % 4).toBe(0);
      expect(window.y % 4).toBe(0);
      expect(window.x).toBe(Math.max(0, core.x - 52));
      area += core.width * core.height;
    }
    expect(area).toBe(1000 * 700);
  });

  it.each([
    [{ shardSize: 100 * 100, overlap: 100 }, /overlap_px \(100\) must be smaller than a shard's side \(100 px/],
    [{ shardSize: 0, overlap: 10 }, /shard_size must be an integer/],
    [{ shardSize: 10000, overlap: -1 }, /overlap_px must be an integer ≥ 0/],
  ])('%o is an InputError', (options, message) => {
    expect(() => planShards(500, 500, options)).toThrow(InputError);
    expect(() => planShards(500, 500, options)).toThrow(message);
  });
});
