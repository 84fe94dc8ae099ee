/**
 * `scseg segment`: one run from flags to a results folder, with progress and Ctrl-C handling.
 *
 * The results folder is one transaction (lib/segmentation/results-folder.ts): the run writes into a staging folder
 * inside it, then run.json (lib/segmentation/run-manifest.ts), then the staged results replace the earlier ones as
 * a whole. A folder that already holds results needs --overwrite. Interrupted or failed, the run leaves the folder
 * as it was (a sharded run's shard cache, hidden in it, is kept for the next identical command).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/index.js';
import type { SegmentationConfig, WorkflowAlias } from '../config/types.js';
import { InputError } from '../errors.js';
import { openImage } from '../io/index.js';
import { kernels, type BackendName } from '../kernels/index.js';
import { closeSharedWorkers } from '../parallel/shared-pool.js';
import { ResultsFolder } from '../segmentation/results-folder.js';
import { digestEntries, digestsAsWritten } from '../segmentation/run-manifest.js';
import { removeCacheTemporaries, shardCacheDir } from '../segmentation/shard-cache.js';
import { Segmentation } from '../segmentation/segmentation.js';
import { DEFAULT_OVERLAP_PX, ShardedSegmentation } from '../segmentation/sharded-segmentation.js';
import { workflowFor } from '../workflows/index.js';
import { resolveWorkflow, WORKFLOW_NAMES } from '../workflows/registry.js';
import { batchInput, segmentBatch } from './batch.js';
import { commitRun, describeInputs, manifestBase, type Invocation, type RunContext } from './run-context.js';
import { createProgress, type Progress } from './progress.js';
import { InterruptedError, interruptible } from './signals.js';

export { InterruptedError } from './signals.js';
export type { Invocation } from './run-context.js';

export function workflowName(value: string): WorkflowAlias {
  if (!resolveWorkflow(value)) {
    throw new InputError(`unknown workflow "${value}"; available: ${WORKFLOW_NAMES.join(', ')}`, 'ERR_SCSEG_WORKFLOW');
  }
  return value as WorkflowAlias;
}

export interface SegmentFlags {
  config: string;
  workflow: string;
  /** Absent with --batch (segmentBatch refuses neither/both, so the single-image paths always have it). */
  input: string[];
  /** A plate CSV: a batch run (lib/cli/batch.ts). */
  batch?: string;
  /** HDF5 input: the dataset to read. */
  dataset?: string;
  /** Cellpose: where built-in models are looked up (sets SCSEG_MODELS for this process and its workers). */
  models?: string;
  output: string;
  /** Undefined unless given: SCSEG_BACKEND then decides, else auto. */
  backend?: BackendName | 'auto';
  threads?: number;
  format: 'h5' | 'zarr';
  qc: boolean;
  quiet: boolean;
  /** Sharding overrides of the config's shard_size / overlap_px. */
  shardSize?: number;
  overlap?: number;
  cache?: string;
  /** Replace the results already in --output; sharded runs: also discard a cache of a run with other arguments. */
  overwrite?: boolean;
  keepCache?: boolean;
}

/**
 * Sharded when the workflow is a Sharded* one, or when a shard size (flag or config) is below the image's pixel
 * count, as scPortrait's users set `shard_size` to bound memory.
 */
async function shardedRun(config: SegmentationConfig, flags: SegmentFlags): Promise<boolean> {
  if (config.segmentationClass === 'ShardedSegmentation') return true;
  const shardSize = flags.shardSize ?? config.sharding.shardSize;
  if (shardSize === null || shardSize === undefined) return false;
  const source = await openImage(flags.input.length === 1 ? flags.input[0] : flags.input, { dataset: flags.dataset });
  await source.close();
  return shardSize < source.width * source.height;
}

/** Progress whose warnings are also kept for run.json. */
function recording(progress: Progress, warnings: string[]): Progress {
  return { ...progress, warn: (m) => (warnings.push(m), progress.warn(m)) };
}

/** A log callback of the segmentation classes: warnings, lines that stay, stages; staging paths shown as the target. */
function logTo(progress: Progress, folder: ResultsFolder, stay: (m: string) => boolean = () => true): (m: string) => void {
  return (raw) => {
    const m = folder.shown(raw);
    if (m.startsWith('warning: ')) progress.warn(m.slice(9));
    else if (stay(m)) progress.info(m);
    else progress.stage(m);
  };
}

export async function segment(flags: SegmentFlags, invocation: Invocation = { command: 'segment' }): Promise<void> {
  const warnings: string[] = [];
  const progress = recording(createProgress({ quiet: flags.quiet, stages: 4 }), warnings);
  const interruption = interruptible(
    (name) => progress.warn(`${name}: stopping; ${flags.output} stays as it was (${name === 'SIGINT' ? 'press Ctrl-C' : 'send it'} again to stop at once)`),
    (name) => progress.warn(`${name} again: stopping now`),
  );
  const { signal } = interruption;
  let folder: ResultsFolder | undefined;
  try {
    const started = { clock: performance.now(), date: new Date() };
    progress.stage('loading config');
    if (flags.models !== undefined) process.env.SCSEG_MODELS = flags.models;
    const alias = workflowName(flags.workflow);
    workflowFor(alias); // an unavailable workflow fails before the config is read
    const { config, warnings: configWarnings } = loadConfig({ path: flags.config }, alias);
    for (const w of configWarnings) progress.warn(w);
    const batch = await batchInput(config, flags);
    const sharded = batch === undefined && (await shardedRun(config, flags));
    // Everything checked that can be before a file is touched; from here the run writes into its staging folder.
    folder = ResultsFolder.open(flags.output, { overwrite: flags.overwrite, replaceable: invocation.replaceable });
    const run: RunContext = { config, configFile: flags.config, flags, invocation, progress, signal, folder, started, warnings };
    if (batch !== undefined) await segmentBatch(run, batch);
    else if (sharded) await segmentSharded(run);
    else await segmentInMemory(run);
  } catch (err) {
    if (folder && err instanceof Error) err.message = folder.shown(err.message);
    if (signal.aborted && !folder?.committed) {
      // A run abandoned on a signal may still have its worker inside a step: stop it before removing its files.
      await closeSharedWorkers(signal.reason as Error);
      folder?.discard();
      const { signalName } = signal.reason as InterruptedError;
      throw new InterruptedError(signalName, `interrupted (${signalName}); ${flags.output} is as it was`);
    }
    folder?.discard();
    throw err;
  } finally {
    progress.close();
    interruption.dispose();
  }
}

async function segmentInMemory(run: RunContext): Promise<void> {
  const { config, flags, progress, folder } = run;
  const inputs = describeInputs(flags.input);
  const segmentation = await Segmentation.create({
    config,
    workflow: config.workflow,
    backend: flags.backend,
    threads: flags.threads,
    log: logTo(progress, folder, (m) => m.startsWith('segmenting with')),
    writeOnCallingThread: true, // this thread only waits meanwhile: h5wasm loads here during the run
  });
  // Each output is checksummed for run.json as soon as it is written, while the next one is being written.
  const digests = digestsAsWritten();
  const result = await segmentation.run({
    input: flags.input,
    output: folder.staging,
    onFileWritten: digests.onFileWritten,
    zarr: flags.format === 'zarr',
    qc: flags.qc,
    dataset: flags.dataset,
    signal: run.signal,
  });
  if (result.classes.length === 0) progress.warn(noCellsWarning(config));
  const k = segmentation.kernels;
  const seconds = (performance.now() - run.started.clock) / 1000;
  await commitRun(run, {
    ...(await manifestBase(run)),
    segmentation: 'Segmentation',
    backend: k.backendName,
    threads: { workers: 1, kernelThreads: k.backendName === 'wasm' ? 1 : k.threads },
    inputs: await inputs,
    ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}),
    options: { format: flags.format, qc: flags.qc },
    seconds: { ...result.timings, total: seconds },
    cells: result.classes.length,
    masks: [...result.maskNames],
    files: await digestEntries(folder.staging, digests.map),
  });
  progress.done(`${result.classes.length} cells, ${result.masks.length} mask(s) → ${flags.output} (${seconds.toFixed(2)} s)`);
}

async function segmentSharded(run: RunContext): Promise<void> {
  const { config, flags, progress, folder } = run;
  const inputs = describeInputs(flags.input);
  // The cache belongs to the results folder the user named, not to this run's staging folder: an identical
  // command finds it again. It is hidden, so the commit leaves it alone.
  const cache = shardCacheDir(folder.target, config, flags.cache);
  const backend = kernels(flags.backend).backendName;
  const sharded = await ShardedSegmentation.create({
    config,
    workflow: config.workflow,
    backend,
    threads: flags.threads,
    shardSize: flags.shardSize,
    overlap: flags.overlap,
    cache,
    overwrite: flags.overwrite,
    // Removed here once the results are committed: a stop before the swap must still find every shard.
    keepCache: true,
    log: logTo(progress, folder),
    progress: (e) => {
      if (e.stage === 'shards') progress.steps(e.done, e.total, `shards ${e.done}/${e.total}`);
      // The global pass's sweeps, not each kernel step inside them.
      else if (e.stage === 'stitch' || e.step.startsWith('global')) progress.stage(e.stage === 'global' ? `global pass: ${e.step}` : e.step);
    },
  });
  if (flags.qc) progress.info('sharded runs write no QC overlay (the image may be larger than memory)');
  // A worker stopped mid-write leaves a temporary in the cache; the finished shards stay.
  const sweep = () => removeCacheTemporaries(cache, [process.pid]);
  process.on('exit', sweep);
  let result;
  try {
    result = await sharded.run({ input: flags.input, output: folder.staging, zarr: flags.format === 'zarr', dataset: flags.dataset, signal: run.signal });
  } catch (err) {
    sweep();
    throw err;
  } finally {
    process.off('exit', sweep);
  }
  if (result.cells === 0) progress.warn(noCellsWarning(config));
  const seconds = (performance.now() - run.started.clock) / 1000;
  await commitRun(run, {
    ...(await manifestBase(run)),
    segmentation: 'ShardedSegmentation',
    backend,
    threads: { workers: result.workers, kernelThreads: result.kernelThreads },
    inputs: await inputs,
    ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}),
    options: {
      format: flags.format,
      shardSize: flags.shardSize ?? config.sharding.shardSize,
      overlap: flags.overlap ?? config.sharding.overlapPx ?? DEFAULT_OVERLAP_PX,
      shards: result.shards,
      reusedShards: result.reusedShards,
      conflicts: result.conflicts,
      cache: path.relative(folder.target, cache).startsWith('..') ? cache : path.relative(folder.target, cache),
      keepCache: flags.keepCache ?? false,
    },
    seconds: { ...result.timings, total: seconds },
    cells: result.cells,
    masks: [...sharded.workflow.descriptor.masks],
    files: await digestEntries(folder.staging),
  });
  if (!flags.keepCache) fs.rmSync(cache, { recursive: true, force: true });
  const reused = result.reusedShards > 0 ? `, ${result.reusedShards} reused from the cache` : '';
  progress.done(`${result.cells} cells, ${result.shards} shards${reused} → ${flags.output} (${seconds.toFixed(2)} s)`);
}

/** Zero cells is rarely what a user wants: say so, with where to look first. */
function noCellsWarning(config: SegmentationConfig): string {
  const hints = ['the channel selection (which channel is the nucleus?)'];
  if (config.filterMasksSize) hints.unshift('the size filter bounds (filter_masks_size is on: min_size/max_size against your cells\' areas in pixels)');
  hints.push(config.workflow.includes('Cellpose') ? 'diameter and cellprob_threshold' : 'the threshold settings');
  return `no cells were found; check ${hints.join(', ')}`;
}
