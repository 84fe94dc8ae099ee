/** Entry points: `validateConfig` (all problems, never throws) and `loadConfig` (typed config or ConfigError). */
import { ConfigError } from '../errors.js';
import { CELLPOSE_VARIANT_TOP_KEYS, readCellposeMask, readDownsampling, readKernelSize } from './cellpose.js';
import { readChannels } from './channels.js';
import {
  CLASSICAL_TOP_KEYS,
  readClassicalNucleus,
  readMedianFilterSize,
  readQuantiles,
  readWgaCytosol,
} from './classical.js';
import { COMMON_KEYS, readCommon } from './common.js';
import { Diagnostics } from './diagnostics.js';
import { selectSection } from './layout.js';
import type { Section } from './reader.js';
import { readSource, type ParsedSource } from './source.js';
import { closestKey } from './suggest.js';
import type { ConfigFor, ConfigProblem, ConfigSource, MaskName, SegmentationConfig, WorkflowAlias } from './types.js';
import { allWorkflowAliases, maskSection, resolveWorkflow, type ResolvedWorkflow } from '../workflows/registry.js';

export interface ValidationResult<C> {
  /** The typed config, or null when there is at least one problem. */
  config: C | null;
  /** Every problem found, each with its key path. */
  problems: ConfigProblem[];
  /** Unknown or ignored keys (with did-you-mean suggestions), duplicate keys, tolerated deviations. */
  warnings: string[];
}

/** Checks a config for `workflow` and reports every problem at once (never throws for a bad config). */
export function validateConfig<W extends WorkflowAlias>(
  source: ConfigSource,
  workflow: W,
): ValidationResult<ConfigFor<W>> {
  const parsed = readSource(source);
  const diag = new Diagnostics(parsed);
  diag.warnings.push(...parsed.warnings);
  const wf = resolveWorkflow(String(workflow));
  if (!wf) {
    const suggestion = closestKey(String(workflow), allWorkflowAliases());
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
    diag.problem('', `unknown workflow "${String(workflow)}"${hint}; expected one of ${allWorkflowAliases().join(', ')}`);
  }
  if (parsed.problems.length > 0 || !wf) {
    return { config: null, problems: [...parsed.problems, ...diag.problems], warnings: diag.warnings };
  }
  const selected = selectSection(parsed.root, wf, diag);
  if (!selected) return { config: null, problems: diag.problems, warnings: diag.warnings };
  warnDuplicateKeys(parsed, selected.top.path, diag);
  const config = buildConfig(selected.top, wf, selected.section);
  const ok = diag.problems.length === 0 && config !== null;
  return { config: ok ? (config as ConfigFor<W>) : null, problems: diag.problems, warnings: diag.warnings };
}

/**
 * The workflow sections of a project config (top-level keys naming a workflow or an alias such as
 * `ShardedWGASegmentation`), in file order; empty for a single-workflow file or an unreadable source.
 */
export function workflowSections(source: ConfigSource): WorkflowAlias[] {
  const { root } = readSource(source);
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return [];
  return Object.keys(root).filter((key) => resolveWorkflow(key) !== null) as WorkflowAlias[];
}

/** Duplicate keys inside the workflow's section (those of other sections are none of our business). */
function warnDuplicateKeys(parsed: ParsedSource, sectionPath: string, diag: Diagnostics): void {
  for (const { path, lines } of parsed.duplicates) {
    if (sectionPath === '' || path === sectionPath || path.startsWith(`${sectionPath}.`)) {
      diag.warnings.push(
        `${path}: duplicate key (lines ${lines[0]} and ${lines[1]}); the last value is used, as scPortrait (PyYAML) does`,
      );
    }
  }
}

/**
 * Loads the config of `workflow` from a YAML file, YAML text or a parsed object, with every default applied.
 * `workflow` is a name such as 'WGASegmentation' or an alias prefixed with Sharded or Multithreaded (which sets
 * `segmentationClass`). Throws a ConfigError listing every problem (key path + message); warnings are returned,
 * not printed.
 */
export function loadConfig<W extends WorkflowAlias>(
  source: ConfigSource,
  workflow: W,
): { config: ConfigFor<W>; warnings: string[] } {
  const result = validateConfig(source, workflow);
  if (result.config === null) throw new ConfigError(result.problems);
  return { config: result.config, warnings: result.warnings };
}

const NO_CELLPOSE_NORMALISATION = 'the Cellpose workflows do not normalise the input (see normalize in the mask sections)';
const CELLPOSE_IGNORED_TOP_KEYS: Readonly<Record<string, string>> = {
  lower_quantile_normalization: NO_CELLPOSE_NORMALISATION,
  upper_quantile_normalization: NO_CELLPOSE_NORMALISATION,
  median_filter_size: 'the Cellpose workflows apply no median filter',
};

/**
 * Reads everything the workflow needs. Present mask sections are checked even when another one is missing, so
 * that every problem is reported; the result is null (or carries placeholders) whenever a problem was reported.
 */
function buildConfig(top: Section, wf: ResolvedWorkflow, section: string | null): SegmentationConfig | null {
  const common = readCommon(top, wf, section);
  const ch = readChannels(top, wf.spec, common.inputChannels);
  const masks = readMaskSections(top, wf);
  const classical = wf.spec.family === 'classical';
  const variantKeys = CELLPOSE_VARIANT_TOP_KEYS[wf.spec.name] ?? [];
  const knownTop = [...COMMON_KEYS, ...(classical ? CLASSICAL_TOP_KEYS : []), ...variantKeys];
  top.warnUnknownKeys(knownTop, classical ? {} : CELLPOSE_IGNORED_TOP_KEYS);
  const filter = common.filterMasksSize;
  const cellpose = (mask: MaskName) => masks[mask] && readCellposeMask(masks[mask], filter);

  switch (wf.spec.name) {
    case 'WGASegmentation': {
      const normalization = readQuantiles(top);
      const medianFilterSize = readMedianFilterSize(top, 'the WGA cytosol potential map reads the median-filtered image');
      const nucleus = masks.nucleus && readClassicalNucleus(masks.nucleus, filter);
      const cytosol = masks.cytosol && readWgaCytosol(masks.cytosol, filter);
      if (!nucleus || !cytosol || medianFilterSize === null) return null;
      const channels = { nucleus: ch.nucleus!, cytosol: ch.cytosol!, load: ch.load };
      return { ...common, workflow: 'WGASegmentation', normalization, medianFilterSize, channels, nucleus, cytosol };
    }
    case 'DAPISegmentation': {
      const normalization = readQuantiles(top);
      const medianFilterSize = readMedianFilterSize(top, null);
      const nucleus = masks.nucleus && readClassicalNucleus(masks.nucleus, filter);
      if (!nucleus) return null;
      const channels = { nucleus: ch.nucleus!, load: ch.load };
      return { ...common, workflow: 'DAPISegmentation', normalization, medianFilterSize, channels, nucleus };
    }
    case 'CytosolSegmentationCellpose': {
      const nucleus = cellpose('nucleus');
      const cytosol = cellpose('cytosol');
      if (!nucleus || !cytosol) return null;
      const channels = { nucleus: ch.nucleus!, cytosol: ch.cytosol!, load: ch.load };
      return { ...common, workflow: 'CytosolSegmentationCellpose', channels, nucleus, cytosol };
    }
    case 'DAPISegmentationCellpose': {
      const nucleus = cellpose('nucleus');
      if (!nucleus) return null;
      const channels = { nucleus: ch.nucleus!, load: ch.load };
      return { ...common, workflow: 'DAPISegmentationCellpose', channels, nucleus };
    }
    case 'CytosolOnlySegmentationCellpose': {
      const cytosol = cellpose('cytosol');
      if (!cytosol) return null;
      const channels = { cytosol: ch.cytosol!, load: ch.load };
      return { ...common, workflow: 'CytosolOnlySegmentationCellpose', channels, cytosol };
    }
    case 'NuclearExpansionSegmentationCellpose': {
      const kernelSize = readKernelSize(top);
      const nucleus = cellpose('nucleus');
      if (!nucleus) return null;
      const channels = { nucleus: ch.nucleus!, load: ch.load };
      return { ...common, workflow: 'NuclearExpansionSegmentationCellpose', channels, nucleus, kernelSize };
    }
    case 'CytosolSegmentationDownsamplingCellpose': {
      const downsampling = readDownsampling(top);
      const nucleus = cellpose('nucleus');
      const cytosol = cellpose('cytosol');
      if (!nucleus || !cytosol) return null;
      const channels = { nucleus: ch.nucleus!, cytosol: ch.cytosol!, load: ch.load };
      return { ...common, workflow: 'CytosolSegmentationDownsamplingCellpose', channels, nucleus, cytosol, downsampling };
    }
    case 'CytosolOnlySegmentationDownsamplingCellpose': {
      const downsampling = readDownsampling(top);
      const cytosol = cellpose('cytosol');
      if (!cytosol) return null;
      const channels = { cytosol: ch.cytosol!, load: ch.load };
      return { ...common, workflow: 'CytosolOnlySegmentationDownsamplingCellpose', channels, cytosol, downsampling };
    }
  }
}

/** The `<mask>_segmentation` sections the workflow needs that are present and mappings; the others are reported. */
function readMaskSections(top: Section, wf: ResolvedWorkflow): Partial<Record<MaskName, Section>> {
  const out: Partial<Record<MaskName, Section>> = {};
  for (const mask of ['nucleus', 'cytosol'] as const) {
    const key = maskSection(mask);
    if (!wf.spec.masks.includes(mask)) {
      if (top.has(key)) top.warn(key, `ignored: ${wf.spec.name} has no ${mask} mask`);
    } else if (!top.has(key)) {
      top.missing(key, `${wf.spec.name} segments the ${mask} with these parameters`);
    } else {
      const sec = top.section(key);
      if (sec) out[mask] = sec;
    }
  }
  return out;
}
