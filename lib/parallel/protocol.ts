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

/** A task asks the pool to run tasks for it (on any worker, its own included) and waits for their results. */
export interface SubtaskRequest {
  kind: string;
  args: unknown;
  label: string;
}

export type SubtaskResult = { ok: true; value: unknown } | { ok: false; error: SerializedError };

/** The results of a batch of subtasks, in request order. */
export interface SubtasksDone {
  type: 'subtasks-done';
  batch: number;
  results: SubtaskResult[];
}

export type TaskReply =
  | { id: number; type: 'done'; value: unknown }
  | { id: number; type: 'error'; error: SerializedError }
  | { id: number; type: 'progress'; step: string }
  | { id: number; type: 'subtasks'; batch: number; requests: SubtaskRequest[] };
