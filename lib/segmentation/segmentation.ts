/**
 * The in-memory Segmentation class (scPortrait `Segmentation`): loads the channel stacks a workflow needs from a
 * CXY image, runs the workflow on the kernels, and writes the results directory.
 *
 * ```ts
 * const seg = await Segmentation.create({ config: { path: 'config.yml' }, workflow: 'WGASegmentation' });
 * const result = await seg.run({ input: ['nuclei.tif', 'wga.tif'], output: 'results/' });
 * ```
 */
import type { ConfigSource, SegmentationConfig, WorkflowAlias } from '../config/types.js';
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';
import type { ImageSource } from '../io/index.js';
import { kernels, type BackendName, type Kernels } from '../kernels/index.js';
import { isMainThread } from 'node:worker_threads';
import { sharedWorker } from '../parallel/shared-pool.js';
import type { SegmentationResult, Workflow } from '../workflows/types.js';
import { resolveRun } from './class-options.js';
import { loadH5wasm } from '../io/h5wasm.js';
import { runInMemory, writeRunOutputs, type InMemoryResult } from './in-memory-run.js';
import { prepareOutputDir, type OutputOptions, type WrittenFiles } from './outputs.js';
import { LOG_PREFIX, STEP_PREFIX, type SegmentTaskArgs } from './segment-task.js';

export interface SegmentationOptions {
  /** A YAML file / text / object in scPortrait's format, or an already loaded config. */
  config: ConfigSource | SegmentationConfig;
  workflow: WorkflowAlias;
  /** Kernel backend; default: SCSEG_BACKEND, else native with WASM as fallback. */
  backend?: BackendName | 'auto';
  /** Kernel threads (native backend; WASM runs on one). Default: SCSEG_THREADS, else one per core, at most 8. */
  threads?: number;
  /** Receives one line per stage (loading, segmenting, writing). */
  log?: (message: string) => void;
  /** Receives each workflow step's name as it starts. */
  progress?: (step: string) => void;
  /**
   * Run in a worker thread so that the calling thread stays responsive (default: yes from the main thread for
   * file and plane inputs; an open ImageSource runs on the calling thread).
   */
  offThread?: boolean;
  /**
   * With offThread: write the results directory on the calling thread rather than in the worker (default false).
   * For a caller with nothing else to do meanwhile, like the CLI: h5wasm then loads on this thread while the
   * worker segments, off the critical path. Writing blocks this thread for a few hundred ms at 2048².
   */
  writeOnCallingThread?: boolean;
}

export interface RunOptions extends OutputOptions {
  /** File path(s) (TIFF, OME-Zarr, HDF5, .npy; several single-channel TIFFs = channels), an open source, or planes. */
  input: string | readonly string[] | ImageSource | readonly Image2D[];
  /** Results directory; omit to keep results in memory only. */
  output?: string;
  /** HDF5 input: the dataset to read (default `channels`, else the first 3-D dataset, else the first 2-D one). */
  dataset?: string;
  /** Stops the run between steps (the results directory is then left as it was). */
  signal?: AbortSignal;
}

export interface RunResult extends SegmentationResult {
  files?: WrittenFiles;
  warnings: string[];
}

export class Segmentation {
  private constructor(
    readonly config: SegmentationConfig,
    readonly workflow: Workflow,
    readonly kernels: Kernels,
    readonly warnings: string[],
    private readonly options: SegmentationOptions,
  ) {}

  static async create(options: SegmentationOptions): Promise<Segmentation> {
    const { config, workflow, warnings } = resolveRun(options.config, options.workflow);
    if (config.segmentationClass === 'ShardedSegmentation') {
      throw new InputError(
        `${options.workflow} is driven by ShardedSegmentation: use ShardedSegmentation.create() (the CLI chooses it by itself)`,
        'ERR_SCSEG_WORKFLOW',
      );
    }
    if (config.segmentationClass === 'MultithreadedSegmentation') {
      throw new InputError(
        `${options.workflow} is driven by MultithreadedSegmentation (many images over worker threads): use ` +
          'MultithreadedSegmentation.create() (lib/segmentation/batch.ts; the CLI runs it for --batch or a 4-D input)',
        'ERR_SCSEG_WORKFLOW',
      );
    }
    const k = kernels(options.backend, { threads: options.threads });
    return new Segmentation(config, workflow, k, warnings, options);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  async run(options: RunOptions): Promise<RunResult> {
    const input = options.input;
    const files = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'string');
    const planes = Array.isArray(input) && !files;
    // An open ImageSource cannot move to another thread: that run stays here.
    if (!(this.options.offThread ?? isMainThread) || !(files || planes)) {
      const result = await runInMemory({
        ...options, workflow: this.workflow, config: this.config, kernels: this.kernels,
        log: (m) => this.log(m), progress: this.options.progress,
      });
      return { ...result, warnings: this.warnings };
    }
    const output = options.output;
    const writeHere = output !== undefined && (this.options.writeOnCallingThread ?? false);
    if (output) prepareOutputDir(output);
    // This thread writes the outputs and is idle until then: load h5wasm (~0.1–0.25 s) meanwhile.
    if (writeHere) void loadH5wasm().catch(() => undefined);
    const args: SegmentTaskArgs = {
      config: this.config,
      input: (files ? (typeof input === 'string' ? [input] : [...(input as readonly string[])]) : [...(input as readonly Image2D[])]) as SegmentTaskArgs['input'],
      dataset: options.dataset,
      ...(writeHere ? { keepBackground: true } : { output, zarr: options.zarr, qc: options.qc }),
    };
    const pool = sharedWorker({ backend: this.kernels.backendName, threads: this.kernels.threads });
    const { background, ...result } = await pool.run<InMemoryResult>('segment.run', args, {
      label: `${this.config.workflow} run`,
      signal: options.signal,
      onProgress: (m) => (m.startsWith(LOG_PREFIX) ? this.log(m.slice(LOG_PREFIX.length)) : this.options.progress?.(m.slice(STEP_PREFIX.length))),
    });
    if (!writeHere) return { ...result, warnings: this.warnings };
    const written = await writeRunOutputs(output, result, background!, {
      ...options, config: this.config, kernels: this.kernels, log: (m) => this.log(m),
    });
    return { ...result, files: written, warnings: this.warnings };
  }
}
