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
