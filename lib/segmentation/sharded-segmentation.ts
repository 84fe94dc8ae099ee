/**
 * ShardedSegmentation (scPortrait's class of that name), for images larger than memory: the image is cut into
 * shards of at most `shard_size` pixels, each read with `overlap_px` pixels around it. The global pass streams the
 * whole-image values once; then `threads` workers run the shards' window passes, each writing the cells it owns to
 * the cache; finally the cached shards are stitched band by band into `segmentation.h5` (and OME-Zarr labels).
 * Nothing holds a whole mask in memory, and the calling thread only coordinates.
 *
 * Ownership rule (as StarDist's big-image prediction): a cell belongs to the one shard whose core holds its nucleus
 * centroid; its cytosol goes with it. Ids are 1..n by shard in plan order (a prefix sum of the shards' counts),
 * then by id within the shard — independent of worker count and completion order. With `overlap_px` at least the
 * workflow's reach (`Workflow.reach`: filter context plus a cell) the result equals the unsharded run's.
 *
 * Resumable: the plan, the global values and every finished shard are kept in the cache (default
 * `<output>/.scseg-cache`); a run killed at any point and started again with the same arguments reuses them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigSource, SegmentationConfig, SizeFilter, WorkflowAlias } from '../config/types.js';
import { InputError } from '../errors.js';
import { openImage } from '../io/index.js';
import type { BackendName } from '../kernels/index.js';
import { WorkerPool } from '../parallel/worker-pool.js';
import type { Workflow } from '../workflows/types.js';
import { stackReader } from './channels.js';
import { cores, positiveOption, resolveRun } from './class-options.js';
import { prepareOutputDir } from './outputs.js';
import { describeInputs, ShardCache, shardCacheDir } from './shard-cache.js';
import type { GlobalTaskArgs, InputSpec, ShardTaskArgs, ShardTaskValue, StitchTaskArgs, StitchTaskValue } from './shard-tasks.js';
import { planShards, shardAlign, type Shard } from './sharding.js';

export const DEFAULT_OVERLAP_PX = 100;

export interface ShardedSegmentationOptions {
  config: ConfigSource | SegmentationConfig;
  workflow: WorkflowAlias;
  backend?: BackendName | 'auto';
  /** Shards in flight (workers); default: the config's `threads`, else 1. */
  threads?: number;
  /** Kernel threads per worker; default: the cores divided among the workers (at least 1). */
  kernelThreads?: number;
  /** Override of `shard_size` (most pixels in a shard's core). */
  shardSize?: number;
  /** Override of `overlap_px` (default 100). */
  overlap?: number;
  /**
   * Cache directory; default: the config's `cache` (a subfolder per output directory) unless that is the working
   * directory (scPortrait's default), else `<output>/.scseg-cache`.
   */
  cache?: string;
  /** Discard a cache left by a run with other arguments instead of refusing. */
  overwrite?: boolean;
  /** Keep the cache after a successful run (default: removed). */
  keepCache?: boolean;
  log?: (message: string) => void;
  /** The current step of the run: global pass, shards done / total, stitching. */
  progress?: (event: ShardedProgress) => void;
}

export type ShardedProgress =
  | { stage: 'global'; step: string }
  | { stage: 'shards'; done: number; total: number }
  | { stage: 'stitch'; step: string };

export interface ShardedRunOptions {
  /** File path(s): one CXY image, or one single-channel file per channel. */
  input: string | readonly string[];
  output: string;
  /** Also write `labels.zarr` (OME-Zarr labels). */
  zarr?: boolean;
  /** HDF5 input: the dataset to read. */
  dataset?: string;
  signal?: AbortSignal;
}

export interface ShardedRunResult {
  workflow: string;
  cells: number;
  shards: number;
  /** Shards found finished in the cache (a resumed run). */
  reusedShards: number;
  /** Pixels two shards both claimed (0 unless the overlap is below the workflow's reach). */
  conflicts: number;
  files: { segmentation: string; classes: string; zarr?: string };
  warnings: string[];
  workers: number;
  kernelThreads: number;
  timings: Record<string, number>;
}

export class ShardedSegmentation {
  private constructor(
    readonly config: SegmentationConfig,
    readonly workflow: Workflow,
    readonly warnings: string[],
    private readonly options: ShardedSegmentationOptions,
  ) {}

  static async create(options: ShardedSegmentationOptions): Promise<ShardedSegmentation> {
    const { config, workflow, warnings } = resolveRun(options.config, options.workflow);
    positiveOption(options.threads, 'threads');
    positiveOption(options.kernelThreads, 'kernel threads');
    positiveOption(options.shardSize, 'shard_size');
    if (options.overlap !== undefined && !(Number.isSafeInteger(options.overlap) && options.overlap >= 0)) {
      throw new InputError(`overlap_px must be an integer ≥ 0, got ${options.overlap}`, 'ERR_SCSEG_ARGUMENT');
    }
    return new ShardedSegmentation(config, workflow, warnings, options);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.log(`warning: ${message}`);
  }

  /** The shard plan for an image of this size (cores on the local threshold's grid). */
  plan(width: number, height: number): Shard[] {
    const { shardSize, overlap } = this.parameters();
    if (shardSize === undefined) {
      throw new InputError(`shard_size is not set: give it in the config section or with --shard-size`, 'ERR_SCSEG_ARGUMENT');
    }
    // A shard must hold at least one whole cell: the largest the size filter keeps, when it says.
    const sections = this.config as { nucleus?: { sizeFilter?: SizeFilter | null }; cytosol?: { sizeFilter?: SizeFilter | null } };
    const largest = Math.max(
      0,
      ...[sections.nucleus?.sizeFilter, sections.cytosol?.sizeFilter].map((f) => (f?.kind === 'thresholds' ? f.max : 0)),
    );
    // (A cell is owned by the shard holding its centroid and may reach into the overlap: the window must hold it.)
    const window = (Math.floor(Math.sqrt(shardSize)) + 2 * overlap) ** 2;
    if (this.config.filterMasksSize && Number.isFinite(largest) && window < largest) {
      throw new InputError(
        `shard_size ${shardSize} px with overlap_px ${overlap}: a shard's window (${window} px) is smaller than one ` +
          `cell may be (max_size ${largest} px); raise shard_size or overlap_px`,
        'ERR_SCSEG_ARGUMENT',
      );
    }
    return planShards(width, height, { shardSize, overlap, align: shardAlign(this.config) });
  }

  private parameters() {
    const s = this.config.sharding;
    const o = this.options;
    return {
      shardSize: o.shardSize ?? s.shardSize ?? undefined,
      overlap: o.overlap ?? s.overlapPx ?? DEFAULT_OVERLAP_PX,
      workers: o.threads ?? s.threads ?? 1,
    };
  }

  async run(run: ShardedRunOptions): Promise<ShardedRunResult> {
    const started = performance.now();
    const timings: Record<string, number> = {};
    const lap = (name: string, t0: number) => (timings[name] = (performance.now() - t0) / 1000);
    const paths = typeof run.input === 'string' ? [run.input] : [...run.input];
    const input: InputSpec = { paths: paths.map((p) => path.resolve(p)), dataset: run.dataset };
    prepareOutputDir(run.output);

    // Shape and channel selection checked here, before any worker starts.
    const source = await openImage(paths.length === 1 ? paths[0] : paths, { dataset: run.dataset });
    const { width, height } = source;
    try {
      stackReader(source, this.config, this.workflow.descriptor.masks);
    } finally {
      await source.close();
    }
    const { shardSize, overlap, workers: wanted } = this.parameters();
    const shards = this.plan(width, height);
    const reach = this.workflow.reach(this.config);
    if (overlap < reach) {
      this.warn(
        `overlap_px ${overlap} is below ${this.config.workflow}'s reach (${reach} px: its filters' context plus room for ` +
          'one cell); cells near shard borders may differ from an unsharded run. Raise overlap_px to at least that',
      );
    }
    const output = path.resolve(run.output);
    const cacheDir = shardCacheDir(output, this.config, this.options.cache);
    const key = {
      inputs: describeInputs(input.paths),
      workflow: this.config.workflow,
      config: this.config,
      shardSize: shardSize!,
      overlap,
      width,
      height,
    };
    const cache = await ShardCache.open(cacheDir, JSON.parse(JSON.stringify(key)), shards, this.options.overwrite ?? false);
    const todo = shards.map((_, i) => i).filter((i) => !cache.finished.has(i));
    if (cache.finished.size > 0) {
      this.log(`resuming from ${cacheDir}: ${cache.finished.size} of ${shards.length} shards already done`);
    }
    const workers = Math.max(1, Math.min(wanted, todo.length || 1));
    const kernelThreads = this.options.kernelThreads ?? Math.max(1, Math.floor(cores() / workers));
    this.log(
      `${this.config.workflow}, sharded: ${width}×${height} in ${shards.length} shards of ≤ ${shardSize} px, ` +
        `overlap ${overlap} px; ${workers} worker${workers === 1 ? '' : 's'} × ${kernelThreads} kernel thread${kernelThreads === 1 ? '' : 's'}`,
    );

    const pool = new WorkerPool(workers, { backend: this.options.backend ?? 'auto', threads: kernelThreads });
    const abort = () => void pool.close(run.signal!.reason as Error);
    run.signal?.throwIfAborted();
    run.signal?.addEventListener('abort', abort, { once: true });
    const progress = this.options.progress;
    let stitched: StitchTaskValue;
    const maskNames: string[] = [...this.workflow.descriptor.masks];
    try {
      let t0 = performance.now();
      if (todo.length > 0 && !fs.existsSync(cache.globalsFile)) {
        this.log('global pass: whole-image statistics and marker orders');
        // The sweeps' tiles are the shards' cores, read with at least the workflow's reach around them.
        const args: GlobalTaskArgs = {
          input, config: this.config, threads: cores(), file: cache.globalsFile,
          tileSize: Math.max(shards[0].core.width, shards[0].core.height), margin: Math.max(overlap, reach),
          parallel: workers > 1,
        };
        await pool.run('sharded.global', args, {
          label: 'the global pass',
          onProgress: (step) => progress?.({ stage: 'global', step }),
        });
      }
      lap('global', t0);

      t0 = performance.now();
      let done = cache.finished.size;
      progress?.({ stage: 'shards', done, total: shards.length });
      const label = (i: number) => {
        const c = shards[i].core;
        return `shard ${i + 1} of ${shards.length} (x ${c.x}–${c.x + c.width}, y ${c.y}–${c.y + c.height})`;
      };
      const results = await Promise.allSettled(
        todo.map(async (i) => {
          const args: ShardTaskArgs = {
            input, config: this.config, globalsFile: cache.globalsFile, index: i, shard: shards[i],
            imageWidth: width, imageHeight: height, file: cache.shardFile(i),
          };
          const value = await pool.run<ShardTaskValue>('sharded.shard', args, { label: label(i) });
          progress?.({ stage: 'shards', done: ++done, total: shards.length });
          return value;
        }),
      );
      const kept = results.filter((r) => r.status === 'fulfilled').length + cache.finished.size;
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (run.signal?.aborted || failed) {
        this.log(`${kept} of ${shards.length} shards are finished and kept in ${cacheDir}; the same command continues from there`);
        run.signal?.throwIfAborted();
        throw failed!.reason;
      }
      lap('shards', t0);

      t0 = performance.now();
      this.log(`stitching ${shards.length} shards into ${run.output}`);
      const files = {
        segmentation: path.join(output, 'segmentation.h5'),
        classes: path.join(output, 'classes.csv'),
        zarr: run.zarr ? path.join(output, 'labels.zarr') : undefined,
      };
      const args: StitchTaskArgs = {
        files: shards.map((_, i) => cache.shardFile(i)),
        width, height, maskNames,
        segmentation: files.segmentation,
        zarr: files.zarr,
        classes: files.classes,
        chunkSize: this.config.chunkSize,
        compression: 1,
      };
      stitched = await pool.run<StitchTaskValue>('sharded.stitch', args, {
        label: 'stitching',
        onProgress: (step) => progress?.({ stage: 'stitch', step }),
      });
      lap('stitch', t0);
      if (stitched.conflicts > 0) {
        this.warn(`${stitched.conflicts} pixels were claimed by cells of two shards (overlap_px ${overlap} is too small for these cells); raise overlap_px`);
      }
      if (!this.options.keepCache) cache.remove();
      lap('total', started);
      return {
        workflow: this.config.workflow,
        cells: stitched.cells,
        shards: shards.length,
        reusedShards: cache.finished.size,
        conflicts: stitched.conflicts,
        files: { segmentation: files.segmentation, classes: files.classes, ...(files.zarr ? { zarr: files.zarr } : {}) },
        warnings: this.warnings,
        workers,
        kernelThreads,
        timings,
      };
    } finally {
      run.signal?.removeEventListener('abort', abort);
      await pool.close();
    }
  }
}
