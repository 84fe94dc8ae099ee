/**
 * What a sharded run does inside its workers: the global pass, one shard's window pass (its owned cells, to the
 * cache), and the stitching of the cached shards into the final label files, band by band (never a whole mask in
 * memory). Arguments are structured-cloneable; inputs are re-opened by path in each worker.
 */
import '../cellpose/node-models.js'; // registers the file-based Cellpose model loader in this worker's realm
import type { SegmentationConfig } from '../config/types.js';
import { InputError } from '../errors.js';
import type { PixelWindow } from '../image.js';
import { openImage, writeClassesCsv } from '../io/index.js';
import { openOmeZarrLabelsWriter, openSegmentationH5Writer } from '../io/label-writers.js';
import type { TaskContext, TaskHandler, TaskOutput } from '../parallel/worker-tasks.js';
import { workflowFor } from '../workflows/index.js';
import type { GlobalTile } from '../workflows/types.js';
import { stackReader } from './channels.js';
import { saveGlobals } from './shard-cache.js';
import { ShardFile, writeShardFile } from './shard-store.js';
import { ownedCells, type Shard } from './sharding.js';
import v8 from 'node:v8';
import fs from 'node:fs';

/** An input as the worker re-opens it. */
export interface InputSpec {
  paths: string[];
  dataset?: string;
}

export interface GlobalTaskArgs {
  input: InputSpec;
  config: SegmentationConfig;
  /** Kernel threads for this task (the global pass runs alone). */
  threads: number;
  /** Tiles of the global pass's sweeps: the shards' cores (fewer, larger windows than the default 1024² tiles). */
  tileSize: number;
  margin: number;
  /** Spread the sweeps' tiles over the pool. */
  parallel: boolean;
  file: string;
}

export interface SweepTaskArgs {
  input: InputSpec;
  config: SegmentationConfig;
  sweep: string;
  globals: unknown;
  tile: GlobalTile;
  imageWidth: number;
  imageHeight: number;
}

export interface ShardTaskArgs {
  input: InputSpec;
  config: SegmentationConfig;
  globalsFile: string;
  index: number;
  shard: Shard;
  imageWidth: number;
  imageHeight: number;
  file: string;
}

export interface ShardTaskValue {
  count: number;
}

export interface StitchTaskArgs {
  /** The shard files, in plan order (ids are numbered in this order). */
  files: string[];
  width: number;
  height: number;
  maskNames: string[];
  segmentation: string;
  zarr?: string;
  classes: string;
  chunkSize: number;
  compression: number;
}

export interface StitchTaskValue {
  cells: number;
  /** Pixels claimed by cells of two shards (0 when the overlap exceeds the workflow's reach). */
  conflicts: number;
}

async function openInput(input: InputSpec) {
  return openImage(input.paths.length === 1 ? input.paths[0] : input.paths, { dataset: input.dataset });
}

async function globalTask(args: GlobalTaskArgs, ctx: TaskContext): Promise<TaskOutput> {
  const source = await openInput(args.input);
  try {
    const workflow = workflowFor(args.config.workflow);
    const reader = stackReader(source, args.config, workflow.descriptor.masks);
    const wctx = { kernels: ctx.kernels.withThreads(args.threads), signal: ctx.signal, progress: ctx.progress };
    // The sweeps' tiles go to the pool (this worker included): the global pass runs on every worker.
    const mapTiles = (sweep: string, globals: unknown, tiles: readonly GlobalTile[]) =>
      ctx.subtasks(
        tiles.map((tile, i) => {
          const sweepArgs: SweepTaskArgs = { input: args.input, config: args.config, sweep, globals, tile, imageWidth: source.width, imageHeight: source.height };
          return { kind: 'sharded.sweep', args: sweepArgs, label: `the global pass (${sweep} sweep, tile ${i + 1} of ${tiles.length})` };
        }),
      ) as Promise<unknown[][]>;
    const globals = await workflow.globalPass(wctx, reader, args.config, {
      tileSize: args.tileSize, margin: args.margin, ...(args.parallel ? { mapTiles } : {}),
    });
    await saveGlobals(args.file, globals);
    return { value: null };
  } finally {
    await source.close();
  }
}

async function sweepTask(args: SweepTaskArgs, ctx: TaskContext): Promise<TaskOutput> {
  const source = await openInput(args.input);
  try {
    const workflow = workflowFor(args.config.workflow);
    const stacks = await stackReader(source, args.config, workflow.descriptor.masks).read(args.tile.window);
    const wctx = { kernels: ctx.kernels, signal: ctx.signal };
    return { value: await workflow.sweepTile(wctx, args.sweep, stacks, args.config, args.globals, args.tile, args.imageWidth, args.imageHeight) };
  } finally {
    await source.close();
  }
}

// A worker keeps the last globals it read: every shard of a run uses the same file.
let globalsCache: { file: string; value: unknown } | undefined;

function loadGlobals(file: string): unknown {
  if (globalsCache?.file !== file) globalsCache = { file, value: v8.deserialize(fs.readFileSync(file)) };
  return globalsCache.value;
}

/**
 * Fault injection for the tests: the worker given the shard of this index (0-based) exits on the spot, as a worker
 * does on a native crash or running out of memory.
 */
export const SHARD_FAULT_EXIT_ENV = 'SCSEG_TEST_EXIT_ON_SHARD';

async function shardTask(args: ShardTaskArgs, ctx: TaskContext): Promise<TaskOutput> {
  if (process.env[SHARD_FAULT_EXIT_ENV] !== undefined && process.env[SHARD_FAULT_EXIT_ENV] === String(args.index)) process.exit(70);
  const { shard, config } = args;
  const source = await openInput(args.input);
  try {
    const workflow = workflowFor(config.workflow);
    const stacks = await stackReader(source, config, workflow.descriptor.masks).read(shard.window);
    const placement = { window: shard.window, imageWidth: args.imageWidth, imageHeight: args.imageHeight };
    const wctx = { kernels: ctx.kernels, signal: ctx.signal, progress: ctx.progress };
    const part = await workflow.windowPass(wctx, stacks, config, loadGlobals(args.globalsFile), placement);
    const { planes, count } = ownedCells(part, shard);
    await writeShardFile(args.file, { index: args.index, window: shard.window, core: shard.core }, planes, count);
    const value: ShardTaskValue = { count };
    return { value };
  } finally {
    await source.close();
  }
}

const intersects = (w: PixelWindow, y0: number, y1: number) => w.y < y1 && w.y + w.height > y0;

async function stitchTask(args: StitchTaskArgs, ctx: TaskContext): Promise<TaskOutput> {
  const { width, height, maskNames } = args;
  const headers = args.files.map((f) => {
    const s = ShardFile.open(f);
    s.close();
    return s.header;
  });
  // Global ids: a prefix sum of the shards' counts, in plan order.
  const offsets: number[] = [];
  let cells = 0;
  for (const h of headers) {
    if (h.masks !== maskNames.length) throw new InputError(`${args.files[h.index]}: ${h.masks} masks, expected ${maskNames.length}`, 'ERR_SCSEG_CACHE');
    offsets.push(cells);
    cells += h.count;
  }
  const h5 = await openSegmentationH5Writer(args.segmentation, {
    width, height, masks: maskNames.length, chunkSize: args.chunkSize, compression: args.compression,
  });
  const bandRows = h5.bandRows;
  const zarr = args.zarr ? await openOmeZarrLabelsWriter(args.zarr, maskNames, { width, height, bandRows }) : undefined;
  const open = new Map<number, ShardFile>();
  let conflicts = 0;
  let reported = 0;
  try {
    for (let y0 = 0; y0 < height; y0 += bandRows) {
      const y1 = Math.min(height, y0 + bandRows);
      // Tenths of the rows, not every band (a 20000-row image has hundreds).
      const tenth = Math.floor((10 * y1) / height);
      if (tenth > reported) ctx.progress(`stitching: ${10 * (reported = tenth)} % of the rows`);
      const bands = maskNames.map(() => new Uint32Array((y1 - y0) * width));
      headers.forEach((h, s) => {
        const w = h.window;
        if (h.count === 0 || !intersects(w, y0, y1)) return;
        let file = open.get(s);
        if (!file) open.set(s, (file = ShardFile.open(args.files[s])));
        const from = Math.max(y0, w.y);
        const to = Math.min(y1, w.y + w.height);
        for (let m = 0; m < bands.length; m++) {
          const rows = file.rows(m, from - w.y, to - w.y);
          const band = bands[m];
          const offset = offsets[s];
          for (let r = 0; r < to - from; r++) {
            const src = r * w.width;
            const dst = (from - y0 + r) * width + w.x;
            for (let x = 0; x < w.width; x++) {
              const v = rows[src + x];
              if (v === 0) continue;
              if (band[dst + x] !== 0) conflicts++;
              band[dst + x] = v + offset;
            }
          }
        }
        if (w.y + w.height <= y1) {
          file.close();
          open.delete(s);
        }
      });
      await h5.writeBand(y0, bands);
      await zarr?.writeBand(y0, bands);
    }
    await h5.finish();
    await zarr?.finish();
  } catch (e) {
    await h5.abort();
    await zarr?.abort();
    throw e;
  } finally {
    for (const f of open.values()) f.close();
  }
  await writeClassesCsv(args.classes, (function* () {
    for (let id = 1; id <= cells; id++) yield id;
  })());
  const value: StitchTaskValue = { cells, conflicts };
  return { value };
}

export const SHARD_TASKS: Record<string, TaskHandler> = {
  'sharded.global': globalTask,
  'sharded.sweep': sweepTask,
  'sharded.shard': shardTask,
  'sharded.stitch': stitchTask,
};
