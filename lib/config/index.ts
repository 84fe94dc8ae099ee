/** scPortrait-format segmentation configs: loading, validation, typed results. */
export { loadConfig, validateConfig } from './load.js';
export type { ValidationResult } from './load.js';
export { resolveWorkflow, WORKFLOW_NAMES, WORKFLOWS } from './workflows.js';
export type { ResolvedWorkflow, WorkflowSpec } from './workflows.js';
export type * from './types.js';
