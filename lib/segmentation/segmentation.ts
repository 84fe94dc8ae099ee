/**
 * The in-memory Segmentation class (scPortrait `Segmentation`): loads the channel stacks a workflow needs from a
 * CXY image, runs the workflow on the kernels, and writes the results directory.
 *
 * ```ts
 * const seg = await Segmentation.create({ config: { path: 'config.yml' }, workflow: 'WGASegmentation' });
 * const result = await seg.run({ input: ['nuclei.tif', 'wga.tif'], output: 'results/' });
 * ```
 */
import { loadConfig } from '../config/index.js';
import type { ConfigSource, SegmentationConfig, WorkflowAlias } from '../config/types.js';
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';
import { openImage, type ImageSource } from '../io/index.js';
import { kernels, type BackendName, type Kernels } from '../kernels/index.js';
import { workflowFor } from '../workflows/index.js';
import { nextTurn, type SegmentationResult, type Workflow } from '../workflows/types.js';
import { planesReader, selectChannels, type ChannelReader } from './channels.js';
import { prepareOutputDir, writeOutputs, type OutputOptions, type WrittenFiles } from './outputs.js';

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
}

export interface RunOptions extends OutputOptions {
  /** File path(s) (TIFF, OME-Zarr, HDF5, .npy; several single-channel TIFFs = channels), an open source, or planes. */
  input: string | readonly string[] | ImageSource | readonly Image2D[];
  /** Results directory; omit to keep results in memory only. */
  output?: string;
  /** Stops the run between steps (the results directory is then left as it was). */
  signal?: AbortSignal;
}

export interface RunResult extends SegmentationResult {
  files?: WrittenFiles;
  warnings: string[];
}

function isLoadedConfig(c: SegmentationOptions['config']): c is SegmentationConfig {
  return typeof c === 'object' && c !== null && 'workflow' in c && 'channels' in c;
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
    // Unavailable workflows and segmentation classes fail before the config is even read.
    workflowFor(options.workflow);
    const { config, warnings } = isLoadedConfig(options.config)
      ? { config: options.config, warnings: [] }
      : loadConfig(options.config, options.workflow);
    const workflow = workflowFor(isLoadedConfig(options.config) ? config.workflow : options.workflow);
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
    if (options.output) prepareOutputDir(options.output);
    const input = options.input;
    const opened = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'string');
    const source: ChannelReader = opened
      ? await openImage(input as string | readonly string[])
      : Array.isArray(input)
        ? planesReader(input as readonly Image2D[])
        : (input as ImageSource);
    const masks = this.workflow.descriptor.masks;
    let stacks;
    try {
      this.log(`reading ${masks.join(' + ')} channel(s) of ${source.channelCount}-channel ${source.width}×${source.height} ${source.dtype} input`);
      stacks = await selectChannels(source, this.config, masks);
      options.signal?.throwIfAborted();
    } finally {
      if (opened) await (source as ImageSource).close();
    }
    const k = this.kernels;
    // WASM has no threads whatever the budget: log what actually runs.
    const threads = k.backendName === 'wasm' ? 1 : k.threads;
    this.log(`segmenting with ${this.config.workflow} on the ${k.backendName} backend, ${threads} kernel thread${threads === 1 ? '' : 's'}`);
    const result = await this.workflow.run({ kernels: k, signal: options.signal, progress: this.options.progress }, stacks, this.config);
    this.log(`${result.classes.length} cells`);
    let files: WrittenFiles | undefined;
    if (options.output) {
      // A signal raised while the last kernel ran is only delivered once the event loop turns.
      await nextTurn();
      options.signal?.throwIfAborted();
      this.log(`writing results to ${options.output}`);
      const background = stacks[masks[masks.length - 1]]![0];
      files = await writeOutputs(options.output, result, background, { chunkSize: this.config.chunkSize, ...options });
    }
    return { ...result, files, warnings: this.warnings };
  }
}

