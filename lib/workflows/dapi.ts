/** scPortrait `DAPISegmentation`: nucleus-only thresholding workflow (SPEC §2–§3). */
import type { DapiConfig } from '../config/types.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import { preprocess, segmentNuclei } from './classical.js';
import { StepTimer, type SegmentationResult } from './types.js';

/**
 * `channels`: [nucleus] after channel selection. Returns one written mask (as the original's code does) and the
 * nucleus mask also as the cytosol mask in memory (as its documentation promises).
 */
export function runDapiSegmentation(k: Kernels, channels: Image2D[], cfg: DapiConfig): SegmentationResult {
  const timer = new StepTimer();
  const { current } = preprocess(k, channels.slice(0, 1), cfg.normalization, cfg.medianFilterSize, timer);
  const { labels } = segmentNuclei(k, current[0], cfg.nucleus, cfg.filterMasksSize, timer);
  return {
    workflow: 'DAPISegmentation',
    masks: [labels],
    maskNames: ['nucleus'],
    nucleus: labels,
    cytosol: labels,
    classes: Uint32Array.from(k.labelAreas(labels).ids),
    timings: timer.timings,
  };
}
