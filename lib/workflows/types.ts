/**
 * The workflow contract. Every workflow runs on per-mask channel stacks, asynchronously, in a context that gives it
 * its kernels (with their thread budget), a progress sink and an abort signal; and splits into
 *
 * - a **global pass**: every value that depends on the whole image (quantiles, Otsu thresholds), streamed
 *   window by window from a `StackReader`, and
 * - a **window pass**: given those global values and a window with margins, exactly the labels the whole-image
 *   run produces inside the window's core (cells wholly inside the window and away from its cut edges).
 *
 * `run` on a whole image is the window pass over the whole image, computing the global values on the way; the
 * values it used come back in `SegmentationResult.globals`, equal to what the global pass streams.
 */
import type { MaskName, SegmentationConfig, WorkflowName } from '../config/types.js';
import type { DType, Image2D, PixelWindow } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import type { WorkflowDescriptor } from './registry.js';

export type LabelImage = Image2D<Uint32Array>;

/** The channels feeding each mask after channel selection (one plane per mask, except stacks such as Cellpose's). */
export type MaskStacks = Partial<Record<MaskName, Image2D[]>>;

export interface WorkflowContext {
  /** Kernels on the chosen backend, carrying the thread budget of this run. */
  readonly kernels: Kernels;
  /** Aborts between steps with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called with each step's name as it starts. */
  readonly progress?: (step: string) => void;
}

/** Where a window lies in the whole image: its pixels, and the image's size (which edges are the image's). */
export interface WindowPlacement {
  readonly window: PixelWindow;
  readonly imageWidth: number;
  readonly imageHeight: number;
}

/**
 * How the global pass cuts the image where it needs labels (the marker order): cores of `tileSize` pixels, read
 * with `margin` pixels around them (defaults: 1024, and a margin derived from the config's reach).
 */
export interface GlobalPassOptions {
  tileSize?: number;
  margin?: number;
  /**
   * Runs one named sweep over all tiles elsewhere — e.g. on worker threads, each tile by `Workflow.sweepTile` —
   * and returns each tile's items, in tile order. Default: here, tile by tile.
   */
  mapTiles?: (sweep: string, globals: unknown, tiles: readonly GlobalTile[]) => Promise<unknown[][]>;
}

/** A tile of the global pass: its core, and the window read around it. */
export interface GlobalTile {
  readonly core: PixelWindow;
  readonly window: PixelWindow;
}

/** Reads the workflow's mask stacks for any window of the image (channel selection applied). */
export interface StackReader {
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
  read(window: PixelWindow): Promise<MaskStacks>;
}

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
  /** The whole-image values the run used (computed, or given to a window pass). */
  globals: unknown;
  /** Wall seconds per named step. */
  timings: Record<string, number>;
}

export interface Workflow<C extends SegmentationConfig = SegmentationConfig, G = unknown> {
  readonly descriptor: WorkflowDescriptor;
  /** The whole image, in memory. */
  run(ctx: WorkflowContext, stacks: MaskStacks, config: C): Promise<SegmentationResult>;
  /**
   * How far a cell's labels depend on pixels around it (filter reach plus room for a whole cell): the overlap a
   * sharded run needs for its result to equal the unsharded one.
   */
  reach(config: C): number;
  /** The whole-image values, streamed window by window. */
  globalPass(ctx: WorkflowContext, reader: StackReader, config: C, options?: GlobalPassOptions): Promise<G>;
  /** One tile of the global pass's sweep `sweep` (what `GlobalPassOptions.mapTiles` runs), given the values so far. */
  sweepTile(
    ctx: WorkflowContext,
    sweep: string,
    stacks: MaskStacks,
    config: C,
    globals: G,
    tile: GlobalTile,
    imageWidth: number,
    imageHeight: number,
  ): Promise<unknown[]>;
  /** Labels of one window (stacks cover `placement.window`), exact inside its core given the global values. */
  windowPass(
    ctx: WorkflowContext,
    stacks: MaskStacks,
    config: C,
    globals: G,
    placement: WindowPlacement,
  ): Promise<SegmentationResult>;
}

/**
 * Runs a workflow's steps: times them, reports each to the progress sink, and stops when aborted. Each step first
 * yields to the event loop, so that a signal raised meanwhile (Ctrl-C, a timeout) is seen between kernel calls.
 */
export class StepRunner {
  readonly timings: Record<string, number> = {};
  constructor(readonly ctx: WorkflowContext) {}

  get kernels(): Kernels {
    return this.ctx.kernels;
  }

  async step<T>(name: string, fn: () => T): Promise<T> {
    await nextTurn();
    this.ctx.signal?.throwIfAborted();
    this.ctx.progress?.(name);
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.timings[name] = (this.timings[name] ?? 0) + (performance.now() - t0) / 1000;
    }
  }
}

/**
 * One turn of the event loop, so that pending signals and timers run: setImmediate where there is one (Node; no
 * delay), else a zero timeout (browsers clamp it to a few ms only when nested deeply).
 */
export function nextTurn(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/** The placement of a whole image (every window edge is an image edge). */
export function wholeImage(image: { width: number; height: number }): WindowPlacement {
  const { width, height } = image;
  return { window: { x: 0, y: 0, width, height }, imageWidth: width, imageHeight: height };
}

export function isWholeImage(p: WindowPlacement): boolean {
  const w = p.window;
  return w.x === 0 && w.y === 0 && w.width === p.imageWidth && w.height === p.imageHeight;
}
