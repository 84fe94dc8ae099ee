/**
 * Which input channels feed which mask (scPortrait's `_define_channels_to_extract_for_segmentation`).
 *
 * Per mask: `combine_<mask>_channels` (a list of ≥ 2 ids, maximum-intensity projection) supersedes
 * `segmentation_channel_<nuclei|cytosol>` (an int or a list holding one id), which supersedes the workflow's
 * default ([0] nucleus, [1] cytosol). `load` lists the channels to read, nucleus first, without repeats.
 *
 * One deliberate difference: the docs' case 2 (same channel for nucleus and cytosol) is accepted as documented,
 * whereas scPortrait's code rejects it ("Fewer segmentation channels … than expected"); a warning says so.
 */
import type { Section } from './reader.js';
import { joinPath } from './source.js';
import type { MaskChannels, MaskName } from './types.js';
import type { WorkflowDescriptor } from '../workflows/registry.js';

const SELECT_KEY = { nucleus: 'segmentation_channel_nuclei', cytosol: 'segmentation_channel_cytosol' } as const;
const COMBINE_KEY = { nucleus: 'combine_nucleus_channels', cytosol: 'combine_cytosol_channels' } as const;

export interface ChannelSelection {
  nucleus?: MaskChannels;
  cytosol?: MaskChannels;
  load: number[];
}

/** `inputChannels`: the (informational) `input_channels` key, to warn about ids beyond it. */
export function readChannels(top: Section, spec: WorkflowDescriptor, inputChannels: number | null): ChannelSelection {
  const cytosolOnly =
    spec.name === 'CytosolOnlySegmentationCellpose' || spec.name === 'CytosolOnlySegmentationDownsamplingCellpose';
  const selection = cytosolOnly ? readCytosolOnlyChannels(top, spec.name) : readPerMaskChannels(top, spec);
  const outside = inputChannels === null ? [] : selection.load.filter((c) => c >= inputChannels);
  if (outside.length > 0) {
    const ids = outside.join(', ');
    top.diag.warn(top.path, `channel(s) ${ids} selected for segmentation but input_channels is ${inputChannels}`);
  }
  return selection;
}

function readPerMaskChannels(top: Section, spec: WorkflowDescriptor): ChannelSelection {
  const out: ChannelSelection = { load: [] };
  for (const mask of ['nucleus', 'cytosol'] as const) {
    if (!spec.masks.includes(mask)) {
      for (const key of [SELECT_KEY[mask], COMBINE_KEY[mask]]) {
        if (top.has(key)) top.warn(key, `ignored: ${spec.name} has no ${mask} mask`);
      }
      continue;
    }
    out[mask] = readMaskChannels(top, mask, spec.defaultChannels[mask] ?? []);
  }
  out.load = unique([...(out.nucleus?.channels ?? []), ...(out.cytosol?.channels ?? [])]);
  const n = out.nucleus;
  const c = out.cytosol;
  if (n && c && !n.maxProjection && !c.maxProjection && n.channels.length === 1 && n.channels[0] === c.channels[0]) {
    const deviation = "although scPortrait's code rejects a single channel for a two-mask workflow";
    top.diag.warn(
      top.path,
      `nucleus and cytosol both use channel ${n.channels[0]}: accepted as in scPortrait's documentation (case 2), ${deviation}`,
    );
  }
  return out;
}

function readMaskChannels(top: Section, mask: MaskName, defaults: readonly number[]): MaskChannels {
  const combineKey = COMBINE_KEY[mask];
  const selectKey = SELECT_KEY[mask];
  if (top.has(combineKey)) {
    const channels = channelList(top, combineKey, { minLength: 2, allowInt: false }) ?? [];
    if (top.has(selectKey)) {
      const projection = `the maximum projection of channels [${channels.join(', ')}]`;
      top.warn(selectKey, `superseded by ${combineKey} (the ${mask} mask uses ${projection})`);
    }
    return { channels, maxProjection: true, source: combineKey };
  }
  if (top.has(selectKey)) {
    const channels = channelList(top, selectKey, { minLength: 1, allowInt: true }) ?? [];
    if (channels.length > 1) {
      const hint = `to combine channels use ${combineKey} (maximum-intensity projection)`;
      top.problem(selectKey, `selects ${channels.length} channels but the ${mask} mask takes one; ${hint}`);
    }
    return { channels, maxProjection: false, source: selectKey };
  }
  return { channels: [...defaults], maxProjection: false, source: 'default' };
}

/**
 * CytosolOnlySegmentation(Downsampling)Cellpose: the Cellpose input stack is `segmentation_channel_cytosol`
 * (default [0, 1]) plus `segmentation_channel_nuclei` as an optional nucleus cue (null/None = no cue), 1 or 2
 * channels in all.
 */
function readCytosolOnlyChannels(top: Section, workflow: string): ChannelSelection {
  for (const key of [COMBINE_KEY.nucleus, COMBINE_KEY.cytosol]) {
    if (top.has(key)) {
      const why = 'scPortrait fails on it: the projected stack no longer has the channel count it expects';
      top.problem(key, `is not supported by ${workflow} (${why})`);
    }
  }
  const one = { minLength: 1, allowInt: true };
  const cytosolGiven = top.has(SELECT_KEY.cytosol);
  const cytosol = cytosolGiven ? channelList(top, SELECT_KEY.cytosol, one) : [0, 1];
  let cue: number[] | undefined = [];
  if (top.has(SELECT_KEY.nucleus) && !top.isNone(SELECT_KEY.nucleus)) {
    cue = channelList(top, SELECT_KEY.nucleus, one);
    if (!cytosolGiven) {
      top.missing(
        SELECT_KEY.cytosol,
        'required when segmentation_channel_nuclei is set; ' +
          'otherwise the cytosol default [0, 1] could overlap the nucleus channel',
      );
    }
  }
  const stack = unique([...(cytosol ?? []), ...(cue ?? [])]);
  if (cytosol && cue && stack.length > 2) {
    top.problem(
      cytosolGiven ? SELECT_KEY.cytosol : SELECT_KEY.nucleus,
      `${workflow} takes 1 or 2 channels (cytosol plus optional nucleus cue), got [${stack.join(', ')}]`,
    );
  }
  const source = cytosolGiven ? SELECT_KEY.cytosol : 'default';
  return { cytosol: { channels: stack, maxProjection: false, source }, load: stack };
}

/** An int or a list of ints ≥ 0 (`allowInt: false` demands a list, as scPortrait asserts for combine_* keys). */
function channelList(top: Section, key: string, opts: { minLength: number; allowInt: boolean }): number[] | undefined {
  const value = top.raw(key);
  const path = top.keyPath(key);
  const expected = opts.allowInt
    ? 'a channel id (integer ≥ 0) or a list of them'
    : `a list of at least ${opts.minLength} channel ids (integers ≥ 0)`;
  if (opts.allowInt && !Array.isArray(value)) {
    const id = top.intValue(value, path);
    if (id !== undefined && id >= 0) return [id];
    top.problem(key, `must be ${expected}, got ${top.got(key)}`);
    return undefined;
  }
  if (!Array.isArray(value) || value.length < opts.minLength) {
    top.problem(key, `must be ${expected}, got ${top.got(key)}`);
    return undefined;
  }
  const ids: number[] = [];
  let ok = true;
  value.forEach((v, i) => {
    const elementPath = joinPath(path, i);
    const id = top.intValue(v, elementPath);
    if (id === undefined || id < 0) {
      top.diag.problem(elementPath, `must be a channel id (integer ≥ 0), got ${top.diag.describe(v, elementPath)}`);
      ok = false;
    } else {
      ids.push(id);
    }
  });
  return ok ? ids : undefined;
}

function unique(ids: readonly number[]): number[] {
  return [...new Set(ids)];
}
