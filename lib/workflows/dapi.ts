/** scPortrait `DAPISegmentation`: nucleus-only thresholding workflow (SPEC §2–§3). */
import type { DapiConfig } from '../config/types.js';
import { nucleusAreas, nucleusMarkers, preprocess, segmentNuclei, type ClassicalValues } from './classical.js';
import { classicalWorkflow } from './classical-workflow.js';
import { WORKFLOWS } from './registry.js';
import {
  StepRunner,
  type MaskStacks,
  type SegmentationResult,
  type WindowPlacement,
  type WorkflowContext,
} from './types.js';

/**
 * Returns one written mask (as the original's code does) and the nucleus mask also as the cytosol mask in memory
 * (as its documentation promises).
 */
async function segmentDapi(
  ctx: WorkflowContext,
  stacks: MaskStacks,
  cfg: DapiConfig,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const { current } = await preprocess(run, [stacks.nucleus![0]], ['nucleus'], cfg.normalization, cfg.medianFilterSize, globals);
  const { labels } = await segmentNuclei(run, current[0], cfg.nucleus, cfg.filterMasksSize, globals, placement);
  return {
    workflow: 'DAPISegmentation',
    masks: [labels],
    maskNames: ['nucleus'],
    nucleus: labels,
    cytosol: labels,
    classes: Uint32Array.from(run.kernels.labelAreas(labels).ids),
    globals: globals.snapshot(),
    timings: run.timings,
  };
}

export const dapiWorkflow = classicalWorkflow<DapiConfig>(WORKFLOWS.DAPISegmentation, segmentDapi, {
  nucleus: nucleusMarkers,
  nucleusAreas,
});

/** DAPI on `[nucleus]` of a whole image (the lower-level entry of earlier versions). */
export function runDapiSegmentation(ctx: WorkflowContext, stacks: MaskStacks, cfg: DapiConfig): Promise<SegmentationResult> {
  return dapiWorkflow.run(ctx, stacks, cfg);
}
