/**
 * The in-memory Segmentation class (scPortrait `Segmentation`): loads the channels a workflow needs from a CXY
 * image, runs the workflow on the kernels, and writes the results directory.
 *
 * ```ts
 * const seg = await Segmentation.create({ config: { path: 'config.yml' }, workflow: 'WGASegmentation' });
 * const result = await seg.run({ input: ['nuclei.tif', 'wga.tif'], output: 'results/' });
 * ```
 */
import { loadConfig } from '../config/index.js';
import type { ConfigSource, SegmentationConfig, WorkflowAlias } from '../config/types.js';
import { InputError } from '../errors.js';
import { dtypeOf, type Image2D } from '../image.js';
import { openImage, type ImageSource } from '../io/index.js';
import { kernels, type BackendName, type Kernels } from '../kernels/index.js';
import { workflowInfo, type WorkflowInfo } from '../workflows/index.js';
import type { SegmentationResult } from '../workflows/types.js';
import { selectChannels, type ChannelReader } from './channels.js';
import { writeOutputs, prepareOutputDir, type OutputOptions, type WrittenFiles } from './outputs.js';

export interface SegmentationOptions {
  /** A YAML file / text / object in scPortrait's format, or an already loaded config. */
  config: ConfigSource | SegmentationConfig;
  workflow: WorkflowAlias;
  backend?: BackendName | 'auto';
  /** Receives one line per stage (loading, segmenting, writing). */
  log?: (message: string) => void;
}

export interface RunOptions extends OutputOptions {
  /** File path(s) (TIFF, OME-Zarr, HDF5, .npy; several single-channel TIFFs = channels), an open source, or planes. */
  input: string | readonly string[] | ImageSource | readonly Image2D[];
  /** Results directory; omit to keep results in memory only. */
  output?: string;
}

export interface RunResult extends SegmentationResult {
  files?: WrittenFiles;
  warnings: string[];
}

function isLoadedConfig(c: SegmentationOptions['config']): c is SegmentationConfig {
  return typeof c === 'object' && c !== null && 'workflow' in c && 'channels' in c;
}

/** In-memory planes (one per channel) as the minimal source channel selection reads from. */
function planesSource(planes: readonly Image2D[]): ChannelReader {
  if (planes.length === 0) throw new InputError('input has no channels', 'ERR_SCSEG_SHAPE');
  const { width, height } = planes[0];
  planes.forEach((p, i) => {
    if (p.width !== width || p.height !== height) {
      throw new InputError(`channel ${i} is ${p.width}×${p.height}, channel 0 is ${width}×${height}`, 'ERR_SCSEG_SHAPE');
    }
  });
  return { channelCount: planes.length, width, height, dtype: dtypeOf(planes[0].data), readChannel: async (c) => planes[c] };
}

export class Segmentation {
  private constructor(
    readonly config: SegmentationConfig,
    readonly workflow: WorkflowInfo,
    readonly kernels: Kernels,
    readonly warnings: string[],
    private readonly log: (message: string) => void,
  ) {}

  static async create(options: SegmentationOptions): Promise<Segmentation> {
    const { config, warnings } = isLoadedConfig(options.config)
      ? { config: options.config, warnings: [] }
      : loadConfig(options.config, options.workflow);
    const info = workflowInfo(config.workflow);
    if (!info.available || !info.run) {
      throw new InputError(`workflow ${config.workflow} is not available in this version`, 'ERR_SCSEG_WORKFLOW');
    }
    return new Segmentation(config, info, kernels(options.backend), warnings, options.log ?? (() => {}));
  }

  async run(options: RunOptions): Promise<RunResult> {
    if (options.output) prepareOutputDir(options.output);
    const input = options.input;
    const opened = typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'string');
    const source: ChannelReader = opened
      ? await openImage(input as string | readonly string[])
      : Array.isArray(input)
        ? planesSource(input as readonly Image2D[])
        : (input as ImageSource);
    let channels: Image2D[];
    try {
      this.log(`reading ${this.workflow.inputs.join(' + ')} channel(s) of ${source.channelCount}-channel ${source.width}×${source.height} ${source.dtype} input`);
      channels = await selectChannels(source, this.config, this.workflow.inputs);
    } finally {
      if (opened) await (source as ImageSource).close();
    }
    this.log(`segmenting with ${this.config.workflow} on the ${this.kernels.backendName} backend`);
    const result = this.workflow.run!(this.kernels, channels, this.config);
    this.log(`${result.classes.length} cells`);
    let files: WrittenFiles | undefined;
    if (options.output) {
      this.log(`writing results to ${options.output}`);
      files = await writeOutputs(options.output, result, channels[channels.length - 1], {
        chunkSize: this.config.chunkSize,
        ...options,
      });
    }
    return { ...result, files, warnings: this.warnings };
  }
}
