/** scPortrait `WGASegmentation`: nucleus + cytosol thresholding/watershed workflow (SPEC §2–§4). */
import type { WgaConfig, WgaCytosolConfig } from '../config/types.js';
import type { Image2D } from '../image.js';
import type { CellArea, TileSweep } from './classical-global.js';
import { coreCellAreas, markerEntries, windowMarkerRanks, type MarkerEntry } from './marker-order.js';
import { removeImageEdgeLabels } from './window.js';
import {
  filterLabels,
  nucleusAreas,
  nucleusMarkers,
  preprocess,
  quantilePair,
  segmentNuclei,
  type ClassicalValues,
  type NucleusResult,
} from './classical.js';
import { classicalWorkflow } from './classical-workflow.js';
import { andNot, compareScalar, invert, roundHalfEven, type Mask } from './pixels.js';
import { WORKFLOWS } from './registry.js';
import {
  StepRunner,
  type LabelImage,
  type MaskStacks,
  type SegmentationResult,
  type WindowPlacement,
  type WorkflowContext,
} from './types.js';

/** SPEC §4.1–4.5: background mask (true = not cytosol), nuclei forced to foreground, then shrink/grow. */
function backgroundMask(run: StepRunner, channel: Image2D, nuclei: Mask, cfg: WgaCytosolConfig, globals: ClassicalValues): Promise<Mask> {
  const k = run.kernels;
  return run.step('cytosol mask', () => {
    const norm = cfg.normalization;
    const image = norm
      ? k.normalizeRange(channel, ...globals.get('cytosolNormalization', () => quantilePair(k, channel, norm)))
      : channel;
    const threshold = globals.get('cytosolThreshold', () => cfg.threshold ?? k.otsuThreshold(image));
    const background = andNot(compareScalar(image, threshold, true), nuclei);
    // Config names are scPortrait's: `erosion` grows the background (cells shrink), `dilation` then erodes it.
    return k.binaryErosion(k.binaryDilation(background, cfg.erosion, 0), cfg.dilation, 1);
  });
}

/** What the cytosol flood runs on: seeds, markers, the allowed mask and the speed map (SPEC §4.1–4.7). */
interface CytosolFlood {
  seeds: Mask;
  markers: LabelImage;
  allowed: Mask;
  speed: Image2D<Float64Array>;
  /** Number of detected nuclei (seeds). */
  count: number;
}

async function cytosolFlood(
  run: StepRunner,
  thresholdChannel: Image2D,
  potentialChannel: Image2D,
  nuclei: NucleusResult,
  cfg: WgaConfig,
  globals: ClassicalValues,
): Promise<CytosolFlood> {
  const k = run.kernels;
  const { width, height } = thresholdChannel;
  const n = width * height;
  const background = await backgroundMask(run, thresholdChannel, nuclei.detected, cfg.cytosol, globals);
  const allowed = await run.step('cytosol mask', () => invert(background));
  const speed = await run.step('cytosol speed map', () => {
    const q = globals.get('speedQuantiles', () => quantilePair(k, potentialChannel, { lower: 0.02, upper: 0.98 }));
    return k.wgaSpeedMap(potentialChannel, nuclei.detected, q, { min: cfg.cytosol.minClip, max: cfg.cytosol.maxClip });
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
  const image = <T extends Uint8Array | Uint32Array>(data: T) => ({ data, width, height });
  return { seeds: image(seeds), markers: image(markers), allowed, speed, count: y.length };
}

/**
 * SPEC §4.7–4.8: travel time from the nucleus centres through the cytosol and the marker watershed (a window in the
 * whole image's marker order).
 */
async function floodCytosol(run: StepRunner, f: CytosolFlood, globals: ClassicalValues, placement: WindowPlacement): Promise<LabelImage> {
  if (f.count === 0) return { data: new Uint32Array(f.markers.data.length), width: f.markers.width, height: f.markers.height };
  const order = globals.optional('cytosolMarkerOrder');
  const markerRanks = order && windowMarkerRanks(f.markers, placement, order);
  // Masked (background) and unreached pixels take the largest travel time (`.filled(max)`); every seed on
  // background leaves nothing reachable (the original's skfmm call would raise): no cytosols.
  return run.step('cytosol fast marching + watershed', () =>
    run.kernels.travelTimeWatershed(f.seeds, f.allowed, f.speed, f.markers, { travel: false, markerRanks }).labels,
  );
}

/** SPEC §2–§4.6: pre-processing, the nuclei, and what the cytosol flood runs on. */
async function nucleiAndCytosolFlood(
  run: StepRunner,
  stacks: MaskStacks,
  cfg: WgaConfig,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<{ nuclei: NucleusResult; flood: CytosolFlood }> {
  const channels = [stacks.nucleus![0], stacks.cytosol![0]];
  const { input, current } = await preprocess(run, channels, ['nucleus', 'cytosol'], cfg.normalization, cfg.medianFilterSize, globals);
  const nuclei = await segmentNuclei(run, current[0], cfg.nucleus, cfg.filterMasksSize, globals, placement);
  return { nuclei, flood: await cytosolFlood(run, input[1], current[1], nuclei, cfg, globals) };
}

/** The 4-neighbours of the non-zero pixels of `markers` (what markerEntries reads around each marker). */
function markerNeighbours(markers: LabelImage): Mask {
  const { data, width, height } = markers;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) continue;
    const x = i % width;
    if (i >= width) out[i - width] = 1;
    if (i + width < data.length) out[i + width] = 1;
    if (x > 0) out[i - 1] = 1;
    if (x + 1 < width) out[i + 1] = 1;
  }
  return { data: out, width, height };
}

/** The cytosol markers inside `core` with their neighbourhood on the travel-time surface (marker order). */
const cytosolMarkers: TileSweep<WgaConfig, MarkerEntry> = async (ctx, stacks, cfg, globals, placement, core) => {
  const run = new StepRunner(ctx);
  const { flood: f } = await nucleiAndCytosolFlood(run, stacks, cfg, globals, placement);
  if (f.count === 0) return [];
  // Only the markers' neighbours are read, and they freeze first: the march stops there.
  const targets = await run.step('cytosol marker neighbours', () => markerNeighbours(f.markers));
  const travel = await run.step('cytosol fast marching', () => run.kernels.travelTime(f.seeds, f.allowed, f.speed, { targets }).data);
  return markerEntries(f.markers, f.allowed, (i) => travel[i], placement, core);
};

/** Areas of the cytosols centred in `core` after edge removal, under their whole-image labels (size thresholds). */
const cytosolAreas: TileSweep<WgaConfig, CellArea> = async (ctx, stacks, cfg, globals, placement, core) => {
  const run = new StepRunner(ctx);
  const { nuclei, flood } = await nucleiAndCytosolFlood(run, stacks, cfg, globals, placement);
  const kept = removeImageEdgeLabels(run.kernels, await floodCytosol(run, flood, globals, placement), placement);
  return coreCellAreas(kept, nuclei.markers, globals.optional('nucleusMarkerOrder')!, placement, core);
};

/** The WGA steps on `[nucleus, cytosol]` planes covering `placement.window`. */
async function segmentWga(
  ctx: WorkflowContext,
  stacks: MaskStacks,
  cfg: WgaConfig,
  globals: ClassicalValues,
  placement: WindowPlacement,
): Promise<SegmentationResult> {
  const run = new StepRunner(ctx);
  const k = run.kernels;
  const { nuclei, flood } = await nucleiAndCytosolFlood(run, stacks, cfg, globals, placement);
  const cells = await floodCytosol(run, flood, globals, placement);
  const key = 'cytosolSizeThresholds';
  const cytosol = await filterLabels(run, 'cytosol filters', cells, cfg.cytosol, cfg.filterMasksSize, globals, key, placement);
  // Nuclei whose cell did not survive the cytosol step are dropped; ids match by construction (SPEC §4.10).
  const nucleus = await run.step('match ids', () => {
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
    globals: globals.snapshot(),
    timings: run.timings,
  };
}

export const wgaWorkflow = classicalWorkflow<WgaConfig>(WORKFLOWS.WGASegmentation, segmentWga, {
  nucleus: nucleusMarkers,
  nucleusAreas,
  cytosol: cytosolMarkers,
  cytosolAreas,
});

/** WGA on `[nucleus, cytosol]` planes of a whole image (the lower-level entry of earlier versions). */
export function runWgaSegmentation(ctx: WorkflowContext, stacks: MaskStacks, cfg: WgaConfig): Promise<SegmentationResult> {
  return wgaWorkflow.run(ctx, stacks, cfg);
}
