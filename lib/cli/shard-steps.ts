/**
 * The sharded run as separate commands, for clusters without Redis (lib/distributed/plan.ts):
 *
 *   scseg segment … --shard-size N --plan-only plan.json   plan + global pass (one process)
 *   scseg shard --plan plan.json --index I                  shard I (any machine, any order, retried at will)
 *   scseg stitch --plan plan.json                           the results folder, once every shard is done
 *
 * `--index` defaults to JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (Slurm array job).
 */
import path from 'node:path';
import type { SegmentationConfig } from '../config/types.js';
import { InputError } from '../errors.js';
import { kernels, type BackendName } from '../kernels/index.js';
import { shardCacheDir } from '../segmentation/shard-cache.js';
import { createPlan, globalPassOnPool, readPlan, runShard, shardIndex, stitchPlan, writePlan, type ShardPlan } from '../distributed/plan.js';
import { workflowFor } from '../workflows/index.js';
import { createProgress, type Progress } from './progress.js';
import type { SegmentFlags } from './segment.js';
import { InterruptedError, interruptible } from './signals.js';

/** The flags of `scseg segment` as a plan request (inputs, output, sharding, cache). */
export function planRequest(flags: SegmentFlags, config: SegmentationConfig, log: (m: string) => void) {
  if (flags.batch !== undefined) throw new InputError('--plan-only / --distributed: batches (--batch) cannot be distributed yet; give one image with --input', 'ERR_SCSEG_ARGUMENT');
  if (!flags.input?.length) throw new InputError('--plan-only / --distributed need --input', 'ERR_SCSEG_ARGUMENT');
  const shardSize = flags.shardSize ?? config.sharding.shardSize;
  if (shardSize === null || shardSize === undefined) {
    throw new InputError('--plan-only / --distributed run a sharded segmentation: give --shard-size (or shard_size in the config section)', 'ERR_SCSEG_ARGUMENT');
  }
  const backend: BackendName | 'auto' = flags.backend ?? 'auto';
  return {
    request: {
      config, configFile: flags.config, inputs: flags.input, dataset: flags.dataset, output: flags.output,
      shardSize: flags.shardSize, overlap: flags.overlap, cache: flags.cache, zarr: flags.format === 'zarr',
      overwrite: flags.overwrite ?? false, keepCache: flags.keepCache ?? false, backend, log,
    },
    work: shardCacheDir(flags.output, config, flags.cache),
  };
}

/** `scseg segment` flags with the distributed ones. */
export interface StepFlags extends SegmentFlags {
  /** Write the plan here and run the global pass; the shards and the stitch are separate commands. */
  planOnly?: string;
  /** Run the shards on BullMQ workers (lib/distributed/queue.ts). */
  distributed?: boolean;
  redis?: string;
  prefix?: string;
  detach?: boolean;
}

/** `scseg segment … --plan-only FILE` or `… --distributed`: the config and flags checked as `segment` does. */
export async function segmentSteps(flags: StepFlags): Promise<void> {
  if (flags.planOnly !== undefined && flags.distributed) throw new InputError('--plan-only and --distributed exclude each other', 'ERR_SCSEG_ARGUMENT');
  const progress = createProgress({ quiet: flags.quiet, stages: 3 });
  await withSignals(progress, async (signal) => {
    const { loadConfig } = await import('../config/index.js');
    const { workflowName } = await import('./segment.js');
    progress.stage('loading config');
    if (flags.models !== undefined) process.env.SCSEG_MODELS = flags.models;
    const alias = workflowName(flags.workflow);
    workflowFor(alias);
    const { config, warnings } = loadConfig({ path: flags.config }, alias);
    for (const w of warnings) progress.warn(w);
    if (flags.planOnly !== undefined) return planOnly({ ...flags, planOnly: flags.planOnly }, config, progress, signal);
    const { submitDistributed } = await import('./distributed.js');
    return submitDistributed(flags, config, progress, signal);
  }, flags.distributed ? 'stopping; a queued run goes on on the workers (scseg wait RUN follows it)' : undefined);
}

/** `scseg segment … --plan-only FILE`: the plan and the global pass; the shards and the stitch are left to run. */
async function planOnly(flags: SegmentFlags & { planOnly: string }, config: SegmentationConfig, progress: Progress, signal: AbortSignal): Promise<void> {
  const { request, work } = planRequest(flags, config, (m) => (m.startsWith('warning: ') ? progress.warn(m.slice(9)) : progress.info(m)));
  progress.stage('planning shards');
  const plan = await createPlan(request, work);
  progress.stage('global pass: whole-image statistics and marker orders');
  await globalPassOnPool(plan, flags.threads ?? config.sharding.threads ?? 1, plan.backend, signal);
  const file = path.resolve(flags.planOnly);
  await writePlan(file, plan);
  const n = plan.shards.length;
  progress.done(
    `plan of ${n} shards (${plan.width}×${plan.height}, ≤ ${plan.shardSize} px, overlap ${plan.overlap} px) → ${flags.planOnly}; ` +
      `next: scseg shard --plan ${flags.planOnly} --index I for I in 0…${n - 1}, then scseg stitch --plan ${flags.planOnly}`,
  );
}

export interface ShardFlags {
  plan: string;
  index?: string;
  backend?: BackendName | 'auto';
  threads?: number;
  quiet: boolean;
}

/** Runs `body` with Ctrl-C / SIGTERM turned into the usual exit codes. */
export async function withSignals<T>(
  progress: Progress,
  body: (signal: AbortSignal) => Promise<T>,
  stopping = 'stopping (finished shards are kept)',
): Promise<T> {
  const interruption = interruptible(
    (name) => progress.warn(`${name}: ${stopping}`),
    (name) => progress.warn(`${name} again: stopping now`),
  );
  try {
    return await body(interruption.signal);
  } catch (err) {
    if (interruption.signal.aborted) {
      const { signalName } = interruption.signal.reason as InterruptedError;
      throw new InterruptedError(signalName);
    }
    throw err;
  } finally {
    progress.close();
    interruption.dispose();
  }
}


/** `scseg shard --plan FILE [--index I]`. */
export async function shardCommand(flags: ShardFlags): Promise<void> {
  const progress = createProgress({ quiet: flags.quiet, stages: 1 });
  await withSignals(progress, async (signal) => {
    const plan = readPlan(flags.plan);
    const index = shardIndex(plan, flags.index);
    const k = kernels(flags.backend ?? (plan.backend === 'auto' ? undefined : plan.backend), { threads: flags.threads });
    const c = plan.shards[index].core;
    progress.stage(`shard ${index} of ${plan.shards.length} (x ${c.x}–${c.x + c.width}, y ${c.y}–${c.y + c.height}) on ${k.backendName} × ${k.threads}`);
    const r = await runShard(plan, index, k, signal);
    progress.done(r.reused ? `shard ${index}: already done (${r.count} cells), nothing to do` : `shard ${index}: ${r.count} cells (${r.seconds.toFixed(2)} s)`);
  });
}

/** `scseg stitch --plan FILE`. */
export async function stitchCommand(flags: { plan: string; quiet: boolean }): Promise<void> {
  const progress = createProgress({ quiet: flags.quiet, stages: 1 });
  await withSignals(progress, async (signal) => {
    const plan = readPlan(flags.plan);
    progress.stage(`stitching ${plan.shards.length} shards into ${plan.output}`);
    const r = await stitchPlan(plan, { transport: 'indexed', backend: plan.backend, signal, progress: (s) => progress.stage(s) });
    progress.done(r.already ? `${plan.output} already holds this plan's results (${r.cells} cells)` : `${r.cells} cells, ${plan.shards.length} shards → ${plan.output} (${r.seconds.toFixed(2)} s)`);
  });
}
