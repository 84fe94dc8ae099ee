/** Keys every segmentation workflow shares: cache, storage, sharding, size filtering and mask matching. */
import { type Section, UNIT_INTERVAL } from './reader.js';
import type { CommonConfig, ShardingConfig, SizeFilter } from './types.js';
import type { ResolvedWorkflow } from '../workflows/registry.js';

/** Top-level keys known to every workflow (workflow-specific ones are added by the family modules). */
export const COMMON_KEYS = [
  'cache',
  'chunk_size',
  'input_channels',
  'output_masks',
  'output_channels',
  'filter_status',
  'shard_size',
  'overlap_px',
  'threads',
  'nGPUs',
  'filter_masks_size',
  'match_masks',
  'filtering_threshold_mask_matching',
  'segmentation_channel_nuclei',
  'segmentation_channel_cytosol',
  'combine_nucleus_channels',
  'combine_cytosol_channels',
  'nucleus_segmentation',
  'cytosol_segmentation',
] as const;

/** Keys of a mask section that drive size filtering. */
export const SIZE_FILTER_KEYS = ['min_size', 'max_size', 'confidence_interval'] as const;

const DEFAULT_CHUNK_SIZE = 50;
const DEFAULT_MATCHING_THRESHOLD = 0.95;
const DEFAULT_CONFIDENCE_INTERVAL = 0.95;

export function readCommon(top: Section, wf: ResolvedWorkflow, section: string | null): CommonConfig {
  const twoMasks = wf.spec.masks.length === 2;
  top.int('output_masks', { min: 1 });
  top.int('output_channels', { min: 1 });
  return {
    workflow: wf.spec.name,
    segmentationClass: wf.segmentationClass,
    section,
    // scPortrait stores os.path.abspath(os.getcwd()) when `cache` is absent; a given value is kept as written.
    cache: top.string('cache') ?? currentDirectory(),
    cacheGiven: top.has('cache'),
    chunkSize: top.int('chunk_size', { min: 1 }) ?? DEFAULT_CHUNK_SIZE,
    inputChannels: top.int('input_channels', { min: 1 }) ?? null,
    filterStatus: top.bool('filter_status') ?? true,
    sharding: readSharding(top, wf),
    filterMasksSize: top.bool('filter_masks_size') ?? false,
    ...readMaskMatching(top, twoMasks, wf.spec.name),
  };
}

/** The working directory where there is one (Node); '.' elsewhere (a browser has none). */
function currentDirectory(): string {
  const proc = (globalThis as { process?: { cwd?: () => string } }).process;
  return proc?.cwd?.() ?? '.';
}

function readSharding(top: Section, wf: ResolvedWorkflow): ShardingConfig {
  // ShardedSegmentation asserts these three keys; the multithreaded class needs its thread count.
  const required: readonly string[] =
    wf.segmentationClass === 'ShardedSegmentation'
      ? ['shard_size', 'overlap_px', 'threads']
      : wf.segmentationClass === 'MultithreadedSegmentation'
        ? ['threads']
        : [];
  for (const key of required) {
    if (!top.has(key)) top.missing(key, `required by ${wf.segmentationClass}`);
  }
  // The in-memory class reads them too: a `shard_size` below the image's pixel count shards the run (overlap_px
  // default 100, threads = workers, default 1).
  let nGPUs: number | 'max' | null = null;
  if (top.has('nGPUs')) {
    nGPUs = top.raw('nGPUs') === 'max' ? 'max' : (top.int('nGPUs', { min: 0 }) ?? null);
  }
  return {
    shardSize: top.int('shard_size', { min: 1 }) ?? null,
    overlapPx: top.int('overlap_px', { min: 0 }) ?? null,
    threads: top.int('threads', { min: 1 }) ?? null,
    nGPUs,
  };
}

function readMaskMatching(
  top: Section,
  twoMasks: boolean,
  workflow: string,
): Pick<CommonConfig, 'matchMasks' | 'filteringThresholdMaskMatching'> {
  const given = top.bool('match_masks');
  const threshold = top.float('filtering_threshold_mask_matching', UNIT_INTERVAL);
  if (!twoMasks) {
    for (const key of ['match_masks', 'filtering_threshold_mask_matching']) {
      if (top.has(key)) top.warn(key, `ignored: ${workflow} produces a single mask, there is nothing to match`);
    }
    return { matchMasks: false, filteringThresholdMaskMatching: threshold ?? DEFAULT_MATCHING_THRESHOLD };
  }
  // Upstream quirk kept for parity: without an explicit `match_masks`, the matching threshold is the 0.95 default
  // whatever `filtering_threshold_mask_matching` says (_check_for_mask_matching_filtering never reads it then).
  if (given === undefined && threshold !== undefined && threshold !== DEFAULT_MATCHING_THRESHOLD) {
    const fallback = `scPortrait then uses ${DEFAULT_MATCHING_THRESHOLD}`;
    top.warn(
      'filtering_threshold_mask_matching',
      `ignored because match_masks is not written in the config (${fallback}); add "match_masks: true" to use ${threshold}`,
    );
  }
  const effective = given === undefined ? DEFAULT_MATCHING_THRESHOLD : (threshold ?? DEFAULT_MATCHING_THRESHOLD);
  return { matchMasks: given ?? true, filteringThresholdMaskMatching: effective };
}

/**
 * Size filter of one mask section. We follow scPortrait's code (SPEC §1, §5) rather than its docs, which call
 * min_size/max_size mandatory when `filter_masks_size` is true: with neither key scPortrait derives the thresholds
 * automatically (log-normal fit, `confidence_interval`, default 0.95), so configs relying on that keep working —
 * with a warning, since the docs promise otherwise. With only one of the two keys scPortrait would crash later
 * (a None threshold), so that is an error naming the missing key.
 */
export function readSizeFilter(mask: Section, enabled: boolean): SizeFilter | null {
  const min = mask.number('min_size', { min: 0 });
  const max = mask.number('max_size', { min: 0 });
  const open01 = { min: 0, max: 1, minExclusive: true, maxExclusive: true };
  const confidenceInterval = mask.number('confidence_interval', open01);
  if (!enabled) {
    // unused without filter_masks_size (as upstream), but a range that keeps nothing is worth a word
    if (min !== undefined && max !== undefined && min > max) {
      mask.warn('max_size', `is below min_size (${min}): with filter_masks_size true every mask would be removed (unused now: filter_masks_size is false)`);
    }
    return null;
  }
  const hasMin = mask.has('min_size');
  const hasMax = mask.has('max_size');
  if (hasMin && hasMax) {
    if (min !== undefined && max !== undefined && min > max) {
      mask.problem('max_size', `must be ≥ min_size (${min}), got ${mask.got('max_size')}`);
    }
    if (mask.has('confidence_interval')) mask.warn('confidence_interval', 'ignored: min_size and max_size are given');
    return { kind: 'thresholds', min: min ?? Number.NaN, max: max ?? Number.NaN };
  }
  if (hasMin || hasMax) {
    const [missing, given] = hasMin ? ['max_size', 'min_size'] : ['min_size', 'max_size'];
    mask.missing(missing, `filter_masks_size is true and ${given} is given; give both`);
    return { kind: 'thresholds', min: Number.NaN, max: Number.NaN };
  }
  const ci = confidenceInterval ?? DEFAULT_CONFIDENCE_INTERVAL;
  const estimate = `size thresholds will be estimated from the mask areas (confidence_interval ${ci}), as scPortrait does`;
  mask.diag.warn(mask.path, `filter_masks_size is true but min_size/max_size are not given: ${estimate}`);
  return { kind: 'automatic', confidenceInterval: ci };
}
