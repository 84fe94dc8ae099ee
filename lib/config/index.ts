/** scPortrait-format segmentation configs: loading, validation, typed results. */
export { loadConfig, validateConfig, workflowSections } from './load.js';
export type { ValidationResult } from './load.js';
export type * from './types.js';
