import type { MaskName, WorkflowName } from '../config/types.js';
import type { Image2D } from '../image.js';

export type LabelImage = Image2D<Uint32Array>;

/**
 * What every workflow returns: the masks scPortrait writes (in `maskNames` order), the nucleus and cytosol masks
 * for in-memory use (one-mask workflows return the same array for both, as scPortrait documents), and the kept
 * cell ids. Cell ids are NOT re-indexed (gaps are normal) and the same id marks a cell in both masks.
 */
export interface SegmentationResult {
  workflow: WorkflowName;
  masks: LabelImage[];
  maskNames: MaskName[];
  nucleus: LabelImage;
  cytosol: LabelImage;
  /** Sorted unique non-zero ids of the final nucleus mask (scPortrait's classes.csv). */
  classes: Uint32Array;
  /** Wall seconds per named step. */
  timings: Record<string, number>;
}

/** Measures named steps of a workflow. */
export class StepTimer {
  readonly timings: Record<string, number> = {};
  time<T>(step: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.timings[step] = (this.timings[step] ?? 0) + (performance.now() - t0) / 1000;
    }
  }
}
