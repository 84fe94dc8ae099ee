/**
 * BullMQ's sandboxed processor for a run's jobs: it runs in a child process of `scseg worker` (one per job in
 * flight, reused across jobs), so a native crash or an out-of-memory ends that child and fails that one job (it is
 * retried), never the worker. What it does is plan.ts's steps; before any, it checks the job against the worker's
 * data roots and the plan on disk (path, sha256, run id, the shard's windows): a crafted job gets nowhere.
 *
 * The worker passes its settings in $SCSEG_WORKER_SETUP (data roots, backend, threads, the Redis URL for the flow);
 * errors leave as `<code>: <message>` with the URL's password removed; bad input is not retried
 * (BullMQ's UnrecoverableError, by name).
 */
import fs from 'node:fs';
import type { SandboxedJob } from 'bullmq';
import { ConfigError, InputError } from '../errors.js';
import { kernels, type Kernels } from '../kernels/index.js';
import { checkInsideRoots } from './data-roots.js';
import { cores } from '../segmentation/class-options.js';
import { globalPassOnPool, globalsFile, planPaths, readPlan, runShard, stitchPlan, type ShardPlan } from './plan.js';
import { addFlow, fileSha256, readRecord, WORKER_SETUP_ENV, writeRecord, type JobData, type WorkerSetup } from './queue.js';
import { parseRedisUrl, redact, redisClient, type RedisTarget } from './redis.js';


const setup = JSON.parse(process.env[WORKER_SETUP_ENV] ?? 'null') as WorkerSetup | null;
let target: RedisTarget | undefined;
let loaded: Kernels | undefined;
const never = new AbortController().signal;

// A child whose worker is gone (killed) stops too, instead of finishing work nobody will record.
process.once('disconnect', () => process.exit(1));

function unrecoverable(message: string): Error {
  const e = new Error(message);
  e.name = 'UnrecoverableError';
  return e;
}

/** The job's plan, once its paths and identity are checked. */
function checkedPlan(job: SandboxedJob<JobData>, roots: string[]): ShardPlan {
  const data = job.data;
  if (typeof data !== 'object' || data === null || typeof data.plan !== 'string' || typeof data.run !== 'string') {
    throw new InputError(`job ${job.id}: not a scseg job`, 'ERR_SCSEG_JOB');
  }
  checkInsideRoots([data.plan], roots, `job ${job.id} (run ${data.run})`);
  const plan = readPlan(data.plan);
  if (plan.id !== data.run || fileSha256(data.plan) !== data.planSha256) {
    throw new InputError(`job ${job.id}: plan ${data.plan} is not the plan of run ${data.run} (id or sha256 differ)`, 'ERR_SCSEG_JOB');
  }
  checkInsideRoots(planPaths(plan), roots, `plan ${data.plan}`);
  if (job.name === 'shard') {
    const i = data.index;
    if (!(Number.isSafeInteger(i) && i! >= 0 && i! < plan.shards.length) || JSON.stringify(plan.shards[i!]) !== JSON.stringify(data.shard)) {
      throw new InputError(`job ${job.id}: shard ${i} is not in plan ${data.plan}`, 'ERR_SCSEG_JOB');
    }
  }
  return plan;
}

async function markDone(plan: ShardPlan, cells: number): Promise<void> {
  const redis = await redisClient(target!);
  try {
    const record = await readRecord(redis, setup!.prefix, plan.id);
    if (record) await writeRecord(redis, setup!.prefix, { ...record, state: 'done', cells });
  } finally {
    redis.disconnect();
  }
}

export default async function processJob(job: SandboxedJob<JobData>): Promise<unknown> {
  if (!setup) throw unrecoverable(`ERR_SCSEG_INTERNAL: ${WORKER_SETUP_ENV} is not set (the processor runs under scseg worker)`);
  target ??= parseRedisUrl(setup.redis);
  try {
    const plan = checkedPlan(job, setup.dataRoots);
    loaded ??= kernels(setup.backend === 'auto' && plan.backend !== 'auto' ? plan.backend : setup.backend, { threads: setup.threads });
    switch (job.name) {
      case 'global': {
        // The global pass runs alone (no shard of the run starts before it ends): on every core of this machine,
        // its sweeps spread over worker threads as in a local sharded run.
        const reused = fs.existsSync(globalsFile(plan));
        await globalPassOnPool(plan, cores(), loaded.backendName, never);
        await addFlow(target, setup.prefix, job.data.plan, plan, job.data.planSha256);
        return { reused, backend: loaded.backendName };
      }
      case 'shard':
        return { ...(await runShard(plan, job.data.index!, loaded, never)), backend: loaded.backendName, pid: process.pid };
      case 'stitch': {
        const r = await stitchPlan(plan, { transport: 'bullmq', backend: loaded.backendName, extra: { prefix: setup.prefix } });
        await markDone(plan, r.cells);
        return r;
      }
      default:
        throw new InputError(`job ${job.id}: unknown job name ${JSON.stringify(job.name)}`, 'ERR_SCSEG_JOB');
    }
  } catch (e) {
    const message = redact(e instanceof Error ? e.message : String(e), target);
    if (e instanceof InputError || e instanceof ConfigError) throw unrecoverable(`${e.code}: ${message}`);
    const err = new Error(`${(e as { code?: string }).code ?? 'ERR_SCSEG_INTERNAL'}: ${message}`);
    if (e instanceof Error && e.stack) err.stack = redact(e.stack, target);
    throw err;
  }
}

