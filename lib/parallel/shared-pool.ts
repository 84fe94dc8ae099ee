/**
 * One lazily started worker per (backend, thread budget) for the life of the process, for the in-memory
 * Segmentation's runs: started once (a worker loads its own kernels), idle it does not keep the process alive.
 */
import type { WorkerSetup } from './protocol.js';
import { WorkerPool } from './worker-pool.js';

const pools = new Map<string, WorkerPool>();

export function sharedWorker(setup: WorkerSetup): WorkerPool {
  const key = `${setup.backend}/${setup.threads}`;
  let pool = pools.get(key);
  if (!pool) pools.set(key, (pool = new WorkerPool(1, setup, true)));
  return pool;
}

/**
 * Stops the shared workers now (a run abandoned on Ctrl-C: its worker may still be inside a step); resolves once
 * their threads are gone. A later sharedWorker() starts a fresh one.
 */
export async function closeSharedWorkers(reason?: Error): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.close(reason)));
}
