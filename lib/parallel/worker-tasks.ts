/** The tasks a pool worker can run, by name. Each module that runs work off the calling thread registers here. */
import type { Kernels } from '../kernels/index.js';
import type { SubtaskRequest } from './protocol.js';
import { BATCH_TASKS } from '../segmentation/batch-tasks.js';
import { SEGMENT_TASKS } from '../segmentation/segment-task.js';
import { SHARD_TASKS } from '../segmentation/shard-tasks.js';

export interface TaskContext {
  readonly kernels: Kernels;
  /** Fires when the caller stops the task. */
  readonly signal: AbortSignal;
  progress(step: string): void;
  /**
   * Runs tasks on the pool (this worker included, while this task waits) and returns their values in order; the
   * first failure rejects (after all have settled).
   */
  subtasks(requests: SubtaskRequest[]): Promise<unknown[]>;
}

export interface TaskOutput {
  value: unknown;
  /** Buffers of `value` moved back to the caller instead of copied. */
  transfer?: ArrayBuffer[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler checks its own arguments' shape
export type TaskHandler = (args: any, ctx: TaskContext) => Promise<TaskOutput>;

export const TASKS: Readonly<Record<string, TaskHandler>> = { ...SEGMENT_TASKS, ...SHARD_TASKS, ...BATCH_TASKS };
