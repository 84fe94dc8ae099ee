/**
 * MultithreadedSegmentation (scPortrait's class of that name): many images, each segmented in memory by one of
 * `threads` workers, one result per image.
 *
 * - A plate list (`plate.csv`, or images given in code): each image gets its results directory `<output>/<name>/`
 *   (segmentation.h5, classes.csv, qc_overlay.png, labels.zarr if asked) — the files a single `Segmentation` run
 *   of that image writes.
 * - A stack of images in one file, (images, C, H, W) in HDF5, OME-Zarr or .npy (scPortrait's timecourse
 *   projects): one `<output>/segmentation.h5` with dataset `labels` shaped (images, masks, H, W), filled image by
 *   image; images are named image_0000, image_0001, …
 *
 * Either way `<output>/batch.csv` lists every image in input order (name, status ok|failed, cells, seconds, error).
 * One bad image (missing or corrupt file, wrong channel count, a worker that dies) fails alone; the others finish.
 */
import path from 'node:path';
import type { ConfigSource, SegmentationConfig, WorkflowAlias } from '../config/types.js';
import { ConfigError, InputError } from '../errors.js';
import { checkBatchNames, readBatchCsv, writeBatchSummary, type BatchImage } from '../io/batch-csv.js';
import { openStackLabelsH5Writer, type StackLabelsWriter } from '../io/batch-writer.js';
import { openImageStack, type ImageStack } from '../io/stack.js';
import type { BackendName } from '../kernels/index.js';
import { WorkerPool } from '../parallel/worker-pool.js';
import type { Workflow } from '../workflows/types.js';
import type { BatchImageInput, BatchTaskArgs, BatchTaskValue } from './batch-tasks.js';
import { stackReader } from './channels.js';
import { cores, positiveOption, resolveRun } from './class-options.js';
import { prepareOutputDir } from './outputs.js';

/** The images of a batch run. A string is a plate CSV if it ends in `.csv`, else a stack file. */
export type BatchInput =
  | string
  /** A plate list: header row with `name`, then each image's file(s). */
  | { csv: string }
  /** An (images, C, H, W) stack; `dataset`: its HDF5 dataset (default `input_images`, else the first 4-D one). */
  | { stack: string; dataset?: string }
  /** Images given in code: a results folder name and one multi-channel file or one file per channel each. */
  | { images: readonly { name: string; input: string | readonly string[] }[] };

export interface MultithreadedSegmentationOptions {
  /** A YAML file / text / object in scPortrait's format, or an already loaded config. */
  config: ConfigSource | SegmentationConfig;
  /** A workflow (`WGASegmentation`) or its `Multithreaded…` alias (whose config must set `threads`). */
  workflow: WorkflowAlias;
  backend?: BackendName | 'auto';
  /** Images in flight (workers); default: the config's `threads`, else 1. */
  threads?: number;
  /** Kernel threads per worker; default: the cores divided among the workers (at least 1). */
  kernelThreads?: number;
  log?: (message: string) => void;
  /** An image finished (ok or failed); `done` counts in completion order. */
  progress?: (event: BatchProgress) => void;
}

export interface BatchRunOptions {
  input: BatchInput;
  /** Results directory (created if missing): per-image folders or the stack's segmentation.h5, and batch.csv. */
  output: string;
  /** Plate lists: also write each image's `labels.zarr`. */
  zarr?: boolean;
  /** Plate lists: write each image's `qc_overlay.png` (default true). */
  qc?: boolean;
  /** Stops the run: running images are abandoned, nothing more is written, no batch.csv. */
  signal?: AbortSignal;
}

export interface BatchImageResult {
  /** Position in the input. */
  index: number;
  name: string;
  status: 'ok' | 'failed';
  /** Kept cells (ok images). */
  cells?: number;
  /** Wall seconds of this image (reading, segmenting, writing). */
  seconds: number;
  /** Why it failed: an InputError / ConfigError for bad input, else WorkerError / InternalError. */
  error?: Error;
  /** Plate lists: the image's results directory (ok images). */
  output?: string;
  /** Where the image was read from: its file(s), or its index in the stack. */
  input: BatchImageInput;
}

export interface BatchProgress {
  done: number;
  total: number;
  image: BatchImageResult;
}

export interface BatchRunResult {
  workflow: string;
  images: BatchImageResult[];
  ok: number;
  failed: number;
  /** Images that failed on bad input (InputError / ConfigError). */
  failedOnInput: number;
  /** `<output>/batch.csv`. */
  summary: string;
  /** Stacks: `<output>/segmentation.h5`, (images, masks, H, W). */
  segmentation?: string;
  workers: number;
  kernelThreads: number;
  warnings: string[];
  seconds: number;
}

interface Planned {
  name: string;
  input: BatchImageInput;
}

interface Plan {
  images: Planned[];
  /** Set for a stack input: one segmentation.h5 for all images. */
  stack?: ImageStack;
}

/** Whether an image failed on bad input (exit code 2) rather than on a fault (exit code 1). */
export function isInputFailure(error: Error | undefined): boolean {
  return error instanceof InputError || error instanceof ConfigError;
}

export class MultithreadedSegmentation {
  private constructor(
    readonly config: SegmentationConfig,
    readonly workflow: Workflow,
    readonly warnings: string[],
    private readonly options: MultithreadedSegmentationOptions,
  ) {}

  static async create(options: MultithreadedSegmentationOptions): Promise<MultithreadedSegmentation> {
    const { config, workflow, warnings } = resolveRun(options.config, options.workflow);
    if (config.segmentationClass === 'ShardedSegmentation') {
      throw new InputError(
        `${options.workflow} is driven by ShardedSegmentation (one image larger than memory); a batch segments each ` +
          `image in memory: use ${config.workflow} or Multithreaded${config.workflow}`,
        'ERR_SCSEG_WORKFLOW',
      );
    }
    positiveOption(options.threads, 'threads');
    positiveOption(options.kernelThreads, 'kernel threads');
    return new MultithreadedSegmentation(config, workflow, warnings, options);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  /** The images to segment, names checked; a stack is probed (shape, channel selection) before any worker starts. */
  private async plan(input: BatchInput): Promise<Plan> {
    const given = typeof input === 'string' ? (/\.csv$/i.test(input) ? { csv: input } : { stack: input }) : input;
    if ('csv' in given) {
      return { images: readBatchCsv(given.csv).map((im: BatchImage) => ({ name: im.name, input: { kind: 'files', paths: im.files } })) };
    }
    if ('images' in given) {
      const images = given.images.map((im) => ({ name: im.name, files: typeof im.input === 'string' ? [im.input] : [...im.input] }));
      if (images.length === 0) throw new InputError('the batch lists no image', 'ERR_SCSEG_ARGUMENT');
      checkBatchNames(images, (im, i) => `image ${i + 1} (${JSON.stringify(im.name)})`);
      for (const im of images) {
        if (im.files.length === 0 || im.files.some((f) => typeof f !== 'string' || f === '')) {
          throw new InputError(`image ${JSON.stringify(im.name)}: needs one or more file paths`, 'ERR_SCSEG_ARGUMENT');
        }
      }
      return { images: images.map((im) => ({ name: im.name, input: { kind: 'files', paths: im.files.map((f) => path.resolve(f)) } })) };
    }
    const file = path.resolve(given.stack);
    const stack = await openImageStack(file, { dataset: given.dataset });
    // Channel selection is the same for every image of a stack: checked once, here.
    stackReader(
      { ...stack, readChannel: () => Promise.reject(new Error('not read')) },
      this.config,
      this.workflow.descriptor.masks,
    );
    const digits = Math.max(4, String(stack.imageCount - 1).length);
    const images = Array.from({ length: stack.imageCount }, (_, i): Planned => ({
      name: `image_${String(i).padStart(digits, '0')}`,
      input: { kind: 'stack', path: file, index: i, ...(stack.dataset !== undefined ? { dataset: stack.dataset } : {}) },
    }));
    return { images, stack };
  }

  async run(run: BatchRunOptions): Promise<BatchRunResult> {
    const started = performance.now();
    run.signal?.throwIfAborted();
    const plan = await this.plan(run.input);
    prepareOutputDir(run.output);
    const output = path.resolve(run.output);
    const total = plan.images.length;
    const workers = Math.max(1, Math.min(this.options.threads ?? this.config.sharding.threads ?? 1, total));
    const kernelThreads = this.options.kernelThreads ?? Math.max(1, Math.floor(cores() / workers));
    const stack = plan.stack;
    const masks = this.workflow.descriptor.masks;
    this.log(
      `${this.config.workflow}, batch: ${total} image${total === 1 ? '' : 's'}` +
        (stack ? ` of a ${stack.imageCount}×${stack.channelCount}×${stack.height}×${stack.width} ${stack.dtype} stack` : '') +
        `; ${workers} worker${workers === 1 ? '' : 's'} × ${kernelThreads} kernel thread${kernelThreads === 1 ? '' : 's'}`,
    );
    if (stack && run.zarr) this.log('warning: a stack is written as one segmentation.h5; no OME-Zarr labels are written');

    const segmentation = stack ? path.join(output, 'segmentation.h5') : undefined;
    let writer: StackLabelsWriter | undefined;
    if (stack) {
      writer = await openStackLabelsH5Writer(segmentation!, {
        images: stack.imageCount, masks: masks.length, width: stack.width, height: stack.height, chunkSize: this.config.chunkSize,
      });
    }
    const pool = new WorkerPool(workers, { backend: this.options.backend ?? 'auto', threads: kernelThreads });
    let fatal: Error | undefined;
    const stop = (reason: Error) => {
      fatal ??= reason;
      void pool.close(reason);
    };
    const abort = () => stop(run.signal!.reason as Error);
    run.signal?.addEventListener('abort', abort, { once: true });
    if (run.signal?.aborted) abort();
    const results: BatchImageResult[] = new Array(total);
    let next = 0;
    let done = 0;
    const segmentOne = async (i: number): Promise<void> => {
      const image = plan.images[i];
      const args: BatchTaskArgs = {
        name: image.name,
        input: image.input,
        config: this.config,
        output: stack ? undefined : path.join(output, image.name),
        zarr: run.zarr ?? false,
        qc: run.qc ?? true,
      };
      const t0 = performance.now();
      const label = `image ${i + 1} of ${total} (${image.name})`;
      let result: BatchImageResult;
      try {
        const value = await pool.run<BatchTaskValue>('batch.image', args, { label });
        if (writer) {
          if (value.width !== stack!.width || value.height !== stack!.height) {
            throw new InputError(`${label}: masks of ${value.width}×${value.height}, the stack is ${stack!.width}×${stack!.height}`, 'ERR_SCSEG_SHAPE');
          }
          try {
            await writer.writeImage(i, value.masks!);
          } catch (e) {
            stop(e as Error); // the stack's file cannot be completed: the whole run fails
            throw e;
          }
        }
        result = {
          index: i, name: image.name, status: 'ok', cells: value.cells, seconds: (performance.now() - t0) / 1000,
          ...(args.output ? { output: args.output } : {}), input: image.input,
        };
      } catch (e) {
        if (fatal) return;
        const error = e instanceof Error ? e : new Error(String(e));
        result = { index: i, name: image.name, status: 'failed', seconds: (performance.now() - t0) / 1000, error, input: image.input };
      }
      results[i] = result;
      this.options.progress?.({ done: ++done, total, image: result });
    };
    const lane = async (): Promise<void> => {
      while (next < total && !fatal) await segmentOne(next++);
    };
    try {
      await Promise.all(Array.from({ length: workers }, lane));
      if (fatal) throw fatal;
      await writer?.finish();
      const summary = path.join(output, 'batch.csv');
      await writeBatchSummary(summary, results.map((r) => ({
        name: r.name, status: r.status, cells: r.cells, seconds: r.seconds, error: r.error?.message,
      })));
      const failed = results.filter((r) => r.status === 'failed');
      return {
        workflow: this.config.workflow,
        images: results,
        ok: total - failed.length,
        failed: failed.length,
        failedOnInput: failed.filter((r) => isInputFailure(r.error)).length,
        summary,
        ...(segmentation ? { segmentation } : {}),
        workers,
        kernelThreads,
        warnings: this.warnings,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      run.signal?.removeEventListener('abort', abort);
      await pool.close();
      await writer?.abort();
    }
  }
}
