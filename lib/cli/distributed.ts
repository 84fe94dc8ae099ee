/**
 * `scseg segment … --distributed`, `scseg worker`, `scseg status RUN`, `scseg wait RUN` (lib/distributed/).
 * BullMQ and ioredis load only here, when one of these runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SegmentationConfig } from '../config/types.js';
import { InputError, ScsegError } from '../errors.js';
import type { BackendName } from '../kernels/index.js';
import { resolveDataRoots } from '../distributed/data-roots.js';
import { createPlan, finishedManifest, missingShards, readPlan, writePlan, type ShardPlan } from '../distributed/plan.js';
import { checkPrefix, DEFAULT_PREFIX, pause, readRecord, RunWatcher, submitRun, type RunProgress, type RunRecord } from '../distributed/queue.js';
import { connectOrExplain, redact, redisClient, redisTarget, type RedisTarget } from '../distributed/redis.js';
import { runWorker } from '../distributed/worker.js';
import { createProgress, type Progress } from './progress.js';
import { planRequest, withSignals, type StepFlags } from './shard-steps.js';
import { InterruptedError } from './signals.js';

/** The plan file of a distributed run: hidden in its shard cache, where every worker reaches it. */
export const RUN_PLAN_FILE = '.scseg-run.json';
const POLL_MS = 300;

/** A run that failed on a worker: exit 2 when the cause was bad input (the job said so by its code), else 1. */
function failure(id: string, p: RunProgress): Error {
  const reason = p.failure?.reason ?? p.record?.error ?? 'unknown';
  // `<code>: <message>`, as the processor throws it (the record's copy has the job's name in front).
  const m = /(?:^|: )(ERR_SCSEG_[A-Z_]+): ([\s\S]*)$/.exec(reason);
  const where = p.failure?.job ? `${p.failure.job} failed` : 'failed';
  const text = `run ${id}: ${where}: ${m ? m[2] : reason}`;
  const input = m && !['ERR_SCSEG_INTERNAL', 'ERR_SCSEG_WORKER', 'ERR_SCSEG_BACKEND'].includes(m[1]);
  return input ? new InputError(text, m[1]) : new ScsegError(m?.[1] ?? 'ERR_SCSEG_DISTRIBUTED', text);
}

function prefixOf(flag: string | undefined): string {
  try {
    return checkPrefix(flag ?? DEFAULT_PREFIX);
  } catch (e) {
    throw new InputError((e as Error).message, 'ERR_SCSEG_ARGUMENT');
  }
}

/**
 * Follows run `plan.id` until it is done or failed, with progress from the shard outputs on disk. A run Redis
 * has lost (restarted without persistence) is queued again from its plan: what is on disk is not redone.
 */
async function follow(target: RedisTarget, prefix: string, planFile: string, plan: ShardPlan, progress: Progress, signal: AbortSignal): Promise<void> {
  const redis = await redisClient(target);
  await connectOrExplain(redis, target);
  let lastError = '';
  redis.on('error', (e: Error) => {
    if (e.message !== lastError) progress.warn(`Redis: ${redact((lastError = e.message), target)} (reconnecting)`);
  });
  const watcher = new RunWatcher(target, redis, prefix, plan.id);
  try {
    let shown = '';
    for (;;) {
      signal.throwIfAborted();
      const p = await watcher.progress();
      if (p.state === 'lost') {
        if (finishedManifest(plan)) break;
        progress.warn(`Redis has no record of run ${plan.id} (restarted without persistence?): queued again from ${planFile}; finished shards are kept`);
        await submitRun(target, redis, prefix, planFile, plan);
        continue;
      }
      if (p.state === 'failed') throw failure(plan.id, p);
      if (p.state === 'done') break;
      const done = plan.shards.length - missingShards(plan).length;
      const line = p.state === 'shards' ? `shards ${done}/${plan.shards.length}` : p.state === 'stitching' ? 'stitching' : p.state === 'global' ? 'global pass' : 'queued (is a worker running?)';
      if (line !== shown) {
        if (p.state === 'shards') progress.steps(done, plan.shards.length, line);
        else progress.stage(line);
        shown = line;
      }
      await pause(POLL_MS, signal);
    }
  } finally {
    await watcher.close();
    redis.disconnect();
  }
  const m = finishedManifest(plan);
  progress.done(`${m?.cells ?? '?'} cells, ${plan.shards.length} shards → ${plan.output} (run ${plan.id})`);
}

/** `scseg segment … --distributed`: plan, queue, and (unless --detach) follow to the end. */
export async function submitDistributed(flags: StepFlags, config: SegmentationConfig, progress: Progress, signal: AbortSignal): Promise<void> {
  const target = redisTarget(flags.redis);
  const prefix = prefixOf(flags.prefix);
  const redis = await redisClient(target);
  await connectOrExplain(redis, target); // before anything is written
  let plan: ShardPlan;
  let planFile: string;
  try {
    const { request, work } = planRequest(flags, config, (m) => (m.startsWith('warning: ') ? progress.warn(m.slice(9)) : progress.info(m)));
    progress.stage('planning shards');
    plan = await createPlan(request, work);
    planFile = path.join(plan.work, RUN_PLAN_FILE);
    await writePlan(planFile, plan);
    await submitRun(target, redis, prefix, planFile, plan);
  } finally {
    redis.disconnect();
  }
  progress.info(`run ${plan.id}: ${plan.shards.length} shards of ${plan.width}×${plan.height} queued on ${target.shown} (prefix ${prefix})`);
  if (flags.detach) {
    progress.close();
    console.log(plan.id);
    return;
  }
  await follow(target, prefix, planFile, plan, progress, signal);
}

/** A run named by id (its record gives the plan) or by its plan file. */
async function locate(run: string, target: RedisTarget, prefix: string): Promise<{ planFile: string; plan?: ShardPlan; done?: RunRecord }> {
  if (!/^[0-9a-z-]+$/.test(run) || run.includes('/')) {
    const planFile = path.resolve(run);
    return { planFile, plan: readPlan(planFile) };
  }
  const redis = await redisClient(target);
  await connectOrExplain(redis, target);
  try {
    const record = await readRecord(redis, prefix, run);
    if (!record) {
      throw new InputError(
        `Redis (${target.shown}, prefix ${prefix}) has no run ${run}: a wrong id or prefix, a run finished more than 7 days ago, or a Redis ` +
          `restarted without persistence — then pass the run's plan file (<output>/.scseg-cache/${RUN_PLAN_FILE}) to queue it again`,
        'ERR_SCSEG_RUN',
      );
    }
    if (record.state === 'done') return { planFile: record.plan, done: record };
    return { planFile: record.plan, plan: readPlan(record.plan) };
  } finally {
    redis.disconnect();
  }
}

export interface RunFlags {
  redis?: string;
  prefix?: string;
  quiet?: boolean;
}

/** `scseg status RUN`: one line per fact, on stdout. */
export async function statusCommand(run: string, flags: RunFlags): Promise<void> {
  const target = redisTarget(flags.redis);
  const prefix = prefixOf(flags.prefix);
  const redis = await redisClient(target);
  await connectOrExplain(redis, target);
  try {
    let id = run;
    let plan: ShardPlan | undefined;
    if (!/^[0-9a-z-]+$/.test(run)) {
      plan = readPlan(path.resolve(run));
      id = plan.id;
    } else {
      const record = await readRecord(redis, prefix, id);
      // A finished run's cache (and plan) is gone unless --keep-cache: the record says enough.
      if (record && (record.state !== 'done' || fs.existsSync(record.plan))) plan = readPlan(record.plan);
      if (record) console.log(`output: ${record.output}`);
    }
    const watcher = new RunWatcher(target, redis, prefix, id);
    const p = await watcher.progress().finally(() => watcher.close());
    console.log(`run ${id}: ${p.state}`);
    if (plan) {
      const done = plan.shards.length - missingShards(plan).length;
      console.log(`shards: ${p.state === 'done' ? plan.shards.length : done} of ${plan.shards.length} on disk`);
    }
    if (p.record?.cells !== undefined) console.log(`cells: ${p.record.cells}`);
    if (p.state === 'failed') console.log(`error: ${failure(id, p).message}`);
  } catch (e) {
    if (e instanceof Error) e.message = redact(e.message, target);
    throw e;
  } finally {
    redis.disconnect();
  }
}

/** `scseg wait RUN`: follows the run; exit 0 when done, 2 / 1 when it failed (bad input / otherwise). */
export async function waitCommand(run: string, flags: RunFlags): Promise<void> {
  const progress = createProgress({ quiet: flags.quiet ?? false, stages: 3 });
  await withSignals(progress, async (signal) => {
    const target = redisTarget(flags.redis);
    const prefix = prefixOf(flags.prefix);
    const { planFile, plan, done } = await locate(run, target, prefix);
    if (!plan) return progress.done(`run ${run}: done, ${done!.cells} cells → ${done!.output}`);
    await follow(target, prefix, planFile, plan, progress, signal);
  }, 'stopping; the run goes on on the workers');
}

export interface WorkerFlags {
  redis?: string;
  prefix?: string;
  concurrency?: number;
  threads?: number;
  backend?: BackendName | 'auto';
  dataRoot?: string[];
  lockDuration: number;
  quiet: boolean;
}

/** `scseg worker`: runs until SIGINT / SIGTERM, then lets the jobs in flight finish (a second signal: at once). */
export async function workerCommand(flags: WorkerFlags): Promise<void> {
  const target = redisTarget(flags.redis);
  const url = flags.redis ?? process.env.SCSEG_REDIS_URL!;
  // The URL (and its password) would show in `ps` for as long as the worker runs.
  process.title = 'scseg worker';
  const dataRoots = resolveDataRoots(flags.dataRoot?.length ? flags.dataRoot : [process.cwd()]);
  const controller = new AbortController();
  let stops = 0;
  const onSignal = (name: NodeJS.Signals) => {
    if (++stops > 1) process.exit(128 + (name === 'SIGINT' ? 2 : 15));
    controller.abort(new InterruptedError(name as 'SIGINT' | 'SIGTERM'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stamp = () => new Date().toISOString().slice(11, 23);
  try {
    await runWorker({
      target,
      redisUrl: url,
      prefix: prefixOf(flags.prefix),
      concurrency: flags.concurrency ?? 1,
      threads: flags.threads,
      backend: flags.backend ?? 'auto',
      dataRoots,
      lockDuration: flags.lockDuration,
      log: flags.quiet ? () => {} : (m) => process.stderr.write(`[scseg worker ${stamp()}] ${m}\n`),
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
