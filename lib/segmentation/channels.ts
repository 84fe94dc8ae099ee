/**
 * Channel selection as scPortrait documents it: per mask either one selected channel
 * (`segmentation_channel_<mask>`) or the element-wise maximum of several (`combine_<mask>_channels`, which
 * supersedes selection). Only the channels that are needed are decoded.
 */
import type { MaskChannels, MaskName, SegmentationConfig } from '../config/types.js';
import { InputError } from '../errors.js';
import { allocLike, type Image2D, type PixelArray } from '../image.js';
import type { ImageSource } from '../io/index.js';

/** What channel selection needs from an input: its channel count and per-channel decoding. */
export type ChannelReader = Pick<ImageSource, 'channelCount' | 'width' | 'height' | 'dtype' | 'readChannel'>;

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

/** Reads and assembles the workflow's input stack (e.g. [nucleus, cytosol]) from `source`. */
export async function selectChannels(source: ChannelReader, config: SegmentationConfig, masks: readonly MaskName[]): Promise<Image2D[]> {
  const selections = masks.map((m) => {
    const sel = maskChannels(config, m);
    checkIndices(sel, m, source.channelCount);
    return sel;
  });
  const needed = [...new Set(selections.flatMap((s) => s.channels))].sort((a, b) => a - b);
  const planes = new Map<number, Image2D>();
  for (const c of needed) planes.set(c, await source.readChannel(c));
  return selections.map((s) => {
    const chosen = s.channels.map((c) => planes.get(c)!);
    return s.maxProjection ? maximumProjection(chosen) : chosen[0];
  });
}
