/**
 * Channel selection as scPortrait documents it, into per-mask channel stacks: per mask either the selected
 * channels (`segmentation_channel_<mask>`; one for the classical workflows, a cytosol + nucleus-cue stack for
 * CytosolOnlySegmentationCellpose) or the element-wise maximum of several (`combine_<mask>_channels`, which
 * supersedes selection). Only the channels that are needed are decoded, whole or as a window.
 */
import type { MaskChannels, MaskName, SegmentationConfig } from '../config/types.js';
import { InputError } from '../errors.js';
import { allocLike, cropImage, dtypeOf, type DType, type Image2D, type PixelArray, type PixelWindow } from '../image.js';
import type { BackendName, KernelLimits } from '../kernels/backend.js';
import { assertImageFits, backendTitle, tooLargeAdvice } from '../kernels/validate.js';
import type { WorkflowDescriptor } from '../workflows/registry.js';
import type { MaskStacks, StackReader } from '../workflows/types.js';

/** What channel selection needs from an input: its shape and per-channel decoding, whole or windowed. */
export interface ChannelReader {
  readonly channelCount: number;
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
  readChannel(channel: number): Promise<Image2D>;
  readWindow?(channel: number, window: PixelWindow): Promise<Image2D>;
  /** The file(s) read (an ImageSource's paths; one per channel for a list of files): messages name them. */
  readonly paths?: readonly string[];
}

/** The input as messages name it. */
function inputName(source: ChannelReader): string {
  const p = source.paths ?? [];
  if (p.length === 0) return 'the input planes';
  return p.length === 1 ? p[0] : `${p[0]} (+${p.length - 1} more)`;
}

/** The file that holds `channel` (a list of files: that channel's file). */
function channelName(source: ChannelReader, channel: number): string {
  const p = source.paths ?? [];
  if (p.length > 1 && p.length === source.channelCount) return p[channel];
  return p.length === 0 ? `input plane ${channel}` : `${inputName(source)}, channel ${channel}`;
}

/** Bytes per pixel an in-memory run holds at least (input as float32, normalised copy, two label images). */
const IN_MEMORY_BYTES_PER_PIXEL = 16;

/**
 * The whole image can be segmented in memory: the backend's kernels can hold it (WASM: 4 GiB) and, when
 * `memoryBytes` is given (the machine's memory), a lower bound of what the run needs is below it. Sizes are
 * computed in 64-bit from the header, before any pixel is read: a 65535² header on a tiny file costs nothing.
 */
export function assertFitsInMemory(
  source: ChannelReader,
  kernels: { readonly backendName: BackendName; readonly backend: { readonly limits: KernelLimits } },
  memoryBytes?: number,
  workflow?: Pick<WorkflowDescriptor, 'name' | 'capacity'>,
): void {
  const { width, height } = source;
  const { limits } = kernels.backend;
  assertImageFits(inputName(source), width, height, limits, kernels.backendName);
  // The workflow's largest kernels hold more per pixel (fast marching, WGA's march + flood, Cellpose's dynamics):
  // refused here rather than when the run gets to them, possibly minutes later.
  const cap = Math.min(...(workflow?.capacity ?? []).map((limit) => limits[limit]));
  if (width * height > cap) {
    const backend = kernels.backendName;
    throw new InputError(
      `${inputName(source)}: ${width}×${height} is more than ${workflow!.name} can hold on the ${backendTitle(backend)} ` +
        `backend (${cap} pixels${backend === 'wasm' ? ' in its 4 GiB memory' : ''}); ${tooLargeAdvice(backend)}`,
      'ERR_SCSEG_TOO_LARGE',
    );
  }
  const need = BigInt(width) * BigInt(height) * BigInt(IN_MEMORY_BYTES_PER_PIXEL);
  if (memoryBytes !== undefined && need > BigInt(Math.floor(memoryBytes))) {
    const gib = (b: bigint | number) => `${(Number(b) / 2 ** 30).toFixed(1)} GiB`;
    throw new InputError(
      `${inputName(source)}: ${width}×${height} needs at least ${gib(need)} to segment in memory, more than this ` +
        `machine's ${gib(memoryBytes)}; segment it sharded (--shard-size, ShardedSegmentation), which reads it window by window`,
      'ERR_SCSEG_TOO_LARGE',
    );
  }
}

/**
 * Float pixels must be finite: NaN has no order (quantiles, Otsu, the watershed's priority queue) and ±Inf turns
 * the normalisation into NaN. The first bad pixel is named by file, channel and (x, y) in the whole image.
 */
function assertFinitePixels(source: ChannelReader, channel: number, plane: Image2D, x0: number, y0: number): Image2D {
  const d = plane.data;
  if (!(d instanceof Float32Array)) return plane;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v - v !== 0) {
      const x = x0 + (i % plane.width);
      const y = y0 + Math.floor(i / plane.width);
      throw new InputError(
        `${channelName(source, channel)}: pixel (x ${x}, y ${y}) is ${String(v)}; segmentation needs finite values — ` +
          'replace or mask them first (e.g. numpy.nan_to_num)',
        'ERR_SCSEG_VALUE',
      );
    }
  }
  return plane;
}

function maskChannels(config: SegmentationConfig, mask: MaskName): MaskChannels {
  const sel = (config.channels as Partial<Record<MaskName, MaskChannels>>)[mask];
  if (!sel) throw new InputError(`${config.workflow} has no ${mask} channel selection`, 'ERR_SCSEG_ARGUMENT');
  return sel;
}

function checkIndices(source: ChannelReader, sel: MaskChannels, mask: MaskName): void {
  const channelCount = source.channelCount;
  for (const c of sel.channels) {
    if (!Number.isInteger(c) || c < 0 || c >= channelCount) {
      const key = sel.source === 'default' ? `the default ${mask} channel` : sel.source;
      throw new InputError(
        `${source.paths?.length ? `${inputName(source)}: ` : ''}channel ${c} (${key}) is out of range: the input has ${channelCount} ` +
          `channel${channelCount === 1 ? '' : 's'} (valid indices 0–${channelCount - 1})`,
        'ERR_SCSEG_CHANNELS',
      );
    }
  }
}

function maximumProjection(planes: Image2D[]): Image2D {
  const out = allocLike(planes[0].data as PixelArray, planes[0].data.length);
  for (const p of planes) {
    const d = p.data;
    for (let i = 0; i < out.length; i++) if (d[i] > out[i]) out[i] = d[i];
  }
  return { data: out, width: planes[0].width, height: planes[0].height };
}

function selections(source: ChannelReader, config: SegmentationConfig, masks: readonly MaskName[]): Map<MaskName, MaskChannels> {
  return new Map(
    masks.map((m) => {
      const sel = maskChannels(config, m);
      checkIndices(source, sel, m);
      return [m, sel];
    }),
  );
}

async function assemble(
  chosen: Map<MaskName, MaskChannels>,
  read: (channel: number) => Promise<Image2D>,
): Promise<MaskStacks> {
  const needed = [...new Set([...chosen.values()].flatMap((s) => s.channels))].sort((a, b) => a - b);
  const planes = new Map<number, Image2D>();
  for (const c of needed) planes.set(c, await read(c));
  const stacks: MaskStacks = {};
  for (const [mask, sel] of chosen) {
    const stack = sel.channels.map((c) => planes.get(c)!);
    stacks[mask] = sel.maxProjection ? [maximumProjection(stack)] : stack;
  }
  return stacks;
}

/** Reads and assembles the workflow's per-mask stacks (e.g. { nucleus: [plane], cytosol: [plane] }) from `source`. */
export async function selectChannels(
  source: ChannelReader,
  config: SegmentationConfig,
  masks: readonly MaskName[],
): Promise<MaskStacks> {
  return assemble(selections(source, config, masks), async (c) => assertFinitePixels(source, c, await source.readChannel(c), 0, 0));
}

/** A StackReader over `source`: the same selection for any window (decoding only what the window touches). */
export function stackReader(source: ChannelReader, config: SegmentationConfig, masks: readonly MaskName[]): StackReader {
  const chosen = selections(source, config, masks);
  return {
    width: source.width,
    height: source.height,
    dtype: source.dtype,
    read: (window) =>
      assemble(chosen, async (c) => {
        const plane = source.readWindow ? await source.readWindow(c, window) : cropImage(await source.readChannel(c), window);
        return assertFinitePixels(source, c, plane, window.x, window.y);
      }),
  };
}

/** In-memory planes (one per channel) as a ChannelReader. */
export function planesReader(planes: readonly Image2D[]): ChannelReader {
  if (planes.length === 0) throw new InputError('input has no channels', 'ERR_SCSEG_SHAPE');
  const { width, height } = planes[0];
  planes.forEach((p, i) => {
    if (p.width !== width || p.height !== height) {
      throw new InputError(`channel ${i} is ${p.width}×${p.height}, channel 0 is ${width}×${height}`, 'ERR_SCSEG_SHAPE');
    }
  });
  return {
    channelCount: planes.length,
    width,
    height,
    dtype: dtypeOf(planes[0].data),
    readChannel: async (c) => planes[c],
    readWindow: async (c, window) => cropImage(planes[c], window),
  };
}
