/**
 * Finds the workflow's keys in a config. Two layouts are accepted, like scPortrait's `ProcessingStep` does:
 * - a project config: top-level sections named after steps (`WGASegmentation:`, `HDF5CellExtraction:` …) beside
 *   project keys (`name`, `input_channels` …) → the section of the requested workflow;
 * - a file holding one workflow's keys at the top level.
 * A file is a project config when it has a section for the workflow, or any top-level mapping whose key looks like
 * a class name (starts with a capital letter). Unlike scPortrait, which silently falls back to the whole file, a
 * project config without the workflow's section is an error listing the sections it has.
 */
import type { Diagnostics } from './diagnostics.js';
import { isMapping, Section } from './reader.js';
import { sectionCandidates, type ResolvedWorkflow } from '../workflows/registry.js';

export interface SelectedSection {
  top: Section;
  /** The section name used, or null for a single-workflow file. */
  section: string | null;
}

export function selectSection(root: unknown, wf: ResolvedWorkflow, diag: Diagnostics): SelectedSection | null {
  if (!isMapping(root)) {
    const got = root === undefined || root === null ? 'an empty document' : diag.describe(root, '');
    const file = diag.source.file === undefined ? '' : `${diag.source.file}: `;
    diag.problem('', `${file}a config must be a mapping of keys, got ${got}`);
    return null;
  }
  const candidates = sectionCandidates(wf);
  const found = candidates.find((name) => Object.hasOwn(root, name));
  if (found !== undefined) {
    const values = root[found];
    if (!isMapping(values)) {
      diag.problem(found, `must be a mapping holding the ${wf.spec.name} parameters, got ${diag.describe(values, found)}`);
      return null;
    }
    if (found !== wf.alias) diag.warn(found, `no "${wf.alias}" section; using "${found}" for it`);
    return { top: new Section(diag, found, values), section: found };
  }
  const sections = Object.keys(root).filter((key) => /^[A-Z]/.test(key) && isMapping(root[key]));
  if (sections.length > 0) {
    const others = candidates.filter((c) => c !== wf.alias);
    const looked = `also looked for ${others.join(', ')}`;
    diag.problem(wf.alias, `no "${wf.alias}" section in the config (${looked}); it has the sections: ${sections.join(', ')}`);
    return null;
  }
  return { top: new Section(diag, '', root), section: null };
}
