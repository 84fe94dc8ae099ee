/** One Cellpose mask section (`nucleus_segmentation` / `cytosol_segmentation` of the Cellpose workflows). */
import { readSizeFilter, SIZE_FILTER_KEYS } from './common.js';
import type { NumberRange, Section } from './reader.js';
import type { CellposeMaskConfig, CellposeModelRef, DownsamplingConfig, WorkflowName } from './types.js';

const CELLPOSE_KEYS = [
  'model',
  'model_path',
  'normalize',
  'diameter',
  'resample',
  'rescale',
  'flow_threshold',
  'cellprob_threshold',
  'models_dir',
  'fix_label_gap_quirk',
  ...SIZE_FILTER_KEYS,
];

/** Defaults of scPortrait's `_load_model` (Cellpose's own `eval` defaults). */
const DEFAULTS = { normalize: true, resample: true, flowThreshold: 0.4, cellprobThreshold: 0.0 } as const;

export function readCellposeMask(sec: Section, filterMasksSize: boolean): CellposeMaskConfig {
  sec.warnUnknownKeys(CELLPOSE_KEYS);
  return {
    model: readModel(sec),
    normalize: sec.bool('normalize') ?? DEFAULTS.normalize,
    diameter: readDiameter(sec),
    resample: sec.bool('resample') ?? DEFAULTS.resample,
    rescale: optionalNumber(sec, 'rescale', { min: 0, minExclusive: true }),
    flowThreshold: sec.number('flow_threshold', { min: 0 }) ?? DEFAULTS.flowThreshold,
    cellprobThreshold: sec.number('cellprob_threshold') ?? DEFAULTS.cellprobThreshold,
    sizeFilter: readSizeFilter(sec, filterMasksSize),
    modelsDir: sec.string('models_dir') ?? null,
    fixLabelGapQuirk: sec.bool('fix_label_gap_quirk') ?? false,
  };
}

/** `model` (built-in name) wins over `model_path` when both are given, as in scPortrait; one of them is required. */
function readModel(sec: Section): CellposeModelRef {
  const name = sec.string('model');
  const path = sec.string('model_path');
  if (sec.has('model')) {
    if (sec.has('model_path')) sec.warn('model_path', 'ignored: model is also given and takes precedence');
    return { kind: 'pretrained', name: name ?? '' };
  }
  if (sec.has('model_path')) return { kind: 'custom', path: path ?? '' };
  sec.missing('model', 'a Cellpose section needs a built-in model name ("model") or a custom model file ("model_path")');
  return { kind: 'pretrained', name: '' };
}

/**
 * `diameter`: a cell diameter in pixels > 0, or unset (None) for the size model's estimate / the model's default.
 * Cellpose itself reads 0 as unset; a 0 or negative value here is more likely a mistake, so it is an error that
 * says how to ask for the estimate.
 */
function readDiameter(sec: Section): number | null {
  const raw = sec.raw('diameter');
  if (typeof raw === 'number' && Number.isFinite(raw) && raw <= 0) {
    sec.problem('diameter', `must be a number > 0 (a cell diameter in pixels), got ${raw}; leave it out or write None to have it estimated`);
    return null;
  }
  return optionalNumber(sec, 'diameter', { min: 0, minExclusive: true });
}

/** `diameter` / `rescale`: null (also YAML `None`, which the docs write and PyYAML reads as a string) means unset. */
function optionalNumber(sec: Section, key: string, range: NumberRange): number | null {
  if (!sec.has(key) || sec.isNone(key)) return null;
  return sec.number(key, range) ?? null;
}

/** Top-level keys of the Cellpose variants, per workflow (warned about as unknown elsewhere). */
export const CELLPOSE_VARIANT_TOP_KEYS: Readonly<Partial<Record<WorkflowName, readonly string[]>>> = {
  NuclearExpansionSegmentationCellpose: ['kernel_size'],
  CytosolSegmentationDownsamplingCellpose: ['downsampling_factor', 'smoothing_kernel_size'],
  CytosolOnlySegmentationDownsamplingCellpose: ['downsampling_factor', 'smoothing_kernel_size'],
};

/** scPortrait's default `kernel_size` of NuclearExpansionSegmentationCellpose. */
const DEFAULT_KERNEL_SIZE = 20;

/** `kernel_size` at the workflow's top level (as upstream reads it), the radius of the expansion disk. */
export function readKernelSize(top: Section): number {
  return top.int('kernel_size', { min: 0 }) ?? DEFAULT_KERNEL_SIZE;
}

/**
 * `downsampling_factor` (required: upstream indexes the config with it) and `smoothing_kernel_size` (default: the
 * factor). Integers, as the padding, np.repeat and disk() need them.
 */
export function readDownsampling(top: Section): DownsamplingConfig {
  const factor = top.requireInt(
    'downsampling_factor',
    { min: 1 },
    'the image is binned downsampling_factor × downsampling_factor pixels before Cellpose runs',
  );
  const smoothing = top.int('smoothing_kernel_size', { min: 0 });
  if (smoothing !== undefined && Number.isInteger(factor) && smoothing > factor) {
    top.warn(
      'smoothing_kernel_size',
      `larger than downsampling_factor (${factor}): smoothing the upscaled masks may lose labels ` +
        '(smaller kernels are then tried, as scPortrait does); check the results',
    );
  }
  return { factor, smoothingKernelSize: smoothing ?? factor };
}
