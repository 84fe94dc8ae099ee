/**
 * What a batch run (MultithreadedSegmentation) does inside its workers: one image, start to end — open it (by path:
 * its file(s), or its index in a stack), select the channels, run the workflow in memory, and either write the
 * image's results directory (as `Segmentation.run` does) or send the masks back (a stack's single segmentation.h5
 * is written by the calling thread).
 */
import type { SegmentationConfig } from '../config/types.js';
import { openImage, type ImageSource } from '../io/index.js';
import { openStackImage } from '../io/stack.js';
import type { TaskContext, TaskHandler, TaskOutput } from '../parallel/worker-tasks.js';
import { workflowFor } from '../workflows/index.js';
import { selectChannels } from './channels.js';
import { writeOutputs } from './outputs.js';

/** Where a worker finds one image of a batch. */
export type BatchImageInput =
  /** One multi-channel file, or one single-channel file per channel. */
  | { kind: 'files'; paths: string[] }
  /** Image `index` of an (images, C, H, W) stack. */
  | { kind: 'stack'; path: string; index: number; dataset?: string };

export interface BatchTaskArgs {
  name: string;
  input: BatchImageInput;
  config: SegmentationConfig;
  /** The image's results directory; absent: the masks are returned instead. */
  output?: string;
  zarr: boolean;
  qc: boolean;
}

export interface BatchTaskValue {
  cells: number;
  width: number;
  height: number;
  maskNames: string[];
  /** The masks (row-major label ids), when no output directory was given. */
  masks?: Uint32Array[];
}

/**
 * Fault injection for the tests: a worker asked to segment the image named by this variable exits on the spot, as
 * a worker does on a native crash or running out of memory.
 */
export const FAULT_EXIT_ENV = 'SCSEG_TEST_EXIT_ON_IMAGE';

async function openInput(input: BatchImageInput): Promise<ImageSource> {
  if (input.kind === 'stack') return openStackImage(input.path, input.index, { dataset: input.dataset });
  return openImage(input.paths.length === 1 ? input.paths[0] : input.paths);
}

async function imageTask(args: BatchTaskArgs, ctx: TaskContext): Promise<TaskOutput> {
  if (process.env[FAULT_EXIT_ENV] !== undefined && process.env[FAULT_EXIT_ENV] === args.name) process.exit(70);
  const { config } = args;
  const workflow = workflowFor(config.workflow);
  const masks = workflow.descriptor.masks;
  const source = await openInput(args.input);
  let stacks;
  try {
    stacks = await selectChannels(source, config, masks);
  } finally {
    await source.close();
  }
  const result = await workflow.run({ kernels: ctx.kernels, progress: ctx.progress }, stacks, config);
  const value: BatchTaskValue = {
    cells: result.classes.length,
    width: result.nucleus.width,
    height: result.nucleus.height,
    maskNames: [...result.maskNames],
  };
  if (args.output !== undefined) {
    // The same call, with the same options, as Segmentation.run: identical files.
    const background = stacks[masks[masks.length - 1]]![0];
    await writeOutputs(args.output, result, background, { chunkSize: config.chunkSize, zarr: args.zarr, qc: args.qc, kernels: ctx.kernels });
    return { value };
  }
  value.masks = result.masks.map((m) => m.data);
  const transfer = [...new Set(value.masks.map((m) => m.buffer as ArrayBuffer))];
  return { value, transfer };
}

export const BATCH_TASKS: Record<string, TaskHandler> = {
  'batch.image': imageTask,
};
