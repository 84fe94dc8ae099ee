/**
 * A sharded run cut into steps that any process, on any machine that sees the same storage, can run: the plan
 * (a JSON file naming the inputs, the resolved config, the shards and where their outputs go), the global pass,
 * one shard by its index, and the stitch. The steps are ShardedSegmentation's own — the same plan
 * (`ShardedSegmentation.plan`), the same tasks (`sharded.global`, `sharded.shard`, `sharded.stitch` of
 * segmentation/shard-tasks.ts) and the same on-disk cache layout (shard-cache.ts) — so the result is the
 * single-machine sharded run's, ids included. Only the transport differs: `scseg shard --index I` (Kubernetes
 * Indexed Jobs, Slurm arrays) or BullMQ jobs (queue.ts).
 *
 * Every step is idempotent. A shard's output is written to a temporary name and renamed, and a shard whose output
 * exists is not run again, so a retried, duplicated or resumed shard never corrupts the result; the stitch writes
 * the results folder as one transaction (results-folder.ts) and is a no-op once its run.json records this plan.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SegmentationConfig } from '../config/types.js';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { openImage } from '../io/index.js';
import type { BackendName, Kernels } from '../kernels/index.js';
import { stackReader } from '../segmentation/channels.js';
import { ResultsFolder } from '../segmentation/results-folder.js';
import {
  describeInput,
  digestEntries,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  packageVersion,
  readManifest,
  writeManifest,
  type RunManifest,
} from '../segmentation/run-manifest.js';
import { describeInputs, ShardCache } from '../segmentation/shard-cache.js';
import { ShardFile } from '../segmentation/shard-store.js';
import {
  SHARD_TASKS,
  type GlobalTaskArgs,
  type InputSpec,
  type ShardTaskArgs,
  type ShardTaskValue,
  type StitchTaskArgs,
  type StitchTaskValue,
} from '../segmentation/shard-tasks.js';
import { DEFAULT_OVERLAP_PX, ShardedSegmentation } from '../segmentation/sharded-segmentation.js';
import type { Shard } from '../segmentation/sharding.js';
import type { TaskContext } from '../parallel/worker-tasks.js';
import { WorkerPool } from '../parallel/worker-pool.js';
import { cores } from '../segmentation/class-options.js';
import { workflowFor } from '../workflows/index.js';

export const PLAN_FORMAT = 1;
const PLAN_KIND = 'scseg-shard-plan';

/** A sharded run as files: everything a step needs, nothing it must ask the process that made the plan. */
export interface ShardPlan {
  format: typeof PLAN_FORMAT;
  kind: typeof PLAN_KIND;
  /** The run's id (BullMQ namespaces its jobs by it; run.json records it). */
  id: string;
  created: string;
  scseg: { version: string; argv: string[] };
  workflow: string;
  /** The resolved config (every default applied): the steps never read the YAML again. */
  config: SegmentationConfig;
  configFile: { path: string; sha256: string };
  /** Absolute paths, as the steps re-open them; size and mtime as planned (a changed input is refused). */
  input: InputSpec;
  inputs: { path: string; size: number; mtimeMs: number }[];
  width: number;
  height: number;
  shardSize: number;
  overlap: number;
  shards: Shard[];
  maskNames: string[];
  /** The shard cache: globals.v8 and one shard-NNNNNN.bin per finished shard (shard-cache.ts). */
  work: string;
  /** The results folder the stitch writes (one transaction, run.json last). */
  output: string;
  zarr: boolean;
  /** The stitch may replace earlier results in `output`. */
  overwrite: boolean;
  keepCache: boolean;
  /** The kernel backend asked for (each step runs the one its machine has unless this names one). */
  backend: BackendName | 'auto';
  warnings: string[];
}

export interface PlanRequest {
  config: SegmentationConfig;
  configFile: string;
  inputs: string[];
  dataset?: string;
  output: string;
  shardSize?: number;
  overlap?: number;
  cache?: string;
  zarr: boolean;
  overwrite: boolean;
  keepCache: boolean;
  backend: BackendName | 'auto';
  log?: (message: string) => void;
}

/** A run id: time-ordered, short, safe in file names and Redis keys. */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Checks the inputs, the results folder and the shard parameters, plans the shards and opens the shard cache
 * (`<output>/.scseg-cache` unless `cache`). Nothing is segmented yet; the global pass is its own step.
 */
export async function createPlan(request: PlanRequest, workDir: string): Promise<ShardPlan> {
  const { config } = request;
  const paths = request.inputs.map((p) => path.resolve(p));
  // The results folder is checked now (and left as it was): a plan whose stitch must fail is refused at once.
  ResultsFolder.open(request.output, { overwrite: request.overwrite }).discard();
  const sharded = await ShardedSegmentation.create({ config, workflow: config.workflow, shardSize: request.shardSize, overlap: request.overlap });
  const masks = sharded.workflow.descriptor.masks;
  const source = await openImage(paths.length === 1 ? paths[0] : paths, { dataset: request.dataset });
  const { width, height } = source;
  try {
    stackReader(source, config, masks);
  } finally {
    await source.close();
  }
  const shardSize = request.shardSize ?? config.sharding.shardSize ?? undefined;
  const overlap = request.overlap ?? config.sharding.overlapPx ?? DEFAULT_OVERLAP_PX;
  const shards = sharded.plan(width, height); // refuses a missing shard_size, naming the flag
  const warnings = [...sharded.warnings];
  const reach = sharded.workflow.reach(config);
  if (overlap < reach) {
    const w = `overlap_px ${overlap} is below ${config.workflow}'s reach (${reach} px); cells near shard borders may differ from an unsharded run`;
    warnings.push(w);
    request.log?.(`warning: ${w}`);
  }
  const inputs = describeInputs(paths);
  // The cache key of a local sharded run with these arguments: `scseg segment` without --distributed continues it.
  const key = { inputs, workflow: config.workflow, config, shardSize: shardSize!, overlap, width, height };
  await ShardCache.open(workDir, JSON.parse(JSON.stringify(key)), shards, request.overwrite);
  const configRecord = await describeInput(request.configFile);
  return {
    format: PLAN_FORMAT,
    kind: PLAN_KIND,
    id: newRunId(),
    created: new Date().toISOString(),
    scseg: { version: packageVersion(), argv: process.argv.slice(2) },
    workflow: config.workflow,
    config: JSON.parse(JSON.stringify(config)) as SegmentationConfig,
    configFile: { path: configRecord.path, sha256: configRecord.sha256 },
    input: { paths, ...(request.dataset !== undefined ? { dataset: request.dataset } : {}) },
    inputs,
    width,
    height,
    shardSize: shardSize!,
    overlap,
    shards,
    maskNames: [...masks],
    work: path.resolve(workDir),
    output: path.resolve(request.output),
    zarr: request.zarr,
    overwrite: request.overwrite,
    keepCache: request.keepCache,
    backend: request.backend,
    warnings,
  };
}

export function writePlan(file: string, plan: ShardPlan): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(plan, null, 1)}\n`);
}

/** Reads and checks a plan file (InputError naming the file and what is wrong). */
export function readPlan(file: string): ShardPlan {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`plan ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'ERR_SCSEG_PLAN', { cause: e });
  }
  let plan: ShardPlan;
  try {
    plan = JSON.parse(text) as ShardPlan;
  } catch (e) {
    throw new InputError(`plan ${file}: not JSON (${(e as Error).message})`, 'ERR_SCSEG_PLAN', { cause: e });
  }
  const ok =
    typeof plan === 'object' && plan !== null && plan.kind === PLAN_KIND && plan.format === PLAN_FORMAT &&
    Array.isArray(plan.shards) && Array.isArray(plan.input?.paths) && typeof plan.work === 'string' &&
    typeof plan.output === 'string' && typeof plan.config === 'object' && Number.isSafeInteger(plan.width) &&
    Number.isSafeInteger(plan.height) && /^[0-9a-z-]+$/.test(String(plan.id));
  if (!ok) throw new InputError(`plan ${file}: not a scseg shard plan (format ${PLAN_FORMAT}); write one with scseg segment … --plan-only`, 'ERR_SCSEG_PLAN');
  return plan;
}

/** Every path a plan makes the steps read or write (checked against a worker's data roots). */
export function planPaths(plan: ShardPlan): string[] {
  return [...plan.input.paths, plan.work, plan.output];
}

export function shardFile(plan: ShardPlan, index: number): string {
  return path.join(plan.work, `shard-${String(index).padStart(6, '0')}.bin`);
}

export function globalsFile(plan: ShardPlan): string {
  return path.join(plan.work, 'globals.v8');
}

/** A shard index given on the command line or by the scheduler (Kubernetes Indexed Job, Slurm array). */
export function shardIndex(plan: ShardPlan, given: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const from = given !== undefined ? '--index' : env.JOB_COMPLETION_INDEX !== undefined ? 'JOB_COMPLETION_INDEX' : 'SLURM_ARRAY_TASK_ID';
  const text = given ?? env.JOB_COMPLETION_INDEX ?? env.SLURM_ARRAY_TASK_ID;
  if (text === undefined) {
    throw new InputError('no shard index: pass --index I, or run as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm array job (SLURM_ARRAY_TASK_ID)', 'ERR_SCSEG_ARGUMENT');
  }
  const index = Number(text);
  if (!(text.trim() !== '' && Number.isSafeInteger(index) && index >= 0 && index < plan.shards.length)) {
    throw new InputError(`${from} ${JSON.stringify(text)}: the plan has shards 0 to ${plan.shards.length - 1}`, 'ERR_SCSEG_ARGUMENT');
  }
  return index;
}

/** The inputs must be the files the plan was made from (a changed file would give shards of two images). */
function checkInputsUnchanged(plan: ShardPlan): void {
  const now = describeInputs(plan.input.paths);
  now.forEach((n, i) => {
    const p = plan.inputs[i];
    if (!p || n.size !== p.size || n.mtimeMs !== p.mtimeMs) {
      throw new InputError(`input ${n.path} changed since the plan was made (${plan.created}); make a new plan`, 'ERR_SCSEG_PLAN');
    }
  });
}

/** A TaskContext for running a shard task in this process (no pool: the global pass's sweeps run here too). */
function taskContext(kernels: Kernels, signal: AbortSignal, progress: (step: string) => void = () => {}): TaskContext {
  return {
    kernels,
    signal,
    progress,
    subtasks: () => Promise.reject(new InputError('subtasks are not available in a distributed step', 'ERR_SCSEG_INTERNAL')),
  };
}

/** The global pass's task arguments, as ShardedSegmentation builds them. */
export function globalTaskArgs(plan: ShardPlan, threads: number, parallel: boolean, reach: number): GlobalTaskArgs {
  return {
    input: plan.input,
    config: plan.config,
    threads,
    file: globalsFile(plan),
    tileSize: Math.max(plan.shards[0].core.width, plan.shards[0].core.height),
    margin: Math.max(plan.overlap, reach),
    parallel,
  };
}

/**
 * The global pass on a pool of `workers` threads, as ShardedSegmentation runs it (its sweeps' tiles spread over the
 * pool); a no-op when its file exists.
 */
export async function globalPassOnPool(plan: ShardPlan, workers: number, backend: BackendName | 'auto', signal: AbortSignal): Promise<void> {
  if (fs.existsSync(globalsFile(plan))) return;
  checkInputsUnchanged(plan);
  const reach = workflowFor(plan.config.workflow).reach(plan.config);
  const pool = new WorkerPool(workers, { backend, threads: Math.max(1, Math.floor(cores() / workers)) });
  const stop = () => void pool.close(signal.reason as Error);
  signal.addEventListener('abort', stop, { once: true });
  try {
    await pool.run('sharded.global', globalTaskArgs(plan, cores(), workers > 1, reach), { label: 'the global pass' });
  } finally {
    signal.removeEventListener('abort', stop);
    await pool.close();
  }
}

export interface ShardOutcome {
  index: number;
  count: number;
  /** Its output existed already (a retry, a duplicate, a resumed run): nothing was run. */
  reused: boolean;
  seconds: number;
}

/** One shard, as ShardedSegmentation's workers run it; skipped when its output exists. */
export async function runShard(plan: ShardPlan, index: number, kernels: Kernels, signal: AbortSignal): Promise<ShardOutcome> {
  const started = performance.now();
  const file = shardFile(plan, index);
  if (fs.existsSync(file)) {
    const done = ShardFile.open(file);
    done.close();
    return { index, count: done.header.count, reused: true, seconds: 0 };
  }
  if (!fs.existsSync(globalsFile(plan))) {
    throw new InputError(`shard ${index}: the global pass has not run (no ${globalsFile(plan)}); run scseg segment … --plan-only first`, 'ERR_SCSEG_PLAN');
  }
  checkInputsUnchanged(plan);
  const args: ShardTaskArgs = {
    input: plan.input, config: plan.config, globalsFile: globalsFile(plan), index, shard: plan.shards[index],
    imageWidth: plan.width, imageHeight: plan.height, file,
  };
  const out = await SHARD_TASKS['sharded.shard'](args, taskContext(kernels, signal));
  return { index, count: (out.value as ShardTaskValue).count, reused: false, seconds: (performance.now() - started) / 1000 };
}

/** The shards whose output is not there yet. */
export function missingShards(plan: ShardPlan): number[] {
  return plan.shards.map((_, i) => i).filter((i) => !fs.existsSync(shardFile(plan, i)));
}

export interface StitchOutcome {
  cells: number;
  conflicts: number;
  /** The results folder held this plan's results already: nothing was done. */
  already: boolean;
  seconds: number;
}

/** run.json of `plan.output` when it records this plan's run. */
export function finishedManifest(plan: ShardPlan): RunManifest | undefined {
  const m = readManifest(path.join(plan.output, MANIFEST_FILE));
  return m && (m.options as { runId?: string }).runId === plan.id ? m : undefined;
}

/**
 * Stitches every shard of `plan` into its results folder (segmentation.h5, classes.csv, labels.zarr with zarr),
 * writes run.json and swaps them in; then removes the shard cache unless `keepCache`. A no-op when the folder
 * already holds this plan's results. `transport` is recorded in run.json (`indexed`, `bullmq`).
 */
export async function stitchPlan(
  plan: ShardPlan,
  options: { transport: string; backend: string; signal?: AbortSignal; progress?: (step: string) => void; extra?: Record<string, unknown> },
): Promise<StitchOutcome> {
  const started = { clock: performance.now(), date: new Date() };
  const done = finishedManifest(plan);
  if (done) return { cells: done.cells, conflicts: Number((done.options as { conflicts?: number }).conflicts ?? 0), already: true, seconds: 0 };
  const missing = missingShards(plan);
  if (missing.length > 0) {
    const list = missing.length <= 8 ? missing.join(', ') : `${missing.slice(0, 8).join(', ')} and ${missing.length - 8} more`;
    throw new InputError(
      `${missing.length} of ${plan.shards.length} shards are not finished (${list}); run scseg shard --plan … --index I for each first`,
      'ERR_SCSEG_PLAN',
    );
  }
  const folder = ResultsFolder.open(plan.output, { overwrite: plan.overwrite });
  let stitched: StitchTaskValue;
  try {
    const staging = folder.staging;
    const args: StitchTaskArgs = {
      files: plan.shards.map((_, i) => shardFile(plan, i)),
      width: plan.width, height: plan.height, maskNames: plan.maskNames,
      segmentation: path.join(staging, 'segmentation.h5'),
      zarr: plan.zarr ? path.join(staging, 'labels.zarr') : undefined,
      classes: path.join(staging, 'classes.csv'),
      chunkSize: plan.config.chunkSize,
      compression: 1,
    };
    const ctx: TaskContext = {
      kernels: undefined as unknown as Kernels, // the stitch runs no kernel
      signal: options.signal ?? new AbortController().signal,
      progress: options.progress ?? (() => {}),
      subtasks: () => Promise.reject(new Error('no subtasks')),
    };
    const t0 = performance.now();
    stitched = (await SHARD_TASKS['sharded.stitch'](args, ctx)).value as StitchTaskValue;
    const stitchSeconds = (performance.now() - t0) / 1000;
    const warnings = [...plan.warnings];
    if (stitched.conflicts > 0) warnings.push(`${stitched.conflicts} pixels were claimed by cells of two shards (overlap_px ${plan.overlap} is too small for these cells); raise overlap_px`);
    const manifest: RunManifest = {
      format: MANIFEST_FORMAT,
      scseg: { version: packageVersion(), command: 'segment', argv: plan.scseg.argv },
      workflow: plan.workflow,
      segmentation: 'ShardedSegmentation',
      config: { file: plan.configFile.path, sha256: plan.configFile.sha256, resolved: plan.config },
      backend: options.backend,
      threads: { workers: 0, kernelThreads: 0 },
      inputs: await Promise.all(plan.input.paths.map((p) => describeInput(p))),
      ...(plan.input.dataset !== undefined ? { dataset: plan.input.dataset } : {}),
      options: {
        format: plan.zarr ? 'zarr' : 'h5',
        shardSize: plan.shardSize,
        overlap: plan.overlap,
        shards: plan.shards.length,
        conflicts: stitched.conflicts,
        cache: plan.work,
        keepCache: plan.keepCache,
        distributed: options.transport,
        runId: plan.id,
        ...options.extra,
      },
      started: plan.created,
      finished: new Date().toISOString(),
      seconds: { stitch: stitchSeconds, total: (Date.now() - Date.parse(plan.created)) / 1000 },
      cells: stitched.cells,
      masks: plan.maskNames,
      files: await digestEntries(staging),
      warnings,
    };
    await writeManifest(staging, manifest);
    options.signal?.throwIfAborted();
    await folder.commit(options.signal);
  } finally {
    folder.discard(); // no-op after commit
  }
  if (!plan.keepCache) fs.rmSync(plan.work, { recursive: true, force: true });
  return { cells: stitched.cells, conflicts: stitched.conflicts, already: false, seconds: (performance.now() - started.clock) / 1000 };
}
