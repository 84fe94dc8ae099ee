/** What the three segmentation classes share in `create`: the config (loaded or given) and option checks. */
import os from 'node:os';
import { loadConfig } from '../config/index.js';
import { resolveModelFile } from '../cellpose/node-models.js';
import type { CellposeMaskConfig, ConfigSource, SegmentationConfig, WorkflowAlias } from '../config/types.js';
import { InputError } from '../errors.js';
import { workflowFor } from '../workflows/index.js';
import type { Workflow } from '../workflows/types.js';

function isLoadedConfig(c: ConfigSource | SegmentationConfig): c is SegmentationConfig {
  return typeof c === 'object' && c !== null && 'workflow' in c && 'channels' in c;
}

/**
 * The workflow and its config: an unavailable workflow fails before the config is read; an already loaded
 * config brings no warnings (they were given when it was loaded).
 */
/** Every Cellpose model file the config names exists (InputError ERR_SCSEG_MODEL naming the section otherwise). */
function checkCellposeModels(config: SegmentationConfig): void {
  for (const mask of ['nucleus', 'cytosol'] as const) {
    const section = (config as Partial<Record<typeof mask, unknown>>)[mask] as CellposeMaskConfig | undefined;
    if (!section || !('model' in section) || !('modelsDir' in section)) continue;
    try {
      resolveModelFile(section.model, section.modelsDir);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`${mask}_segmentation: ${err.message}`, err.code, { cause: err });
      throw err;
    }
  }
}

export function resolveRun(config: ConfigSource | SegmentationConfig, alias: WorkflowAlias): {
  config: SegmentationConfig;
  workflow: Workflow;
  warnings: string[];
} {
  workflowFor(alias);
  const loaded = isLoadedConfig(config) ? { config, warnings: [] as string[] } : loadConfig(config, alias);
  checkCellposeModels(loaded.config); // a missing model fails here, before any input is read or output written
  return { config: loaded.config, workflow: workflowFor(loaded.config.workflow), warnings: [...loaded.warnings] };
}

/** An optional count that must be a positive integer when given. */
export function positiveOption(value: number | undefined, what: string): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
    throw new InputError(`${what} must be a positive integer, got ${value}`, 'ERR_SCSEG_ARGUMENT');
  }
  return value;
}

/** Cores (at most 8, as the kernels' default budget): what worker counts and kernel threads are split from. */
export function cores(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}
