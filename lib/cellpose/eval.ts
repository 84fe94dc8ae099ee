/**
 * Cellpose 3.1.1.3's `eval` on one 2-D image, as scPortrait calls it: `models.Cellpose(model_type=name).eval` for
 * a built-in model, `models.CellposeModel(pretrained_model=path).eval` for a custom one (cellpose/models.py; our own
 * code). The network runs through `runTiled`, the dynamics through the C++ kernels.
 *
 * Scale (`rescale`, the factor the image is resized by before the network):
 * - a `diameter` > 0 gives diam_mean / diameter, whatever `rescale` says;
 * - built-in model, no diameter: the size model estimates it (`SizeModel.eval`: diameter from the style, then the
 *   median diameter of the masks segmented at that scale); without a size model, the wrapper's diam_mean (17 for
 *   nucleus models, else 30); `rescale` is ignored (the wrapper always passes a diameter);
 * - custom model, no diameter: `rescale` if given, else diam_mean / diam_labels.
 * Euler steps: 200 / rescale with `resample` (flows at the image's size), else 200 (flows at the network's scale,
 * masks resized back with nearest neighbours before holes are filled).
 */
import { InputError } from '../errors.js';
import type { Image2D, PixelArray } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import { skippedLeadingIds } from '../workflows/size-filter.js';
import type { CellposeNetwork, SizeModelParams } from './model.js';
import type { WindowPlacement } from '../workflows/types.js';
import {
  applyNormalization,
  cellposeInput,
  NormalizationStats,
  rescaledSize,
  resizedRegion,
  resizeLinearRegion,
  resizePlanesRegion,
  runTiledRegion,
  type CellposeChannels,
  type ChannelImage,
  type ChannelNormalization,
  type Region,
  type RunTiledOptions,
  type Size,
  type TiledPlanes,
} from './transforms.js';

export interface CellposeEvalOptions {
  /** Cellpose's `channels` (scPortrait: nucleus model [1, 0], cytosol model [2, 1]). */
  channels: CellposeChannels;
  /** Cellpose's percentile normalisation (scPortrait min–max scales the planes itself before eval for false). */
  normalize: boolean;
  diameter: number | null;
  rescale: number | null;
  resample: boolean;
  flowThreshold: number;
  cellprobThreshold: number;
  /** Cellpose's min_size (15). */
  minSize?: number;
  /** Cellpose's max_size_fraction (0.4). */
  maxSizeFraction?: number;
  /** See CellposeMaskOptions.fixLabelGapQuirk. */
  fixLabelGapQuirk?: boolean;
  /** Tiles per network call (Cellpose: 8). */
  batchSize?: number;
  /** Stops the eval between network calls and steps (with the signal's reason). */
  signal?: AbortSignal;
  /** Called with each step's name as it starts. */
  step?: (name: string) => Promise<void> | void;
}

export interface CellposeEvalResult {
  masks: Image2D<Uint32Array>;
  /** The diameter Cellpose would report (given, estimated, or diam_mean / rescale). */
  diameter: number;
  rescale: number;
  niter: number;
  /** The image's style (L2-normalised; zeros when the network's styles summed to zero). */
  style: Float32Array | null;
  /** The network's outputs at the scale the dynamics ran (planes dY, dX, cell probability). */
  outputs: TiledPlanes;
}

/** cv2.resize(…, INTER_NEAREST) of a label image: source index floor(x · (1 / (dst / src))), clamped. */
export function resizeLabelsNearest(labels: Image2D<Uint32Array>, height: number, width: number): Image2D<Uint32Array> {
  const whole = { x: 0, y: 0, width: labels.width, height: labels.height };
  return resizeLabelsNearestRegion(labels, whole, labels, { width, height }, { x: 0, y: 0, width, height });
}

/**
 * `region` of resizeLabelsNearest(whole labels of size `src`, dst) from `labels`, the labels of `srcRegion` (a
 * source index beyond the window reads its edge).
 */
export function resizeLabelsNearestRegion(
  labels: Image2D<Uint32Array>,
  srcRegion: Region,
  src: Size,
  dst: Size,
  region: Region,
): Image2D<Uint32Array> {
  const ifx = 1 / (dst.width / src.width);
  const ify = 1 / (dst.height / src.height);
  const local = (s: number, from: number, len: number) => Math.min(Math.max(s - from, 0), len - 1);
  const { width, height } = region;
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    xs[x] = local(Math.min(Math.floor((region.x + x) * ifx), src.width - 1), srcRegion.x, labels.width);
  }
  const out = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = local(Math.min(Math.floor((region.y + y) * ify), src.height - 1), srcRegion.y, labels.height) * labels.width;
    for (let x = 0; x < width; x++) out[y * width + x] = labels.data[row + xs[x]];
  }
  return { data: out, width, height };
}

interface MaskRun {
  rescale: number;
  resample: boolean;
  interp: boolean;
  flowThreshold: number;
  cellprobThreshold: number;
}

/** Where the input of `masksAt` lies: the whole image, or a window of a larger one (a sharded run). */
function wholePlacement(x: ChannelImage): WindowPlacement {
  return { window: { x: 0, y: 0, width: x.width, height: x.height }, imageWidth: x.width, imageHeight: x.height };
}

function sameRegion(a: Region, b: Region): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

/**
 * `_run_net` + `_compute_masks` at one scale, on the window `at` of the image (`x` holds that window's normalised
 * input): the whole image's resize, tile grid, Euler steps and size limit, so a cell well inside the window gets the
 * labels of the whole-image run (a window's masks near its cut sides are approximate).
 */
async function masksAt(k: Kernels, x: ChannelImage, net: CellposeNetwork, o: CellposeEvalOptions, r: MaskRun, at: WindowPlacement = wholePlacement(x)) {
  await o.step?.('network');
  const whole: Size = { width: at.imageWidth, height: at.imageHeight };
  const win = at.window;
  let scaled: Size = whole;
  let region: Region = win;
  let input = x;
  if (r.rescale !== 1) {
    scaled = rescaledSize(whole.height, whole.width, r.rescale);
    if (scaled.height < 1 || scaled.width < 1) {
      throw new InputError(`rescale ${r.rescale} leaves no pixels of the ${whole.width}×${whole.height} image`, 'ERR_SCSEG_ARGUMENT');
    }
    region = resizedRegion(win, whole, scaled);
    input = resizeLinearRegion(x, win, whole, scaled, region);
  }
  const batchSize = o.batchSize ?? 8;
  let y = await runTiledRegion(input, region, scaled, net.run, { nout: 3, batchSize, signal: o.signal, blend: blendWith(k) });
  let flowsWhole = scaled;
  if (r.resample && r.rescale !== 1) {
    y = resizePlanesRegion(y, region, scaled, whole, win);
    region = win;
    flowsWhole = whole;
  }
  await o.step?.('dynamics');
  const niter = Math.trunc(r.resample ? (1 / r.rescale) * 200 : 200);
  const area = y.width * y.height;
  // the planes are the kernel's layout: dY, dX (the flow field), then the cell probability
  const field = { data: y.planes.subarray(0, 2 * area), width: y.width, height: y.height };
  const cellprob = { data: y.planes.subarray(2 * area, 3 * area), width: y.width, height: y.height };
  const common = {
    niter: Math.max(1, niter),
    cellprobThreshold: r.cellprobThreshold,
    flowThreshold: r.flowThreshold,
    minSize: o.minSize ?? 15,
    maxSizeFraction: o.maxSizeFraction ?? 0.4,
    imagePixels: flowsWhole.width * flowsWhole.height,
    fixLabelGapQuirk: o.fixLabelGapQuirk ?? false,
    interp: r.interp,
  };
  let masks: Image2D<Uint32Array>;
  if (sameRegion(region, win) && flowsWhole.width === whole.width && flowsWhole.height === whole.height) {
    masks = k.cellposeMasks(field, cellprob, common);
  } else {
    const raw = k.cellposeMasks(field, cellprob, { ...common, clean: false });
    masks = k.cellposeCleanMasks(resizeLabelsNearestRegion(raw, region, flowsWhole, whole, win), common);
  }
  return { masks, style: y.style, outputs: y, niter: common.niter };
}

/** average_tiles on the kernels. */
function blendWith(k: Kernels): RunTiledOptions['blend'] {
  return (tiles, region) => k.cellposeBlendTiles(tiles, region);
}

/**
 * `utils.diameters`: median of √(pixel counts) / (√π / 2) over the unique values but the first (the background, or
 * the smallest id of a mask without background — SizeFilter's skippedLeadingIds).
 */
function medianDiameter(k: Kernels, masks: Image2D<Uint32Array>): number {
  const { areas } = k.labelAreas(masks);
  const roots = Array.from(areas.subarray(skippedLeadingIds(areas, masks.data.length)), Math.sqrt).sort((a, b) => a - b);
  const m = roots.length;
  if (m === 0) return 0;
  const median = m % 2 ? roots[(m - 1) / 2] : (roots[m / 2 - 1] + roots[m / 2]) / 2;
  return median / (Math.sqrt(Math.PI) / 2);
}

/** `SizeModel._size_estimation`: exp(A·(style − smean) + log(diam_mean) + ymean), at least 5. */
function styleDiameter(style: Float32Array, p: SizeModelParams): number {
  if (style.length !== p.A.length) {
    throw new InputError(`the size model expects styles of ${p.A.length} values, the network gives ${style.length}`, 'ERR_SCSEG_MODEL');
  }
  let dot = 0;
  for (let i = 0; i < style.length; i++) dot += p.A[i] * (style[i] - p.smean[i]);
  return Math.max(5, Math.exp(dot + Math.log(p.diamMean) + p.ymean));
}

/** `SizeModel.eval`: the diameter of the objects in the image, or diam_mean when it cannot tell. */
async function estimateDiameter(k: Kernels, x: ChannelImage, net: CellposeNetwork, o: CellposeEvalOptions): Promise<number> {
  const size = net.info.sizeModel!;
  await o.step?.('network');
  // the style of the image at the network's own scale (run_net's outputs are not used)
  const styleScale = net.info.diamMean / net.info.diamLabels;
  const scaled = styleScale !== 1 ? rescaledSize(x.height, x.width, styleScale) : { width: x.width, height: x.height };
  const resized = styleScale !== 1 ? resizeLinearRegion(x, { x: 0, y: 0 }, x, scaled, { x: 0, y: 0, ...scaled }) : x;
  const styled = await runTiledRegion(resized, { x: 0, y: 0, width: resized.width, height: resized.height }, resized, net.run, { batchSize: o.batchSize ?? 8, signal: o.signal, blend: blendWith(k) });
  // an all-zero style is NaN in Cellpose, whose estimate then falls back to diam_mean
  const style = styled.style;
  let diamStyle = style && style.some((v) => v !== 0) ? styleDiameter(style, size) : NaN;
  if (!(diamStyle > 0)) diamStyle = size.diamMean;
  const rescale = size.diamMean > 0 ? size.diamMean / diamStyle : 1;
  const { masks } = await masksAt(k, x, net, o, { rescale, resample: false, interp: false, flowThreshold: 0.4, cellprobThreshold: 0 });
  const diam = medianDiameter(k, masks);
  return diam > 0 && Number.isFinite(diam) ? diam : size.diamMean;
}

function checkScaleOptions(o: CellposeEvalOptions): void {
  if (o.diameter !== null && !(o.diameter >= 0)) {
    throw new InputError(`diameter must be a number ≥ 0 (0 or unset: estimated or the model's default), got ${o.diameter}`, 'ERR_SCSEG_ARGUMENT');
  }
  if (o.rescale !== null && !(o.rescale > 0 && Number.isFinite(o.rescale))) {
    throw new InputError(`rescale must be a positive number, got ${o.rescale}`, 'ERR_SCSEG_ARGUMENT');
  }
}

/** The scale eval runs at, when it does not depend on the image (null: the size model estimates it). */
export function fixedScale(info: CellposeNetwork['info'], o: Pick<CellposeEvalOptions, 'diameter' | 'rescale'>): { rescale: number; diameter: number } | null {
  const given = o.diameter !== null && o.diameter > 0 ? o.diameter : null;
  if (info.builtin !== null) {
    if (given === null && info.sizeModel) return null;
    const diameter = given ?? (info.builtin.includes('nuclei') ? 17 : 30);
    return { rescale: info.diamMean / diameter, diameter };
  }
  const rescale = given !== null ? info.diamMean / given : (o.rescale ?? info.diamMean / info.diamLabels);
  return { rescale, diameter: given ?? info.diamMean / rescale };
}

/** Cellpose's `eval` (see the module comment) of `planes` with `network`. */
export async function cellposeEval(
  k: Kernels,
  planes: readonly Image2D<PixelArray>[],
  network: CellposeNetwork,
  o: CellposeEvalOptions,
): Promise<CellposeEvalResult> {
  checkScaleOptions(o);
  await o.step?.('normalize');
  const input = cellposeInput(planes, o.channels);
  const x = o.normalize ? applyNormalization(input, cellposeNormalization([input])) : input;
  const scale = fixedScale(network.info, o);
  const diameter = scale?.diameter ?? (await estimateDiameter(k, x, network, o));
  const rescale = scale?.rescale ?? network.info.diamMean / diameter;
  const run = await masksAt(k, x, network, o, {
    rescale,
    resample: o.resample,
    interp: true,
    flowThreshold: o.flowThreshold,
    cellprobThreshold: o.cellprobThreshold,
  });
  return { masks: run.masks, diameter, rescale, niter: run.niter, style: run.style, outputs: run.outputs };
}

/**
 * normalize_img's per-channel percentiles of a whole image from its network inputs (`cellposeInput`), given as
 * windows that tile it: the whole image, or (a sharded run's global pass) bands with their top-left corners.
 */
export function cellposeNormalization(
  windows: readonly ChannelImage[],
  at: readonly { x: number; y: number }[] = [{ x: 0, y: 0 }],
  whole: Size = windows[0],
): ChannelNormalization[] {
  const stats = new NormalizationStats(whole.width, whole.height, windows[0].channels);
  windows.forEach((w, i) => stats.add(w, at[i].x, at[i].y));
  return stats.result();
}

/**
 * The labels of Cellpose's `eval` on the whole image inside a window of it (a sharded run's shard), from the window's
 * planes and the whole image's normalisation (`cellposeNormalization`; null with `normalize: false`). Cells whose
 * flows, tiles and growth lie within the window get exactly the whole-image run's pixels (not its ids: those are
 * the window's). The scale must not depend on the image: a built-in model with a size model needs a `diameter`.
 */
export async function cellposeEvalWindow(
  k: Kernels,
  planes: readonly Image2D<PixelArray>[],
  network: CellposeNetwork,
  o: CellposeEvalOptions,
  normalization: readonly ChannelNormalization[] | null,
  at: WindowPlacement,
): Promise<Image2D<Uint32Array>> {
  checkScaleOptions(o);
  const scale = fixedScale(network.info, o);
  if (!scale) {
    throw new InputError(
      `the ${network.info.builtin} model estimates the diameter from the whole image (its size model): a sharded run needs ` +
        '`diameter` set in the config', 'ERR_SCSEG_UNAVAILABLE');
  }
  await o.step?.('normalize');
  const input = cellposeInput(planes, o.channels);
  if (o.normalize && !normalization) throw new InputError('cellposeEvalWindow: normalize is on but no normalisation was given', 'ERR_SCSEG_ARGUMENT');
  const x = o.normalize ? applyNormalization(input, normalization!) : input;
  const run = await masksAt(k, x, network, o, {
    rescale: scale.rescale,
    resample: o.resample,
    interp: true,
    flowThreshold: o.flowThreshold,
    cellprobThreshold: o.cellprobThreshold,
  }, at);
  return run.masks;
}
