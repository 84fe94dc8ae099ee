/**
 * The in-memory Segmentation's run as a pool task, so that the calling thread stays free. Log lines and step
 * names come back over the progress channel (prefixed); the masks come back moved, not copied. The outputs are
 * written here, or (keepBackground) by the calling thread, to which the QC overlay's background channel moves too.
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
  /** Results directory, when the worker writes the outputs. */
  output?: string;
  dataset?: string;
  /** Return the QC overlay's background channel too (the caller writes the outputs). */
  keepBackground?: boolean;
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
  const images = value.background ? [...value.masks, value.background] : value.masks;
  const transfer = [...new Set(images.map((m) => m.data.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
  return { value, transfer };
}

export const SEGMENT_TASKS: Record<string, TaskHandler> = { 'segment.run': segmentTask };
