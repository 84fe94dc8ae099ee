/**
 * One in-memory run, wherever it executes (a pool worker by default, or the calling thread): read the channels
 * the workflow needs, run it, write the results directory.
 */
import os from 'node:os';
import '../cellpose/node-models.js'; // registers the file-based Cellpose model loader in this realm
import type { SegmentationConfig } from '../config/types.js';
import type { Image2D } from '../image.js';
import { openImage, type ImageSource } from '../io/index.js';
import type { Kernels } from '../kernels/index.js';
import { nextTurn, type SegmentationResult, type Workflow } from '../workflows/types.js';
import { assertFitsInMemory, planesReader, selectChannels, type ChannelReader } from './channels.js';
import { prepareOutputDir, writeOutputs, type OutputOptions, type WrittenFiles } from './outputs.js';

export interface InMemoryRun extends OutputOptions {
  workflow: Workflow;
  config: SegmentationConfig;
  kernels: Kernels;
  input: string | readonly string[] | ImageSource | readonly Image2D[];
  output?: string;
  /** HDF5 input: the dataset to read. */
  dataset?: string;
  signal?: AbortSignal;
  log?: (message: string) => void;
  progress?: (step: string) => void;
  /** Also return the channel the QC overlay is drawn on (a worker's run, whose caller writes the outputs). */
  keepBackground?: boolean;
}

export type InMemoryResult = SegmentationResult & { files?: WrittenFiles; background?: Image2D };

/** A (Y, X, C) array read as (C, Y, X): many "channels" and an image a few pixels wide. */
function looksChannelsLast(source: { channelCount: number; width: number; height: number }): boolean {
  return source.width <= 4 && source.channelCount >= 16 && source.height >= 16;
}

export async function runInMemory(run: InMemoryRun): Promise<InMemoryResult> {
  const { workflow, config, input, signal } = run;
  const log = (m: string) => run.log?.(m);
  if (run.output) prepareOutputDir(run.output);
  const opened = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'string');
  const source: ChannelReader = opened
    ? await openImage(input as string | readonly string[], { dataset: run.dataset })
    : Array.isArray(input)
      ? planesReader(input as readonly Image2D[])
      : (input as ImageSource);
  const masks = workflow.descriptor.masks;
  const readStarted = performance.now();
  let stacks;
  try {
    log(`reading ${masks.join(' + ')} channel(s) of ${source.channelCount}-channel ${source.width}×${source.height} ${source.dtype} input`);
    if (looksChannelsLast(source)) {
      log(
        `warning: the input looks channels-last: read as C×Y×X it is ${source.channelCount} channels of ` +
          `${source.width}×${source.height} pixels; scseg expects channels first (C, Y, X) — transpose it (e.g. ` +
          `numpy.moveaxis(a, -1, 0)) or save one file per channel`,
      );
    }
    assertFitsInMemory(source, run.kernels, os.totalmem(), workflow.descriptor);
    stacks = await selectChannels(source, config, masks);
    signal?.throwIfAborted();
  } finally {
    if (opened) await (source as ImageSource).close();
  }
  const k = run.kernels;
  // WASM has no threads whatever the budget: log what actually runs.
  const threads = k.backendName === 'wasm' ? 1 : k.threads;
  log(`segmenting with ${config.workflow} on the ${k.backendName} backend, ${threads} kernel thread${threads === 1 ? '' : 's'}`);
  const readSeconds = (performance.now() - readStarted) / 1000;
  const result = await workflow.run({ kernels: k, signal, progress: run.progress }, stacks, config);
  // Reading and writing are part of what the user waits for: timed with the workflow's steps (run.json).
  result.timings = { read: readSeconds, ...result.timings };
  log(`${result.classes.length} cells`);
  const background = stacks[masks[masks.length - 1]]![0];
  if (!run.output) return run.keepBackground ? { ...result, background } : result;
  return { ...result, files: await writeRunOutputs(run.output, result, background, run) };
}

/**
 * The run's last step: its results directory, timed into `result.timings` — here, or on the calling thread after a
 * worker's run (Segmentation's writeOnCallingThread).
 */
export async function writeRunOutputs(
  output: string,
  result: SegmentationResult,
  background: Image2D,
  run: Pick<InMemoryRun, 'config' | 'kernels' | 'zarr' | 'qc' | 'onFileWritten' | 'signal' | 'log'>,
): Promise<WrittenFiles> {
  // A signal raised while the last kernel ran is only delivered once the event loop turns.
  await nextTurn();
  run.signal?.throwIfAborted();
  run.log?.(`writing results to ${output}`);
  const options = { chunkSize: run.config.chunkSize, zarr: run.zarr, qc: run.qc, kernels: run.kernels, onFileWritten: run.onFileWritten };
  return writeOutputs(output, result, background, options, result.timings);
}
