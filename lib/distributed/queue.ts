/**
 * A sharded run on BullMQ. Each run has its own key prefix (`<prefix>:<run id>`), holding three queues:
 *
 *   global  — one job: the global pass, then it adds the flow below (so no shard starts before the globals exist);
 *   shards  — one job per shard (the flow's children), retried with backoff, stalled jobs taken over;
 *   stitch  — the flow's parent: runs once, after every shard; stitches, writes run.json, swaps the results in.
 *
 * Jobs carry the plan file's path (with its sha256 and the run id), a shard's index and windows — never pixels:
 * inputs and shard outputs live on storage every worker reaches. `<prefix>:runs` (a set) and `<prefix>:run:<id>`
 * (its record) let workers find runs. Every step is idempotent (plan.ts), so a job run twice, or every job of a run
 * added again after Redis lost them (a restart without persistence), redoes nothing that is on disk.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import type { BackendName } from '../kernels/index.js';
import type { RedisTarget } from './redis.js';
import type { ShardPlan } from './plan.js';

export const DEFAULT_PREFIX = 'scseg';
export const QUEUES = { global: 'global', shards: 'shards', stitch: 'stitch' } as const;
/** Attempts per job (the first run included), exponential backoff from 1 s. */
export const ATTEMPTS = 3;
const KEEP_SECONDS = 7 * 24 * 3600;

/** How `scseg worker` hands its settings to its job processes (processor.ts); never logged. */
export const WORKER_SETUP_ENV = 'SCSEG_WORKER_SETUP';

export interface WorkerSetup {
  redis: string;
  prefix: string;
  dataRoots: string[];
  backend: BackendName | 'auto';
  threads: number;
}

export type RunState = 'running' | 'done' | 'failed';

/** `<prefix>:run:<id>`: where the plan is and how the run ended. */
export interface RunRecord {
  id: string;
  plan: string;
  output: string;
  shards: number;
  created: string;
  state: RunState;
  cells?: number;
  error?: string;
}

/** What every job of a run carries. */
export interface JobData {
  run: string;
  plan: string;
  planSha256: string;
  /** Shard jobs: the shard and its windows (checked against the plan). */
  index?: number;
  shard?: ShardPlan['shards'][number];
}

export const runsKey = (prefix: string) => `${prefix}:runs`;
export const recordKey = (prefix: string, id: string) => `${prefix}:run:${id}`;
/** BullMQ's prefix for the run's queues: one namespace per run. */
export const runPrefix = (prefix: string, id: string) => `${prefix}:${id}`;

export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new Error(`--prefix ${JSON.stringify(prefix)}: letters, digits, _ . - only`);
  return prefix;
}

export function fileSha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

const jobOptions = {
  attempts: ATTEMPTS,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: KEEP_SECONDS },
  removeOnFail: { age: KEEP_SECONDS },
};

export async function readRecord(redis: Redis, prefix: string, id: string): Promise<RunRecord | undefined> {
  const text = await redis.get(recordKey(prefix, id));
  return text ? (JSON.parse(text) as RunRecord) : undefined;
}

export async function writeRecord(redis: Redis, prefix: string, record: RunRecord): Promise<void> {
  const multi = redis.multi().set(recordKey(prefix, record.id), JSON.stringify(record));
  if (record.state !== 'running') multi.expire(recordKey(prefix, record.id), KEEP_SECONDS).srem(runsKey(prefix), record.id);
  else multi.sadd(runsKey(prefix), record.id);
  await multi.exec();
}

/** Queues a run (its record and its global job); idempotent: a run queued again keeps what Redis still has. */
export async function submitRun(target: RedisTarget, redis: Redis, prefix: string, planFile: string, plan: ShardPlan): Promise<void> {
  const { Queue } = await import('bullmq');
  await writeRecord(redis, prefix, {
    id: plan.id, plan: planFile, output: plan.output, shards: plan.shards.length, created: plan.created, state: 'running',
  });
  const queue = new Queue(QUEUES.global, { connection: target.connection, prefix: runPrefix(prefix, plan.id) });
  try {
    const data: JobData = { run: plan.id, plan: planFile, planSha256: fileSha256(planFile) };
    await queue.add('global', data, { ...jobOptions, jobId: 'global' });
  } finally {
    await queue.close();
  }
}

/** The run's flow: the stitch job with one child per shard. Adding it again changes nothing (fixed job ids). */
export async function addFlow(target: RedisTarget, prefix: string, planFile: string, plan: ShardPlan, planSha256: string): Promise<void> {
  const { FlowProducer } = await import('bullmq');
  const flow = new FlowProducer({ connection: target.connection, prefix: runPrefix(prefix, plan.id) });
  try {
    const base: JobData = { run: plan.id, plan: planFile, planSha256 };
    await flow.add({
      name: 'stitch',
      queueName: QUEUES.stitch,
      data: base,
      opts: { ...jobOptions, jobId: 'stitch' },
      children: plan.shards.map((shard, index) => ({
        name: 'shard',
        queueName: QUEUES.shards,
        data: { ...base, index, shard } satisfies JobData,
        // A shard that fails every attempt fails the run (the stitch never runs on a partial set).
        opts: { ...jobOptions, jobId: `shard-${index}`, failParentOnFailure: true },
      })),
    });
  } finally {
    await flow.close();
  }
}

export interface RunProgress {
  state: 'queued' | 'global' | 'shards' | 'stitching' | 'done' | 'failed' | 'lost';
  record?: RunRecord;
  /** A failed job: which, and its last error. */
  failure?: { job: string; reason: string };
}

/** Where a run is, from its record and its jobs; its queues stay open between looks (close() when done). */
export class RunWatcher {
  private queues: { global: import('bullmq').Queue; shards: import('bullmq').Queue; stitch: import('bullmq').Queue } | undefined;

  constructor(
    private readonly target: RedisTarget,
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly id: string,
  ) {}

  private async open() {
    if (this.queues) return this.queues;
    const { Queue } = await import('bullmq');
    const open = (name: string) => {
      const q = new Queue(name, { connection: this.target.connection, prefix: runPrefix(this.prefix, this.id) });
      q.on('error', () => {}); // reported by the caller's own client
      return q;
    };
    return (this.queues = { global: open(QUEUES.global), shards: open(QUEUES.shards), stitch: open(QUEUES.stitch) });
  }

  /** `lost`: Redis has no record of the run (restarted without persistence). */
  async progress(): Promise<RunProgress> {
    const record = await readRecord(this.redis, this.prefix, this.id);
    if (!record) return { state: 'lost' };
    if (record.state === 'done') return { state: 'done', record };
    const queues = await this.open();
    const state = async (q: import('bullmq').Queue, jobId: string) => {
      const job = await q.getJob(jobId);
      return job ? { job, state: await job.getState() } : undefined;
    };
    const failedShard = async () => {
      const [job] = await queues.shards.getFailed(0, 0);
      return job ? { job: `shard ${(job.data as JobData).index}`, reason: job.failedReason } : undefined;
    };
    const global = await state(queues.global, 'global');
    if (global?.state === 'failed') return { state: 'failed', record, failure: { job: 'the global pass', reason: global.job.failedReason } };
    const stitch = await state(queues.stitch, 'stitch');
    if (!stitch) return { state: global ? 'global' : record.state === 'failed' ? 'failed' : 'queued', record };
    if (stitch.state === 'completed') return { state: 'done', record };
    if (stitch.state === 'failed') {
      return { state: 'failed', record, failure: (await failedShard()) ?? { job: 'the stitch', reason: stitch.job.failedReason } };
    }
    const shardFailure = await failedShard();
    if (shardFailure) return { state: 'failed', record, failure: shardFailure };
    return { state: stitch.state === 'active' ? 'stitching' : 'shards', record };
  }

  async close(): Promise<void> {
    const queues = this.queues;
    this.queues = undefined;
    if (queues) await Promise.all(Object.values(queues).map((q) => q.close()));
  }
}

/** Waits `ms`, or less when `signal` aborts (its listener removed either way: polls run for hours). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
