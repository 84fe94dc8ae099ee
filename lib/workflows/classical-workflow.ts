/** A classical workflow from its steps: the whole-image run, the streamed global pass and the window pass. */
import type { DapiConfig, WgaConfig } from '../config/types.js';
import { InternalError } from '../errors.js';
import type { ClassicalGlobals, ClassicalValues } from './classical.js';
import { classicalGlobalPass, classicalReach, type MarkerSweeps } from './classical-global.js';
import { GlobalValues } from './globals.js';
import type { WorkflowDescriptor } from './registry.js';
import {
  wholeImage,
  type MaskStacks,
  type SegmentationResult,
  type WindowPlacement,
  type Workflow,
  type WorkflowContext,
} from './types.js';

export type ClassicalSteps<C> = (
  ctx: WorkflowContext,
  stacks: MaskStacks,
  cfg: C,
  globals: ClassicalValues,
  placement: WindowPlacement,
) => Promise<SegmentationResult>;

export function classicalWorkflow<C extends WgaConfig | DapiConfig>(
  descriptor: WorkflowDescriptor,
  steps: ClassicalSteps<C>,
  sweeps: MarkerSweeps<C>,
): Workflow<C, ClassicalGlobals> {
  return {
    descriptor,
    run: (ctx, stacks, cfg) => steps(ctx, stacks, cfg, GlobalValues.computed(), wholeImage(stacks.nucleus![0])),
    reach: classicalReach,
    globalPass: (ctx, reader, cfg, options) => classicalGlobalPass(ctx, reader, cfg, sweeps, options),
    sweepTile: (ctx, name, stacks, cfg, globals, tile, imageWidth, imageHeight) => {
      const sweep = Object.hasOwn(sweeps, name) ? sweeps[name as keyof MarkerSweeps<C>] : undefined;
      if (!sweep) throw new InternalError(`${descriptor.name} has no global sweep "${name}"`);
      const placement = { window: tile.window, imageWidth, imageHeight };
      return sweep(ctx, stacks, cfg, GlobalValues.given(globals), placement, tile.core);
    },
    windowPass: (ctx, stacks, cfg, globals, placement) => steps(ctx, stacks, cfg, GlobalValues.given(globals), placement),
  };
}
