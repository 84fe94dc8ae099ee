/** `scseg segment`: one run from flags to a results directory, with progress and Ctrl-C handling. */
import { loadConfig } from '../config/index.js';
import type { SegmentationConfig, WorkflowAlias } from '../config/types.js';
import { InputError, ScsegError } from '../errors.js';
import { openImage } from '../io/index.js';
import type { BackendName } from '../kernels/index.js';
import { Segmentation } from '../segmentation/segmentation.js';
import { ShardedSegmentation } from '../segmentation/sharded-segmentation.js';
import { workflowFor } from '../workflows/index.js';
import { resolveWorkflow, WORKFLOW_NAMES } from '../workflows/registry.js';
import { segmentBatch } from './batch.js';
import { createProgress, type Progress } from './progress.js';

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

/** Ctrl-C aborts the run between steps; nothing is left half-written (outputs are renamed into place). */
function interruptible(progress: Progress): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C: stop at once
    progress.warn(`${name}: stopping after the current step (press Ctrl-C again to stop now)`);
    controller.abort(new InterruptedError());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export class InterruptedError extends ScsegError {
  constructor() {
    super('ERR_SCSEG_INTERRUPTED', 'interrupted; no result was written (files already in the output directory are unchanged)');
  }
}

export async function segment(flags: SegmentFlags): Promise<void> {
  const progress = createProgress({ quiet: flags.quiet, stages: 4 });
  const { signal, dispose } = interruptible(progress);
  const started = performance.now();
  try {
    progress.stage('loading config');
    if (flags.models !== undefined) process.env.SCSEG_MODELS = flags.models;
    const alias = workflowName(flags.workflow);
    workflowFor(alias); // an unavailable workflow fails before the config is read
    const { config, warnings } = loadConfig({ path: flags.config }, alias);
    for (const w of warnings) progress.warn(w);
    if (await segmentBatch(config, flags, progress, signal, started)) return;
    if (await shardedRun(config, flags)) {
      await segmentSharded(config, flags, progress, signal, started);
      return;
    }
    const segmentation = await Segmentation.create({
      config,
      workflow: config.workflow,
      backend: flags.backend,
      threads: flags.threads,
      log: (m) => (m.startsWith('warning: ') ? progress.warn(m.slice(9)) : m.startsWith('segmenting with') ? progress.info(m) : progress.stage(m)),
    });
    const result = await segmentation.run({
      input: flags.input,
      output: flags.output,
      zarr: flags.format === 'zarr',
      qc: flags.qc,
      dataset: flags.dataset,
      signal,
    });
    const seconds = (performance.now() - started) / 1000;
    if (result.classes.length === 0) progress.warn(noCellsWarning(config));
    progress.done(`${result.classes.length} cells, ${result.masks.length} mask(s) → ${flags.output} (${seconds.toFixed(2)} s)`);
  } finally {
    progress.close();
    dispose();
  }
}


async function segmentSharded(
  config: SegmentationConfig,
  flags: SegmentFlags,
  progress: Progress,
  signal: AbortSignal,
  started: number,
): Promise<void> {
  const sharded = await ShardedSegmentation.create({
    config,
    workflow: config.workflow,
    backend: flags.backend,
    threads: flags.threads,
    shardSize: flags.shardSize,
    overlap: flags.overlap,
    cache: flags.cache,
    overwrite: flags.overwrite,
    keepCache: flags.keepCache,
    log: (m) => (m.startsWith('warning: ') ? progress.warn(m.slice(9)) : progress.info(m)),
    progress: (e) => {
      if (e.stage === 'shards') progress.steps(e.done, e.total, `shards ${e.done}/${e.total}`);
      // The global pass's sweeps, not each kernel step inside them.
      else if (e.stage === 'stitch' || e.step.startsWith('global')) progress.stage(e.stage === 'global' ? `global pass: ${e.step}` : e.step);
    },
  });
  if (flags.qc) progress.info('sharded runs write no QC overlay (the image may be larger than memory)');
  const result = await sharded.run({ input: flags.input, output: flags.output, zarr: flags.format === 'zarr', dataset: flags.dataset, signal });
  const seconds = (performance.now() - started) / 1000;
  const reused = result.reusedShards > 0 ? `, ${result.reusedShards} reused from the cache` : '';
  if (result.cells === 0) progress.warn(noCellsWarning(config));
  progress.done(`${result.cells} cells, ${result.shards} shards${reused} → ${flags.output} (${seconds.toFixed(2)} s)`);
}

/** Zero cells is rarely what a user wants: say so, with where to look first. */
function noCellsWarning(config: SegmentationConfig): string {
  const hints = ['the channel selection (which channel is the nucleus?)'];
  if (config.filterMasksSize) hints.unshift('the size filter bounds (filter_masks_size is on: min_size/max_size against your cells\' areas in pixels)');
  hints.push(config.workflow.includes('Cellpose') ? 'diameter and cellprob_threshold' : 'the threshold settings');
  return `no cells were found; check ${hints.join(', ')}`;
}
