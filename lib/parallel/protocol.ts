/** Messages between a WorkerPool and its task workers (task-worker.ts). */
import type { BackendName } from '../kernels/index.js';
import type { SerializedError } from './errors.js';

/** Fixed for a worker's life: its kernel backend and default thread budget. */
export interface WorkerSetup {
  backend: BackendName | 'auto';
  threads: number;
}

/** A named task with structured-cloneable arguments (see worker-tasks.ts for the kinds). */
export interface TaskRequest {
  type: 'run';
  id: number;
  kind: string;
  args: unknown;
}

/** Stops task `id` between its steps (its AbortSignal fires in the worker). */
export interface TaskAbort {
  type: 'abort';
  id: number;
}

export type TaskReply =
  | { id: number; type: 'done'; value: unknown }
  | { id: number; type: 'error'; error: SerializedError }
  | { id: number; type: 'progress'; step: string };
