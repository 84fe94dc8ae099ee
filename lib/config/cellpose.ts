/** One Cellpose mask section (`nucleus_segmentation` / `cytosol_segmentation` of the Cellpose workflows). */
import { readSizeFilter, SIZE_FILTER_KEYS } from './common.js';
import type { NumberRange, Section } from './reader.js';
import type { CellposeMaskConfig, CellposeModelRef } from './types.js';

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
  ...SIZE_FILTER_KEYS,
];

/** Defaults of scPortrait's `_load_model` (Cellpose's own `eval` defaults). */
const DEFAULTS = { normalize: true, resample: true, flowThreshold: 0.4, cellprobThreshold: 0.0 } as const;

export function readCellposeMask(sec: Section, filterMasksSize: boolean): CellposeMaskConfig {
  sec.warnUnknownKeys(CELLPOSE_KEYS);
  return {
    model: readModel(sec),
    normalize: sec.bool('normalize') ?? DEFAULTS.normalize,
    diameter: optionalNumber(sec, 'diameter', { min: 0 }),
    resample: sec.bool('resample') ?? DEFAULTS.resample,
    rescale: optionalNumber(sec, 'rescale', { min: 0, minExclusive: true }),
    flowThreshold: sec.number('flow_threshold', { min: 0 }) ?? DEFAULTS.flowThreshold,
    cellprobThreshold: sec.number('cellprob_threshold') ?? DEFAULTS.cellprobThreshold,
    sizeFilter: readSizeFilter(sec, filterMasksSize),
    modelsDir: sec.string('models_dir') ?? null,
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
 * `diameter` / `rescale`: null (also YAML `None`, which the docs write and PyYAML reads as a string) means unset.
 * A diameter of 0 is allowed and means the same as unset for Cellpose (its code only uses diameter > 0).
 */
function optionalNumber(sec: Section, key: string, range: NumberRange): number | null {
  if (!sec.has(key) || sec.isNone(key)) return null;
  return sec.number(key, range) ?? null;
}
