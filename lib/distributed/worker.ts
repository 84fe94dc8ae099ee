/**
 * `scseg worker`: finds the runs queued under `<prefix>:runs` and, for each running one, takes jobs from its
 * three queues (queue.ts) with BullMQ workers whose processor is a child process (processor.ts). A job whose
 * worker stops renewing its lock (killed, machine lost) is taken over by another worker after `lockDuration`
 * (BullMQ's stalled-job check); failures are retried with backoff (queue.ts ATTEMPTS).
 */
import os from 'node:os';
import type { Job, Worker } from 'bullmq';
import type { BackendName } from '../kernels/index.js';
import { ATTEMPTS, pause, QUEUES, readRecord, runPrefix, runsKey, WORKER_SETUP_ENV, writeRecord, type JobData, type WorkerSetup } from './queue.js';
import { connectOrExplain, redact, redisClient, type RedisTarget } from './redis.js';

const PROCESSOR = new URL(`./processor${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
const POLL_MS = 500;

export interface WorkerOptions {
  target: RedisTarget;
  redisUrl: string;
  prefix: string;
  concurrency: number;
  threads?: number;
  backend: BackendName | 'auto';
  /** Resolved (data-roots.ts). */
  dataRoots: string[];
  lockDuration: number;
  log: (message: string) => void;
  /** Stops taking jobs; jobs in flight finish first. */
  signal: AbortSignal;
}

function describeJob(job: Job<JobData> | undefined): string {
  if (!job) return 'a job';
  return job.name === 'shard' ? `shard ${job.data.index}` : job.name === 'global' ? 'the global pass' : job.name;
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const { Worker: BullWorker } = await import('bullmq');
  const say = (m: string) => o.log(redact(m, o.target));
  const threads = o.threads ?? Math.max(1, Math.floor(Math.min(os.availableParallelism(), 8) / o.concurrency));
  const setup: WorkerSetup = { redis: o.redisUrl, prefix: o.prefix, dataRoots: o.dataRoots, backend: o.backend, threads };
  // The children inherit it; it never reaches a log or a job.
  process.env[WORKER_SETUP_ENV] = JSON.stringify(setup);

  const redis = await redisClient(o.target);
  await connectOrExplain(redis, o.target);
  let lastError = '';
  redis.on('error', (e: Error) => {
    if (e.message !== lastError) say(`Redis: ${(lastError = e.message)} (reconnecting)`);
  });
  redis.on('ready', () => (lastError ? say('Redis: connected again') : undefined, (lastError = '')));

  const attached = new Map<string, Worker[]>();
  const attach = (id: string) => {
    const prefix = runPrefix(o.prefix, id);
    const common = {
      connection: o.target.connection,
      prefix,
      lockDuration: o.lockDuration,
      stalledInterval: Math.max(1000, Math.floor(o.lockDuration / 2)),
      maxStalledCount: 2,
      useWorkerThreads: false,
    };
    const workers = [
      new BullWorker(QUEUES.global, PROCESSOR, { ...common, concurrency: 1 }),
      new BullWorker(QUEUES.shards, PROCESSOR, { ...common, concurrency: o.concurrency }),
      new BullWorker(QUEUES.stitch, PROCESSOR, { ...common, concurrency: 1 }),
    ];
    for (const w of workers) {
      w.on('active', (job: Job<JobData>) => say(`run ${id}: ${describeJob(job)} started (attempt ${job.attemptsMade + 1} of ${ATTEMPTS})`));
      w.on('completed', (job: Job<JobData>, value: { reused?: boolean; count?: number; cells?: number; already?: boolean }) => {
        const what = job.name === 'shard' ? `${value.count} cells${value.reused ? ', output already on disk: not redone' : ''}` : job.name === 'stitch' ? `${value.cells} cells${value.already ? ' (already stitched)' : ''}` : value.reused ? 'globals already on disk' : 'done';
        say(`run ${id}: ${describeJob(job)} done (${what})`);
      });
      w.on('failed', (job: Job<JobData> | undefined, err: Error) => {
        const final = !job || job.attemptsMade >= ATTEMPTS || err.name === 'UnrecoverableError' || /^ERR_SCSEG_(JOB|DATA_ROOT|PLAN)/.test(err.message);
        say(`run ${id}: ${describeJob(job)} failed${final ? '' : ', will be retried'}: ${err.message}`);
        if (final) void markFailed(id, `${describeJob(job)}: ${err.message}`);
      });
      let lastWorkerError = '';
      w.on('error', (e: Error) => {
        if (e.message !== lastWorkerError) say(`run ${id}: ${(lastWorkerError = e.message)}`);
      });
    }
    attached.set(id, workers);
    say(`run ${id}: taking its jobs (${o.concurrency} shard${o.concurrency === 1 ? '' : 's'} at a time × ${threads} kernel thread${threads === 1 ? '' : 's'})`);
  };
  const detach = async (id: string, why: string) => {
    const workers = attached.get(id);
    attached.delete(id);
    await Promise.all((workers ?? []).map((w) => w.close()));
    say(`run ${id}: ${why}`);
  };
  const markFailed = async (id: string, error: string) => {
    try {
      const record = await readRecord(redis, o.prefix, id);
      if (record?.state === 'running') await writeRecord(redis, o.prefix, { ...record, state: 'failed', error });
    } catch {
      // Redis away: the run's waiter sees the failed job itself
    }
  };

  say(`worker ${os.hostname()}:${process.pid} on ${o.target.shown}, prefix ${o.prefix}; data roots ${o.dataRoots.join(', ')}`);
  const poll = async () => {
    const ids = await redis.smembers(runsKey(o.prefix));
    for (const id of ids) if (!attached.has(id) && /^[0-9a-z-]+$/.test(id)) attach(id);
    for (const id of attached.keys()) {
      if (ids.includes(id)) continue;
      const record = await readRecord(redis, o.prefix, id);
      // No record at all: Redis lost it (a restart); its waiter queues it again, so stay.
      if (record && record.state !== 'running') await detach(id, `${record.state}`);
    }
  };
  while (!o.signal.aborted) {
    try {
      await poll();
    } catch {
      // Redis away: reported by the error handler; try again
    }
    await pause(POLL_MS, o.signal);
  }
  say(`stopping: ${attached.size ? 'waiting for the jobs in flight' : 'no job in flight'}`);
  await Promise.all([...attached.keys()].map((id) => detach(id, 'stopped')));
  redis.disconnect();
}
