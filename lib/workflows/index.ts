/** The workflow implementations, looked up by the names of the registry. */
import type { WorkflowAlias, WorkflowName } from '../config/types.js';
import { InputError } from '../errors.js';
import { cytosolCellposeWorkflow, cytosolOnlyCellposeWorkflow, dapiCellposeWorkflow } from './cellpose.js';
import {
  cytosolDownsamplingCellposeWorkflow,
  cytosolOnlyDownsamplingCellposeWorkflow,
  nuclearExpansionCellposeWorkflow,
} from './cellpose-variants.js';
import { dapiWorkflow } from './dapi.js';
import { resolveWorkflow, unavailableReason, WORKFLOW_NAMES } from './registry.js';
import type { Workflow } from './types.js';
import { wgaWorkflow } from './wga.js';

export type {
  LabelImage,
  MaskStacks,
  SegmentationResult,
  StackReader,
  WindowPlacement,
  Workflow,
  WorkflowContext,
} from './types.js';
export { runWgaSegmentation, wgaWorkflow } from './wga.js';
export { runDapiSegmentation, dapiWorkflow } from './dapi.js';
export { cytosolCellposeWorkflow, cytosolOnlyCellposeWorkflow, dapiCellposeWorkflow } from './cellpose.js';
export {
  cytosolDownsamplingCellposeWorkflow,
  cytosolOnlyDownsamplingCellposeWorkflow,
  downsamplePlan,
  downsampleStack,
  expandNuclei,
  nuclearExpansionCellposeWorkflow,
  upsampleMask,
} from './cellpose-variants.js';
export type { ClassicalGlobals } from './classical.js';
export * from './registry.js';

const IMPLEMENTATIONS: Partial<Record<WorkflowName, Workflow<never, unknown>>> = {
  WGASegmentation: wgaWorkflow as Workflow<never, unknown>,
  DAPISegmentation: dapiWorkflow as Workflow<never, unknown>,
  DAPISegmentationCellpose: dapiCellposeWorkflow as Workflow<never, unknown>,
  CytosolSegmentationCellpose: cytosolCellposeWorkflow as Workflow<never, unknown>,
  CytosolOnlySegmentationCellpose: cytosolOnlyCellposeWorkflow as Workflow<never, unknown>,
  NuclearExpansionSegmentationCellpose: nuclearExpansionCellposeWorkflow as Workflow<never, unknown>,
  CytosolSegmentationDownsamplingCellpose: cytosolDownsamplingCellposeWorkflow as Workflow<never, unknown>,
  CytosolOnlySegmentationDownsamplingCellpose: cytosolOnlyDownsamplingCellposeWorkflow as Workflow<never, unknown>,
};

/**
 * The implementation of a workflow name or alias; an InputError saying so for unknown names and for workflows or
 * segmentation classes that are not available yet.
 */
export function workflowFor(alias: WorkflowAlias | string): Workflow {
  const resolved = resolveWorkflow(alias);
  if (!resolved) throw new InputError(`unknown workflow "${alias}"; available: ${WORKFLOW_NAMES.join(', ')}`, 'ERR_SCSEG_WORKFLOW');
  const reason = unavailableReason(resolved);
  const impl = IMPLEMENTATIONS[resolved.spec.name];
  if (reason || !impl) throw new InputError(reason ?? `${alias} is not available yet`, 'ERR_SCSEG_UNAVAILABLE');
  return impl as unknown as Workflow;
}
