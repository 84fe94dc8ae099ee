/**
 * The in-memory Segmentation's run as a pool task, so that the calling thread stays free. Log lines and step
 * names come back over the progress channel (prefixed), the masks come back moved, not copied.
 */
import type { SegmentationConfig } from '../config/types.js';
import type { Image2D } from '../image.js';
import type { TaskContext, TaskHandler, TaskOutput } from '../parallel/worker-tasks.js';
import { workflowFor } from '../workflows/index.js';
import { runInMemory } from './in-memory-run.js';
import type { OutputOptions } from './outputs.js';

export interface SegmentTaskArgs extends OutputOptions {
  config: SegmentationConfig;
  input: string[] | Image2D[];
  output?: string;
  dataset?: string;
}

export const LOG_PREFIX = 'log:';
export const STEP_PREFIX = 'step:';

async function segmentTask(args: SegmentTaskArgs, ctx: TaskContext): Promise<TaskOutput> {
  const value = await runInMemory({
    ...args,
    workflow: workflowFor(args.config.workflow),
    kernels: ctx.kernels,
    signal: ctx.signal,
    log: (m) => ctx.progress(LOG_PREFIX + m),
    progress: (step) => ctx.progress(STEP_PREFIX + step),
  });
  const transfer = [...new Set(value.masks.map((m) => m.data.buffer as ArrayBuffer))];
  return { value, transfer };
}

export const SEGMENT_TASKS: Record<string, TaskHandler> = { 'segment.run': segmentTask };
