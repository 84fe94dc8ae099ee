/** scPortrait `WGASegmentation`: nucleus + cytosol thresholding/watershed workflow (SPEC §2–§4). */
import type { WgaConfig, WgaCytosolConfig } from '../config/types.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import { applySizeFilter, preprocess, segmentNuclei, type NucleusResult } from './classical.js';
import { andNot, compareScalar, invert, roundHalfEven, type Mask } from './pixels.js';
import { StepTimer, type LabelImage, type SegmentationResult } from './types.js';

/** SPEC §4.1–4.5: background mask (true = not cytosol), nuclei forced to foreground, then shrink/grow. */
function backgroundMask(k: Kernels, channel: Image2D, nuclei: Mask, cfg: WgaCytosolConfig, timer: StepTimer): Mask {
  return timer.time('cytosol mask', () => {
    const image = cfg.normalization ? k.percentileNormalize(channel, cfg.normalization.lower, cfg.normalization.upper) : channel;
    const threshold = cfg.threshold ?? k.otsuThreshold(image);
    const background = andNot(compareScalar(image, threshold, true), nuclei);
    // Config names are scPortrait's: `erosion` grows the background (cells shrink), `dilation` then erodes it.
    return k.binaryErosion(k.binaryDilation(background, cfg.erosion, 0), cfg.dilation, 1);
  });
}

/** SPEC §4.7–4.9: travel time from the nucleus centres through the cytosol, marker watershed, filters. */
function segmentCytosol(
  k: Kernels,
  thresholdChannel: Image2D,
  potentialChannel: Image2D,
  nuclei: NucleusResult,
  cfg: WgaConfig,
  timer: StepTimer,
): LabelImage {
  const { width, height } = thresholdChannel;
  const n = width * height;
  const background = backgroundMask(k, thresholdChannel, nuclei.detected, cfg.cytosol, timer);
  const allowed = timer.time('cytosol mask', () => invert(background));
  const speed = timer.time('cytosol speed map', () => {
    const [q02, q98] = k.quantiles(potentialChannel, [0.02, 0.98]);
    return k.wgaSpeedMap(potentialChannel, nuclei.detected, [q02, q98], { min: cfg.cytosol.minClip, max: cfg.cytosol.maxClip });
  });

  // Every detected nucleus seeds the fast marching; only kept nuclei label the watershed markers.
  const seeds = new Uint8Array(n);
  const markers = new Uint32Array(n);
  const { y, x } = nuclei.centers;
  for (let i = 0; i < y.length; i++) {
    const at = roundHalfEven(y[i]) * width + roundHalfEven(x[i]);
    seeds[at] = 1;
    markers[at] = nuclei.labels.data[at];
  }
  if (y.length === 0) return { data: new Uint32Array(n), width, height };

  // Masked (background) and unreached pixels take the largest travel time (`.filled(max)`); every seed on
  // background leaves nothing reachable (the original's skfmm call would raise): no cytosols.
  const cells = timer.time('cytosol fast marching + watershed', () =>
    k.travelTimeWatershed({ data: seeds, width, height }, allowed, speed, { data: markers, width, height }, { travel: false })
      .labels,
  );
  return timer.time('cytosol filters', () => {
    let l = k.removeEdgeLabels(cells);
    l = applySizeFilter(k, l, cfg.cytosol.sizeFilter, cfg.filterMasksSize);
    return cfg.cytosol.contactFilter !== null ? k.contactFilter(l, cfg.cytosol.contactFilter) : l;
  });
}

/** `channels`: [nucleus, cytosol] after channel selection. */
export function runWgaSegmentation(k: Kernels, channels: Image2D[], cfg: WgaConfig): SegmentationResult {
  const timer = new StepTimer();
  const { input, current } = preprocess(k, channels.slice(0, 2), cfg.normalization, cfg.medianFilterSize, timer);
  const nuclei = segmentNuclei(k, current[0], cfg.nucleus, cfg.filterMasksSize, timer);
  const cytosol = segmentCytosol(k, input[1], current[1], nuclei, cfg, timer);
  // Nuclei whose cell did not survive the cytosol step are dropped; ids match by construction (SPEC §4.10).
  const nucleus = timer.time('match ids', () => {
    const kept = new Set(k.labelAreas(cytosol).ids);
    const dropped = k.labelAreas(nuclei.labels).ids.filter((id) => !kept.has(id));
    return dropped.length > 0 ? k.removeLabels(nuclei.labels, Uint32Array.from(dropped)) : nuclei.labels;
  });
  return {
    workflow: 'WGASegmentation',
    masks: [nucleus, cytosol],
    maskNames: ['nucleus', 'cytosol'],
    nucleus,
    cytosol,
    classes: Uint32Array.from(k.labelAreas(nucleus).ids),
    timings: timer.timings,
  };
}
