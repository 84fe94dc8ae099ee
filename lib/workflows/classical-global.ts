/**
 * The global pass of the classical workflows: every whole-image value (ClassicalGlobals), streamed over bands
 * of rows. Each band is read with `median_filter_size` rows of margin, so its median-filtered core is exact; the
 * values are then derived from histograms of the raw and median-filtered channels, through the same monotone
 * scalings the workflow applies (a quantile or Otsu threshold of f(x) is read off the histogram of x mapped by f).
 */
import type { DapiConfig, MaskName, QuantileRange, SizeFilter, WgaConfig } from '../config/types.js';
import type { ClassicalGlobals, ClassicalValues } from './classical.js';
import { GlobalValues } from './globals.js';
import {
  HistogramBuilder,
  histogramOtsu,
  histogramQuantile,
  mapHistogram,
  unitScaling,
  type ValueHistogram,
} from './histogram.js';
import { replayMarkerOrder, type MarkerEntry } from './marker-order.js';
import { fittedSizeThresholds } from './size-filter.js';
import type { GlobalPassOptions, MaskStacks, StackReader, WindowPlacement, WorkflowContext } from './types.js';
import type { PixelWindow } from '../image.js';
import { sweepTiles } from './window.js';

/** Rows per band: bounded memory whatever the image height. */
const BAND_ROWS = 512;

type Range = [number, number];

function quantiles(h: ValueHistogram, range: QuantileRange): Range {
  return [histogramQuantile(h, range.lower), histogramQuantile(h, range.upper)];
}

/** The histogram of percentile_normalization(x) (quantiles of x, then the unit scaling). */
function normalized(h: ValueHistogram, range: QuantileRange): { bounds: Range; histogram: ValueHistogram } {
  const bounds = quantiles(h, range);
  return { bounds, histogram: mapHistogram(h, unitScaling(...bounds)) };
}

/** What one window's core contributes to a whole-image value (markers with their neighbourhoods, cell areas). */
export type TileSweep<C, T> = (
  ctx: WorkflowContext,
  stacks: MaskStacks,
  cfg: C,
  globals: ClassicalValues,
  placement: WindowPlacement,
  core: PixelWindow,
) => Promise<T[]>;

export type CellArea = { label: number; area: number };

export interface MarkerSweeps<C> {
  nucleus: TileSweep<C, MarkerEntry>;
  /** Areas of the nuclei after edge removal (for automatic size thresholds). */
  nucleusAreas: TileSweep<C, CellArea>;
  cytosol?: TileSweep<C, MarkerEntry>;
  cytosolAreas?: TileSweep<C, CellArea>;
}

/**
 * The global pass: the streamed statistics, then what needs labels, one sweep over tiles each, in dependency
 * order: the nucleus marker order; automatic nucleus size thresholds (areas of the nuclei flooded in that order);
 * (WGA) the cytosol marker order (on the kept nuclei) and automatic cytosol size thresholds.
 */
export async function classicalGlobalPass<C extends WgaConfig | DapiConfig>(
  ctx: WorkflowContext,
  reader: StackReader,
  cfg: C,
  sweeps: MarkerSweeps<C>,
  options: GlobalPassOptions = {},
): Promise<ClassicalGlobals> {
  const globals = await classicalStatistics(ctx, reader, cfg);
  const tiles = tileGrid(reader, cfg, options);
  const sweep = async <T>(step: string, name: keyof MarkerSweeps<C>): Promise<T[]> => {
    if (options.mapTiles) {
      ctx.signal?.throwIfAborted();
      ctx.progress?.(step);
      return (await options.mapTiles(name, globals, tiles)).flat() as T[];
    }
    const fn = sweeps[name] as TileSweep<C, T>;
    const out: T[] = [];
    for (const { core, window } of tiles) {
      ctx.signal?.throwIfAborted();
      ctx.progress?.(step);
      const stacks = await reader.read(window);
      const placement = { window, imageWidth: reader.width, imageHeight: reader.height };
      out.push(...(await fn(ctx, stacks, cfg, GlobalValues.given(globals), placement, core)));
    }
    return out;
  };
  const automatic = (f: SizeFilter | null): f is Extract<SizeFilter, { kind: 'automatic' }> =>
    cfg.filterMasksSize && f?.kind === 'automatic';
  // Fitted as on the whole image: the areas in label order.
  const thresholds = (areas: CellArea[], ci: number): [number, number] => {
    const sorted = Float64Array.from([...areas].sort((a, b) => a.label - b.label), (a) => a.area);
    return fittedSizeThresholds(sorted, reader.width * reader.height, ci);
  };

  globals.nucleusMarkerOrder = replayMarkerOrder(await sweep<MarkerEntry>('global nucleus marker order', 'nucleus'));
  const nucleusFilter = cfg.nucleus.sizeFilter;
  if (automatic(nucleusFilter)) {
    const areas = await sweep<CellArea>('global nucleus size thresholds', 'nucleusAreas');
    globals.nucleusSizeThresholds = thresholds(areas, nucleusFilter.confidenceInterval);
  }
  if (sweeps.cytosol) {
    globals.cytosolMarkerOrder = replayMarkerOrder(await sweep<MarkerEntry>('global cytosol marker order', 'cytosol'));
    const cytosolFilter = (cfg as WgaConfig).cytosol.sizeFilter;
    if (automatic(cytosolFilter) && sweeps.cytosolAreas) {
      const areas = await sweep<CellArea>('global cytosol size thresholds', 'cytosolAreas');
      globals.cytosolSizeThresholds = thresholds(areas, cytosolFilter.confidenceInterval);
    }
  }
  return globals;
}

/** Cores of `tileSize` pixels on the local threshold's subsampling grid, each with its window of ± `margin`. */
function tileGrid(reader: StackReader, cfg: WgaConfig | DapiConfig, options: GlobalPassOptions) {
  const t = cfg.nucleus.thresholding;
  const step = t.kind === 'local' ? t.medianStep : 1;
  const align = (v: number) => Math.ceil(v / step) * step;
  const tile = align(Math.max(1, options.tileSize ?? 1024));
  const margin = align(options.margin ?? classicalReach(cfg));
  return sweepTiles(reader.width, reader.height, tile, margin);
}

/**
 * How far a marker's neighbourhood depends on the image: the filters' reach (median, the local threshold's block
 * in full-resolution pixels, speckle removal, dilation, peak footprint and spacing, the cytosol's morphology) plus
 * room for a whole cell around it.
 */
export function classicalReach(cfg: WgaConfig | DapiConfig): number {
  const n = cfg.nucleus;
  const t = n.thresholding;
  let reach = (cfg.medianFilterSize ?? 0) + 2 * n.speckleKernel + n.dilation + n.peakFootprint + n.minDistance;
  if (t.kind === 'local') reach += (Math.floor(t.medianBlock / 2) + 1) * t.medianStep;
  if (cfg.workflow === 'WGASegmentation') reach += cfg.cytosol.erosion + cfg.cytosol.dilation;
  return Math.max(128, reach + 64);
}

/** Every whole-image statistic (quantiles, thresholds), streamed over bands of rows. */
async function classicalStatistics(
  ctx: WorkflowContext,
  reader: StackReader,
  cfg: WgaConfig | DapiConfig,
): Promise<ClassicalGlobals> {
  const wga = cfg.workflow === 'WGASegmentation';
  const masks: MaskName[] = wga ? ['nucleus', 'cytosol'] : ['nucleus'];
  const k = ctx.kernels;
  const r = cfg.medianFilterSize;
  const raw = new Map(masks.map((m) => [m, new HistogramBuilder()]));
  const med = new Map(masks.map((m) => [m, new HistogramBuilder()]));
  for (let y0 = 0; y0 < reader.height; y0 += BAND_ROWS) {
    ctx.signal?.throwIfAborted();
    ctx.progress?.('global statistics');
    const y1 = Math.min(reader.height, y0 + BAND_ROWS);
    const top = Math.max(0, y0 - (r ?? 0));
    const bottom = Math.min(reader.height, y1 + (r ?? 0));
    const stacks = await reader.read({ x: 0, y: top, width: reader.width, height: bottom - top });
    for (const m of masks) {
      const plane = stacks[m]![0];
      raw.get(m)!.addRows(plane, y0 - top, y1 - top);
      if (r !== null) med.get(m)!.addRows(k.medianFilter(plane, r), y0 - top, y1 - top);
    }
  }

  const globals: ClassicalGlobals = {};
  const norm = cfg.normalization;
  // SPEC §2: `current` is the normalised then median-filtered channel (the median commutes with the scaling);
  // `input` is what the cytosol threshold reads: raw when normalised, else the median-filtered channel.
  const stack = (m: MaskName) => {
    const rawHist = raw.get(m)!.finish();
    const medHist = r !== null ? med.get(m)!.finish() : rawHist;
    if (!norm) return { input: medHist, current: medHist };
    const bounds = quantiles(rawHist, norm);
    globals[m === 'nucleus' ? 'nucleusInput' : 'cytosolInput'] = bounds;
    return { input: rawHist, current: mapHistogram(medHist, unitScaling(...bounds)) };
  };

  let nucleus = stack('nucleus').current;
  if (cfg.nucleus.normalization) {
    const n = normalized(nucleus, cfg.nucleus.normalization);
    globals.nucleusNormalization = n.bounds;
    nucleus = n.histogram;
  }
  if (cfg.nucleus.thresholding.kind === 'otsu') globals.nucleusOtsu = histogramOtsu(nucleus);

  if (wga) {
    const c = (cfg as WgaConfig).cytosol;
    const cytosol = stack('cytosol');
    let image = cytosol.input;
    if (c.normalization) {
      const n = normalized(image, c.normalization);
      globals.cytosolNormalization = n.bounds;
      image = n.histogram;
    }
    globals.cytosolThreshold = c.threshold ?? histogramOtsu(image);
    globals.speedQuantiles = quantiles(cytosol.current, { lower: 0.02, upper: 0.98 });
  }
  return globals;
}
