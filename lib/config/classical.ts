/**
 * Parameters of the classical workflows (WGASegmentation, DAPISegmentation), as scPortrait's
 * `_get_processing_parameters` / `_nucleus_segmentation` / `_cytosol_segmentation` read them (SPEC §1).
 * Where the original crashes later on an incomplete config (KeyError, AttributeError, TypeError), we report the
 * missing key up front instead.
 */
import { readSizeFilter, SIZE_FILTER_KEYS } from './common.js';
import { type Section, UNIT_INTERVAL } from './reader.js';
import type { ClassicalNucleusConfig, QuantileRange, WgaCytosolConfig } from './types.js';

export const NORMALIZATION_KEYS = ['lower_quantile_normalization', 'upper_quantile_normalization'] as const;
export const CLASSICAL_TOP_KEYS = [...NORMALIZATION_KEYS, 'median_filter_size'] as const;

const NUCLEUS_KEYS = [
  ...NORMALIZATION_KEYS,
  'threshold',
  'median_block',
  'median_step',
  'speckle_kernel',
  'peak_footprint',
  'min_distance',
  'dilation',
  'contact_filter',
  ...SIZE_FILTER_KEYS,
];

const CYTOSOL_KEYS = [
  ...NORMALIZATION_KEYS,
  'threshold',
  'erosion',
  'dilation',
  'min_clip',
  'max_clip',
  'contact_filter',
  ...SIZE_FILTER_KEYS,
];

/**
 * `lower_/upper_quantile_normalization` of a mapping: none → null; both → the range. scPortrait switches
 * normalisation on when EITHER key exists and then needs both (KeyError/AttributeError/ValueError otherwise), so a
 * lone bound is an error naming the other. Per-channel lists are rejected: scPortrait accepts them at first but its
 * normaliser then refuses them (list → dict), so they never worked.
 */
export function readQuantiles(sec: Section): QuantileRange | null {
  const [lowerKey, upperKey] = NORMALIZATION_KEYS;
  const hasLower = sec.has(lowerKey);
  const hasUpper = sec.has(upperKey);
  if (!hasLower && !hasUpper) return null;
  const read = (key: string): number => {
    if (!sec.has(key)) return Number.NaN;
    if (Array.isArray(sec.raw(key))) {
      const why = "per-channel lists are not supported (scPortrait's normaliser rejects them too)";
      sec.problem(key, `${why}; give one quantile in [0, 1], got ${sec.got(key)}`);
      return Number.NaN;
    }
    return sec.float(key, UNIT_INTERVAL) ?? Number.NaN;
  };
  const lower = read(lowerKey);
  const upper = read(upperKey);
  if (!hasLower || !hasUpper) {
    const [missing, given] = hasLower ? [upperKey, lowerKey] : [lowerKey, upperKey];
    sec.missing(missing, `${given} is given; normalisation needs both quantiles`);
  } else if (lower >= upper) {
    sec.problem(upperKey, `must be greater than ${lowerKey} (${lower}), got ${sec.got(upperKey)}`);
  }
  return { lower, upper };
}

/** Top-level `median_filter_size`: disk radius of the input median filter. */
export function readMedianFilterSize(top: Section, required: string | null): number | null {
  if (required !== null && !top.has('median_filter_size')) {
    top.missing('median_filter_size', required);
    return Number.NaN;
  }
  return top.int('median_filter_size', { min: 0 }) ?? null;
}

export function readClassicalNucleus(sec: Section, filterMasksSize: boolean): ClassicalNucleusConfig {
  sec.warnUnknownKeys(NUCLEUS_KEYS);
  const normalization = readQuantiles(sec);
  const local = sec.has('threshold') && sec.has('median_block');
  // Branch choice as upstream: the local threshold needs BOTH keys, otherwise global Otsu silently ignores the other.
  const threshold = sec.number('threshold', UNIT_INTERVAL);
  const medianBlock = sec.int('median_block', { min: 1, odd: true });
  const medianStep = sec.int('median_step', { min: 1 });
  let thresholding: ClassicalNucleusConfig['thresholding'];
  const why = local
    ? 'the local threshold (on because threshold and median_block are given) needs it; ' +
      'scPortrait never falls back to its function defaults'
    : 'the nucleus segmentation needs it';
  if (local) {
    if (!sec.has('median_step')) sec.missing('median_step', why);
    thresholding = {
      kind: 'local',
      threshold: threshold ?? Number.NaN,
      medianBlock: medianBlock ?? Number.NaN,
      medianStep: medianStep ?? Number.NaN,
    };
  } else {
    const otsu = 'a global Otsu threshold is used';
    if (sec.has('threshold')) sec.warn('threshold', `ignored: the local threshold also needs median_block, so ${otsu}`);
    if (sec.has('median_block')) sec.warn('median_block', `ignored: the local threshold also needs threshold, so ${otsu}`);
    if (sec.has('median_step')) {
      sec.warn('median_step', `ignored: only the local threshold (threshold + median_block) uses it; ${otsu}`);
    }
    thresholding = { kind: 'otsu' };
  }
  return {
    normalization,
    thresholding,
    speckleKernel: sec.requireInt('speckle_kernel', { min: 1 }, why),
    peakFootprint: sec.requireInt('peak_footprint', { min: 0 }, why),
    minDistance: sec.requireInt('min_distance', { min: 0 }, why),
    dilation: sec.requireInt('dilation', { min: 0 }, why),
    contactFilter: sec.number('contact_filter', UNIT_INTERVAL) ?? null,
    sizeFilter: readSizeFilter(sec, filterMasksSize),
  };
}

export function readWgaCytosol(sec: Section, filterMasksSize: boolean): WgaCytosolConfig {
  sec.warnUnknownKeys(CYTOSOL_KEYS);
  const why = 'the WGA cytosol segmentation needs it';
  const normalization = readQuantiles(sec);
  const minClip = sec.requireNumber('min_clip', {}, why);
  const maxClip = sec.requireNumber('max_clip', {}, why);
  if (minClip >= maxClip) {
    const why = 'the potential map is divided by max_clip − min_clip';
    sec.problem('max_clip', `must be greater than min_clip (${minClip}): ${why}, got ${sec.got('max_clip')}`);
  }
  return {
    normalization,
    threshold: sec.number('threshold', UNIT_INTERVAL) ?? null,
    erosion: sec.requireInt('erosion', { min: 0 }, why),
    dilation: sec.requireInt('dilation', { min: 0 }, why),
    minClip,
    maxClip,
    contactFilter: sec.number('contact_filter', UNIT_INTERVAL) ?? null,
    sizeFilter: readSizeFilter(sec, filterMasksSize),
  };
}
