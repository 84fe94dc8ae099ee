/**
 * scPortrait's Cellpose workflows (pipeline/segmentation/workflows/_cellpose.py), on our Cellpose port
 * (lib/cellpose/eval.ts) and an ONNX model per mask section:
 * - DAPISegmentationCellpose: the nucleus model on [nucleus] with channels [1, 0];
 * - CytosolSegmentationCellpose: both models on [nucleus, cytosol] — nucleus [1, 0], cytosol [2, 1] (the cytosol
 *   segmented, the nucleus as cue) — then both size-filtered with the NUCLEUS thresholds (as upstream) and matched;
 * - CytosolOnlySegmentationCellpose: the cytosol model on its 1 or 2 selected channels ([1, 0] or [2, 1]).
 * Every mask loses the labels touching the image's edges. With `normalize: false` the whole input is first scaled
 * to [0, 1] by its minimum and maximum (for the two-model workflow, the nucleus section's setting decides, as
 * upstream).
 *
 * Sharded: the global pass streams what Cellpose takes from the whole image — the min–max range, each model
 * input's percentiles, and (automatic size filter) every cell's area from a sweep of windows; each window then runs
 * eval on the whole image's resize, tile grid and size limit (`cellposeEvalWindow`), so a cell well inside a
 * window gets the pixels of the whole-image run. Two limits: the scale must be fixed (a built-in model's size-model
 * estimate needs the whole image: set `diameter`), and small masks are removed as `fix_label_gap_quirk: true` does
 * (the quirk hits masks by their whole-image label numbers, which no window knows).
 * The nuclear-expansion and downsampling variants reuse these steps in memory (cellpose-variants.ts).
 */
import { cellposeEval, cellposeEvalWindow, cellposeNormalization, fixedScale } from '../cellpose/eval.js';
import { cellposeModels } from '../cellpose/model.js';
import {
  cellposeInput,
  minMaxRange,
  minMaxScale,
  scaleMinMax,
  TILE_SIZE,
  type CellposeChannels,
  type ChannelNormalization,
  type MinMaxRange,
} from '../cellpose/transforms.js';
import type {
  CellposeMaskConfig,
  CytosolCellposeConfig,
  CytosolOnlyCellposeConfig,
  DapiCellposeConfig,
  SegmentationConfig,
  SizeFilter,
  WorkflowName,
} from '../config/types.js';
import { InputError } from '../errors.js';
import type { Image2D, PixelWindow } from '../image.js';
import { automaticSizeThresholds, sizeFilter } from './size-filter.js';
import { WORKFLOWS, type WorkflowDescriptor } from './registry.js';
import {
  StepRunner,
  type GlobalPassOptions,
  type GlobalTile,
  type LabelImage,
  type MaskStacks,
  type SegmentationResult,
  type StackReader,
  type WindowPlacement,
  type Workflow,
  type WorkflowContext,
} from './types.js';
import { cellsCentredIn, removeImageEdgeLabels, sweepTiles } from './window.js';

/** A workflow's config as the shared steps read it (the variants reuse them under their own names). */
export type CellposeSettings<C extends SegmentationConfig> = Omit<C, 'workflow'> & { workflow: WorkflowName };

type CellposeMask = 'nucleus' | 'cytosol';

/** One model run of a workflow: the mask it makes, its section and its Cellpose channels on the workflow's planes. */
interface ModelRun {
  mask: CellposeMask;
  section: CellposeMaskConfig;
  channels: CellposeChannels;
}

/** What a Cellpose workflow runs, as data: the planes, their scaling, the model runs, the size filters, matching. */
interface CellposePlan {
  workflow: WorkflowName;
  /** The planes every model run reads (after channel selection). */
  planes(stacks: MaskStacks): Image2D[];
  /** scPortrait's min–max scaling first (a section with normalize: false; which section decides is per workflow). */
  minMax: boolean;
  runs: ModelRun[];
  /** The size filter of each mask (null: none), when filter_masks_size. */
  filters: Partial<Record<CellposeMask, SizeFilter | null>>;
  match: boolean;
  matchThreshold: number;
}

function plane(stacks: MaskStacks, mask: CellposeMask, workflow: string): Image2D[] {
  const s = stacks[mask];
  if (!s || s.length === 0) throw new InputError(`${workflow}: no ${mask} channel was selected`, 'ERR_SCSEG_SHAPE');
  return s;
}

function dapiPlan(cfg: CellposeSettings<DapiCellposeConfig>): CellposePlan {
  return {
    workflow: cfg.workflow,
    planes: (stacks) => plane(stacks, 'nucleus', cfg.workflow),
    minMax: !cfg.nucleus.normalize,
    runs: [{ mask: 'nucleus', section: cfg.nucleus, channels: [1, 0] }],
    filters: cfg.filterMasksSize ? { nucleus: cfg.nucleus.sizeFilter } : {},
    match: false,
    matchThreshold: 0,
  };
}

function cytosolPlan(cfg: CellposeSettings<CytosolCellposeConfig>): CellposePlan {
  return {
    workflow: cfg.workflow,
    planes: (stacks) => [...plane(stacks, 'nucleus', cfg.workflow), ...plane(stacks, 'cytosol', cfg.workflow)],
    // upstream min–max scales the input once, before the nucleus model, when the NUCLEUS section says normalize:
    // false; the cytosol model gets the same input whatever its own section says
    minMax: !cfg.nucleus.normalize,
    runs: [
      { mask: 'nucleus', section: cfg.nucleus, channels: [1, 0] },
      { mask: 'cytosol', section: cfg.cytosol, channels: [2, 1] },
    ],
    // upstream filters the cytosol mask with the nucleus section's thresholds too
    filters: cfg.filterMasksSize ? { nucleus: cfg.nucleus.sizeFilter, cytosol: cfg.nucleus.sizeFilter } : {},
    match: cfg.matchMasks,
    matchThreshold: cfg.filteringThresholdMaskMatching,
  };
}

function cytosolOnlyPlan(cfg: CellposeSettings<CytosolOnlyCellposeConfig>, channelCount: number): CellposePlan {
  if (channelCount > 2) {
    throw new InputError(`${cfg.workflow} requires 1 or 2 selected channels, got ${channelCount}`, 'ERR_SCSEG_SHAPE');
  }
  return {
    workflow: cfg.workflow,
    planes: (stacks) => plane(stacks, 'cytosol', cfg.workflow),
    minMax: !cfg.cytosol.normalize,
    runs: [{ mask: 'cytosol', section: cfg.cytosol, channels: channelCount === 1 ? [1, 0] : [2, 1] }],
    // upstream looks for nucleus thresholds here and fails; the cytosol section's own filter is what it means
    filters: cfg.filterMasksSize ? { cytosol: cfg.cytosol.sizeFilter } : {},
    match: false,
    matchThreshold: 0,
  };
}

/**
 * Where the model runs: the whole image (`eval` as Cellpose runs it), or a window of a larger image given the
 * values the global pass took from the whole of it.
 */
interface CellposeScope {
  scale(planes: Image2D[]): Image2D[];
  /** The run's labels, edge labels removed. */
  segment(run: StepRunner, model: ModelRun, planes: Image2D[]): Promise<LabelImage>;
  filter(run: StepRunner, mask: CellposeMask, labels: LabelImage, filter: SizeFilter): LabelImage;
}

/** The model of a mask section, loaded once per realm and thread count. */
function loadModel(run: StepRunner, mask: CellposeMask, section: CellposeMaskConfig) {
  const k = run.kernels;
  return run.step(`${mask}: load model`, () => cellposeModels().load(section.model, { threads: k.threads, modelsDir: section.modelsDir }));
}

function evalOptions(run: StepRunner, mask: CellposeMask, section: CellposeMaskConfig, channels: CellposeChannels, fixLabelGapQuirk: boolean) {
  return {
    channels,
    normalize: section.normalize,
    diameter: section.diameter,
    rescale: section.rescale,
    resample: section.resample,
    flowThreshold: section.flowThreshold,
    cellprobThreshold: section.cellprobThreshold,
    fixLabelGapQuirk,
    signal: run.ctx.signal,
    step: async (name: string) => {
      run.ctx.signal?.throwIfAborted();
      run.ctx.progress?.(`${mask}: ${name}`);
    },
  };
}

/** Times a Cellpose eval as one step (its own sub-steps report progress). */
async function timed<T>(run: StepRunner, name: string, fn: () => Promise<T>): Promise<T> {
  run.ctx.progress?.(name);
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    run.timings[name] = (run.timings[name] ?? 0) + (performance.now() - t0) / 1000;
  }
}

const wholeImage: CellposeScope = {
  scale: (planes) => minMaxScale(planes),
  async segment(run, { mask, section, channels }, planes) {
    const net = await loadModel(run, mask, section);
    const opts = evalOptions(run, mask, section, channels, section.fixLabelGapQuirk);
    const result = await timed(run, `${mask}: Cellpose`, () => cellposeEval(run.kernels, planes, net, opts));
    return run.step(`${mask}: remove edge labels`, () => run.kernels.removeEdgeLabels(result.masks));
  },
  // sizeFilter fits automatic thresholds to these labels' areas
  filter: (run, _mask, labels, f) =>
    sizeFilter(run.kernels, labels, f.kind === 'thresholds' ? { min: f.min, max: f.max } : { confidenceInterval: f.confidenceInterval }),
};

/** What a sharded run's global pass takes from the whole image. */
export interface CellposeGlobals {
  /** The planes' range when the workflow min–max scales them (normalize: false), else null. */
  minMax: MinMaxRange | null;
  /** Each model run's input normalisation (sections with normalize: true). */
  normalization: Partial<Record<CellposeMask, ChannelNormalization[]>>;
  /** Automatic size thresholds fitted to all cells' areas (null: too few cells, nothing removed). */
  sizeThresholds: Partial<Record<CellposeMask, [number, number] | null>>;
}

function windowScope(globals: CellposeGlobals, placement: WindowPlacement): CellposeScope {
  return {
    scale: (planes) => scaleMinMax(planes, globals.minMax!),
    async segment(run, { mask, section, channels }, planes) {
      const net = await loadModel(run, mask, section);
      const opts = evalOptions(run, mask, section, channels, true);
      const norm = section.normalize ? globals.normalization[mask]! : null;
      const labels = await timed(run, `${mask}: Cellpose`, () => cellposeEvalWindow(run.kernels, planes, net, opts, norm, placement));
      return run.step(`${mask}: remove edge labels`, () => removeImageEdgeLabels(run.kernels, labels, placement));
    },
    filter(run, mask, labels, f) {
      const range = f.kind === 'thresholds' ? [f.min, f.max] : globals.sizeThresholds[mask];
      if (range === undefined) throw new InputError(`the global pass has no size thresholds for the ${mask} mask`, 'ERR_SCSEG_INTERNAL');
      return range === null ? labels : sizeFilter(run.kernels, labels, { min: range[0], max: range[1] });
    },
  };
}

type CellposeMasks = Partial<Record<CellposeMask, LabelImage>>;

/** The workflow's steps in `scope`: scaling, each model run, size filters, matching. */
async function segmentCellpose(
  run: StepRunner,
  stacks: MaskStacks,
  plan: CellposePlan,
  scope: CellposeScope,
  post = true,
): Promise<CellposeMasks> {
  let planes = plan.planes(stacks);
  if (plan.minMax) planes = scope.scale(planes);
  const masks: CellposeMasks = {};
  for (const model of plan.runs) masks[model.mask] = await scope.segment(run, model, planes);
  if (!post) return masks;
  for (const model of plan.runs) {
    const f = plan.filters[model.mask];
    if (f) masks[model.mask] = await run.step(`${model.mask}: size filter`, () => scope.filter(run, model.mask, masks[model.mask]!, f));
  }
  if (plan.match) {
    const matched = await run.step('match masks', () => run.kernels.matchNucleusCytosol(masks.nucleus!, masks.cytosol!, plan.matchThreshold));
    masks.nucleus = matched.nucleus;
    masks.cytosol = matched.cytosol;
  }
  return masks;
}

export function cellposeResult(
  run: StepRunner,
  workflow: WorkflowName,
  masks: LabelImage[],
  maskNames: CellposeMask[],
  nucleus: LabelImage,
  cytosol: LabelImage,
  globals: unknown = null,
): SegmentationResult {
  return {
    workflow,
    masks,
    maskNames,
    nucleus,
    cytosol,
    classes: Uint32Array.from(run.kernels.labelAreas(masks[0]).ids),
    globals,
    timings: run.timings,
  };
}

/** DAPISegmentationCellpose's nucleus mask (edge labels removed, size-filtered if asked). */
export async function dapiCellposeMask(run: StepRunner, stacks: MaskStacks, cfg: CellposeSettings<DapiCellposeConfig>): Promise<LabelImage> {
  return (await segmentCellpose(run, stacks, dapiPlan(cfg), wholeImage)).nucleus!;
}

/** CytosolSegmentationCellpose's nucleus and cytosol masks (edge labels removed, filtered and matched as asked). */
export async function cytosolCellposeMasks(
  run: StepRunner,
  stacks: MaskStacks,
  cfg: CellposeSettings<CytosolCellposeConfig>,
): Promise<{ nucleus: LabelImage; cytosol: LabelImage }> {
  const { nucleus, cytosol } = await segmentCellpose(run, stacks, cytosolPlan(cfg), wholeImage);
  return { nucleus: nucleus!, cytosol: cytosol! };
}

/** CytosolOnlySegmentationCellpose's cytosol mask (edge labels removed, size-filtered if asked). */
export async function cytosolOnlyCellposeMask(
  run: StepRunner,
  stacks: MaskStacks,
  cfg: CellposeSettings<CytosolOnlyCellposeConfig>,
): Promise<LabelImage> {
  const plan = cytosolOnlyPlan(cfg, plane(stacks, 'cytosol', cfg.workflow).length);
  return (await segmentCellpose(run, stacks, plan, wholeImage)).cytosol!;
}

/** A workflow's result from its masks, in the descriptor's mask order (one-mask workflows: the mask doubles). */
function resultOf(run: StepRunner, plan: CellposePlan, masks: CellposeMasks, names: readonly CellposeMask[], globals: unknown): SegmentationResult {
  const list = names.map((n) => masks[n]!);
  return cellposeResult(run, plan.workflow, list, [...names], list[0], list[list.length - 1], globals);
}

/** A Cellpose workflow without a sharded form (the variants): `run` only. */
export function cellposeWorkflow<C extends SegmentationConfig>(
  descriptor: WorkflowDescriptor,
  run: (ctx: WorkflowContext, stacks: MaskStacks, cfg: C) => Promise<SegmentationResult>,
): Workflow<C, null> {
  const noSharding = (): never => {
    throw new InputError(
      `${descriptor.name} has no sharded form yet; run it in memory (Segmentation) or per image (MultithreadedSegmentation)`,
      'ERR_SCSEG_UNAVAILABLE',
    );
  };
  return {
    descriptor,
    run,
    reach: () => Number.POSITIVE_INFINITY,
    globalPass: async () => noSharding(),
    sweepTile: async () => noSharding(),
    windowPass: async () => noSharding(),
  };
}

/** Rows per band of the global pass's streamed statistics: bounded memory whatever the image's height. */
const BAND_ROWS = 512;

/** A cell's area with its first pixel in raster order (whole-image ids follow that order: Cellpose renumbers so). */
interface CellArea {
  mask: CellposeMask;
  first: number;
  area: number;
}

/**
 * How far a window's cells depend on pixels around them, from the config alone: a pixel's flows depend on the
 * network tiles covering it (224 px at the network's scale), then room for a cell (two diameters). The model's
 * diam_mean is guessed (17 for a nucleus model, else 30) where it matters.
 */
function cellposeReach(plan: CellposePlan): number {
  let reach = 0;
  for (const { section } of plan.runs) {
    const diamMean = section.model.kind === 'pretrained' && section.model.name.includes('nuclei') ? 17 : 30;
    const rescale = section.diameter && section.diameter > 0 ? diamMean / section.diameter : (section.rescale ?? 1);
    reach = Math.max(reach, Math.ceil(TILE_SIZE / rescale + (2 * diamMean) / rescale) + 2);
  }
  return reach;
}

/** A Cellpose workflow with its sharded form: `planOf` turns a config (and the selected planes) into its plan. */
function shardableCellposeWorkflow<C extends SegmentationConfig>(
  descriptor: WorkflowDescriptor,
  planOf: (cfg: C, stacks?: MaskStacks) => CellposePlan,
  names: readonly CellposeMask[],
): Workflow<C, CellposeGlobals> {
  const windowMasks = async (ctx: WorkflowContext, stacks: MaskStacks, cfg: C, globals: CellposeGlobals, at: WindowPlacement, post: boolean) => {
    const run = new StepRunner(ctx);
    const plan = planOf(cfg, stacks);
    for (const m of plan.runs) {
      // checked before any work: the window pass cannot estimate a diameter
      const info = (await cellposeModels().load(m.section.model, { threads: ctx.kernels.threads, modelsDir: m.section.modelsDir })).info;
      if (!fixedScale(info, m.section)) {
        throw new InputError(
          `${cfg.workflow}, sharded: the ${m.mask} model (${m.section.model}) estimates the diameter from the whole image with its ` +
            `size model, which a shard cannot do; set ${m.mask}_segmentation.diameter`, 'ERR_SCSEG_UNAVAILABLE');
      }
    }
    return { run, plan, masks: await segmentCellpose(run, stacks, plan, windowScope(globals, at), post) };
  };
  /** The sweep for automatic size thresholds: each mask's cells centred in the tile's core, before any filter. */
  const areasOf = async (ctx: WorkflowContext, stacks: MaskStacks, cfg: C, globals: CellposeGlobals, tile: GlobalTile, imageWidth: number, imageHeight: number) => {
    const { window, core } = tile;
    const { masks } = await windowMasks(ctx, stacks, cfg, globals, { window, imageWidth, imageHeight }, false);
    const out: CellArea[] = [];
    for (const [mask, labels] of Object.entries(masks) as [CellposeMask, LabelImage][]) {
      const firsts = firstPixels(labels, window, imageWidth);
      for (const { id, area } of cellsCentredIn(labels, window, core)) out.push({ mask, first: firsts.get(id)!, area });
    }
    return out;
  };
  return {
    descriptor,
    async run(ctx, stacks, cfg) {
      const run = new StepRunner(ctx);
      const plan = planOf(cfg, stacks);
      return resultOf(run, plan, await segmentCellpose(run, stacks, plan, wholeImage), names, null);
    },
    reach: (cfg) => cellposeReach(planOf(cfg)),
    async globalPass(ctx, reader, cfg, options = {}) {
      const first = await reader.read({ x: 0, y: 0, width: reader.width, height: Math.min(1, reader.height) });
      const plan = planOf(cfg, first);
      const { width, height } = reader;
      const bands = async (fn: (planes: Image2D[], y: number) => void) => {
        for (let y = 0; y < height; y += BAND_ROWS) {
          ctx.signal?.throwIfAborted();
          fn(plan.planes(await reader.read({ x: 0, y, width, height: Math.min(BAND_ROWS, height - y) })), y);
        }
      };
      const globals: CellposeGlobals = { minMax: null, normalization: {}, sizeThresholds: {} };
      if (plan.minMax) {
        ctx.progress?.('global min–max range');
        let range: MinMaxRange | undefined;
        await bands((planes) => (range = minMaxRange(planes, range)));
        globals.minMax = range!;
      }
      const normalized = plan.runs.filter((m) => m.section.normalize);
      if (normalized.length > 0) {
        ctx.progress?.('global percentiles');
        const inputs = new Map<ModelRun, { windows: ReturnType<typeof cellposeInput>[]; at: { x: number; y: number }[] }>();
        for (const m of normalized) inputs.set(m, { windows: [], at: [] });
        await bands((planes, y) => {
          const scaled = plan.minMax ? scaleMinMax(planes, globals.minMax!) : planes;
          for (const m of normalized) {
            const entry = inputs.get(m)!;
            entry.windows.push(cellposeInput(scaled, m.channels));
            entry.at.push({ x: 0, y });
          }
        });
        for (const m of normalized) {
          const { windows, at } = inputs.get(m)!;
          globals.normalization[m.mask] = cellposeNormalization(windows, at, { width, height });
        }
      }
      const automatic = plan.runs.filter((m) => plan.filters[m.mask]?.kind === 'automatic');
      if (automatic.length > 0) {
        ctx.progress?.('global size thresholds');
        const tiles = sweepTiles(reader.width, reader.height, options.tileSize ?? 1024, options.margin ?? cellposeReach(plan));
        let items: CellArea[] = [];
        if (options.mapTiles) {
          items = (await options.mapTiles('areas', globals, tiles)).flat() as CellArea[];
        } else {
          for (const tile of tiles) items.push(...(await areasOf(ctx, await reader.read(tile.window), cfg, globals, tile, width, height)));
        }
        for (const m of automatic) {
          const f = plan.filters[m.mask] as Extract<SizeFilter, { kind: 'automatic' }>;
          const areas = items.filter((c) => c.mask === m.mask).sort((a, b) => a.first - b.first);
          globals.sizeThresholds[m.mask] = automaticSizeThresholds(Float64Array.from(areas, (c) => c.area), f.confidenceInterval);
        }
      }
      return globals;
    },
    async sweepTile(ctx, sweep, stacks, cfg, globals, tile, imageWidth, imageHeight) {
      if (sweep !== 'areas') throw new InputError(`${descriptor.name} has no sweep '${sweep}'`, 'ERR_SCSEG_INTERNAL');
      return areasOf(ctx, stacks, cfg, globals, tile, imageWidth, imageHeight);
    },
    async windowPass(ctx, stacks, cfg, globals, placement) {
      const { run, plan, masks } = await windowMasks(ctx, stacks, cfg, globals, placement, true);
      return resultOf(run, plan, masks, names, globals);
    },
  };
}

/** Each id's first pixel in raster order, as an index of the whole image. */
function firstPixels(labels: LabelImage, window: PixelWindow, imageWidth: number): Map<number, number> {
  const firsts = new Map<number, number>();
  const { data, width } = labels;
  for (let i = 0; i < data.length; i++) {
    const id = data[i];
    if (id !== 0 && !firsts.has(id)) firsts.set(id, (window.y + Math.floor(i / width)) * imageWidth + window.x + (i % width));
  }
  return firsts;
}


export const dapiCellposeWorkflow = shardableCellposeWorkflow<DapiCellposeConfig>(WORKFLOWS.DAPISegmentationCellpose, dapiPlan, ['nucleus']);
export const cytosolCellposeWorkflow = shardableCellposeWorkflow<CytosolCellposeConfig>(
  WORKFLOWS.CytosolSegmentationCellpose,
  cytosolPlan,
  ['nucleus', 'cytosol'],
);
export const cytosolOnlyCellposeWorkflow = shardableCellposeWorkflow<CytosolOnlyCellposeConfig>(
  WORKFLOWS.CytosolOnlySegmentationCellpose,
  (cfg, stacks) => cytosolOnlyPlan(cfg, stacks ? plane(stacks, 'cytosol', cfg.workflow).length : 1),
  ['cytosol'],
);
