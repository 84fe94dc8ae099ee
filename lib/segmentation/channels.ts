/**
 * Channel selection as scPortrait documents it, into per-mask channel stacks: per mask either the selected
 * channels (`segmentation_channel_<mask>`; one for the classical workflows, a cytosol + nucleus-cue stack for
 * CytosolOnlySegmentationCellpose) or the element-wise maximum of several (`combine_<mask>_channels`, which
 * supersedes selection). Only the channels that are needed are decoded, whole or as a window.
 */
import type { MaskChannels, MaskName, SegmentationConfig } from '../config/types.js';
import { InputError } from '../errors.js';
import { allocLike, cropImage, dtypeOf, type DType, type Image2D, type PixelArray, type PixelWindow } from '../image.js';
import type { MaskStacks, StackReader } from '../workflows/types.js';

/** What channel selection needs from an input: its shape and per-channel decoding, whole or windowed. */
export interface ChannelReader {
  readonly channelCount: number;
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
  readChannel(channel: number): Promise<Image2D>;
  readWindow?(channel: number, window: PixelWindow): Promise<Image2D>;
}

function maskChannels(config: SegmentationConfig, mask: MaskName): MaskChannels {
  const sel = (config.channels as Partial<Record<MaskName, MaskChannels>>)[mask];
  if (!sel) throw new InputError(`${config.workflow} has no ${mask} channel selection`, 'ERR_SCSEG_ARGUMENT');
  return sel;
}

function checkIndices(sel: MaskChannels, mask: MaskName, channelCount: number): void {
  for (const c of sel.channels) {
    if (!Number.isInteger(c) || c < 0 || c >= channelCount) {
      const key = sel.source === 'default' ? `the default ${mask} channel` : sel.source;
      throw new InputError(
        `channel ${c} (${key}) is out of range: the input has ${channelCount} channel${channelCount === 1 ? '' : 's'} ` +
          `(valid indices 0–${channelCount - 1})`,
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
      checkIndices(sel, m, source.channelCount);
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
  return assemble(selections(source, config, masks), (c) => source.readChannel(c));
}

/** A StackReader over `source`: the same selection for any window (decoding only what the window touches). */
export function stackReader(source: ChannelReader, config: SegmentationConfig, masks: readonly MaskName[]): StackReader {
  const chosen = selections(source, config, masks);
  return {
    width: source.width,
    height: source.height,
    dtype: source.dtype,
    read: (window) =>
      assemble(chosen, (c) =>
        source.readWindow ? source.readWindow(c, window) : source.readChannel(c).then((p) => cropImage(p, window)),
      ),
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
