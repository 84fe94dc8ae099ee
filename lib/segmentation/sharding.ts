/**
 * Sharding's plan and ownership, shared by ShardedSegmentation (workers, on-disk cache and output) and
 * `segmentSharded`, the same run in memory on one thread (no files, no workers: any environment). The image is cut
 * into shards of at most `shardSize` pixels, each read with `overlap` pixels around it; the global pass runs once,
 * then every shard's window pass.
 *
 * Ownership rule (as StarDist's big-image prediction): a cell belongs to the shard whose core contains its nucleus
 * centroid (the cytosol of a two-mask workflow goes with its nucleus, same id); a shard pastes only the cells it
 * owns. Cells get global ids 1, 2, … by shard in plan order, then by the shard's own id order, so the result does
 * not depend on the order shards finish in. With `overlap` above the workflow's reach the window pass reproduces
 * every owned cell exactly, so the sharded partition equals the unsharded one (ids aside).
 */
import { InputError } from '../errors.js';
import type { PixelWindow } from '../image.js';
import type { LabelImage, SegmentationResult, StackReader, Workflow, WorkflowContext } from '../workflows/types.js';
import { cellsCentredIn, sweepTiles } from '../workflows/window.js';

export interface ShardPlanOptions {
  /** `shard_size`: most pixels in a shard's core. */
  shardSize: number;
  /** `overlap_px`: pixels read around each core. */
  overlap: number;
  /** Cores (and so windows) start on multiples of this (the local threshold's `median_step`). */
  align?: number;
}

export interface Shard {
  core: PixelWindow;
  window: PixelWindow;
}

/** Square-ish cores of at most `shardSize` pixels tiling the image, in raster order, each with its window. */
export function planShards(width: number, height: number, options: ShardPlanOptions): Shard[] {
  const { shardSize, overlap } = options;
  const align = options.align ?? 1;
  if (!(Number.isSafeInteger(shardSize) && shardSize >= align * align)) {
    throw new InputError(`shard_size must be an integer ≥ ${align * align} pixels, got ${shardSize}`, 'ERR_SCSEG_ARGUMENT');
  }
  if (!(Number.isSafeInteger(overlap) && overlap >= 0)) {
    throw new InputError(`overlap_px must be an integer ≥ 0, got ${overlap}`, 'ERR_SCSEG_ARGUMENT');
  }
  const side = Math.max(align, Math.floor(Math.floor(Math.sqrt(shardSize)) / align) * align);
  if (overlap >= side) {
    throw new InputError(`overlap_px (${overlap}) must be smaller than a shard's side (${side} px for shard_size ${shardSize})`, 'ERR_SCSEG_ARGUMENT');
  }
  return sweepTiles(width, height, side, Math.ceil(overlap / align) * align);
}

/** The grid cores and windows must start on: the local threshold's `median_step`, else 1. */
export function shardAlign(config: object): number {
  const t = (config as { nucleus?: { thresholding?: { kind: string; medianStep?: number } } }).nucleus?.thresholding;
  return t?.kind === 'local' ? t.medianStep! : 1;
}

/**
 * The cells of a shard's window pass that the shard owns (nucleus centroid in its core), numbered 1..count in
 * window id order — the same ids in every mask — with 0 everywhere else: one plane per mask, window-sized.
 */
export function ownedCells(part: SegmentationResult, shard: Shard): { planes: Uint32Array[]; count: number } {
  const owned = cellsCentredIn(part.nucleus, shard.window, shard.core);
  const local = new Map(owned.map((c, i) => [c.id, i + 1]));
  const planes = part.masks.map((mask) => {
    const out = new Uint32Array(mask.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = mask.data[i];
      if (v !== 0) out[i] = local.get(v) ?? 0;
    }
    return out;
  });
  return { planes, count: owned.length };
}

/**
 * Runs `workflow` shard by shard over `reader` and stitches the masks of the whole image in memory. Returns the
 * whole-image masks (global ids), `classes`, and the global values used.
 */
export async function segmentSharded(
  ctx: WorkflowContext,
  workflow: Workflow,
  reader: StackReader,
  config: Parameters<Workflow['run']>[2],
  options: ShardPlanOptions,
): Promise<SegmentationResult> {
  const { width, height } = reader;
  const shards = planShards(width, height, { align: shardAlign(config), ...options });
  const started = performance.now();
  const globals = await workflow.globalPass(ctx, reader, config);
  const masks: LabelImage[] = [];
  let names: SegmentationResult['maskNames'] = [];
  let next = 1;
  for (const [s, shard] of shards.entries()) {
    const { window } = shard;
    ctx.signal?.throwIfAborted();
    ctx.progress?.(`shard ${s + 1}/${shards.length}`);
    const placement = { window, imageWidth: width, imageHeight: height };
    const part = await workflow.windowPass(ctx, await reader.read(window), config, globals, placement);
    if (masks.length === 0) {
      names = part.maskNames;
      for (let m = 0; m < part.masks.length; m++) masks.push({ data: new Uint32Array(width * height), width, height });
    }
    // Global ids for the owned cells, by window id: stable whatever order the shards run in.
    const { planes, count } = ownedCells(part, shard);
    planes.forEach((plane, m) => {
      const out = masks[m].data;
      for (let i = 0; i < plane.length; i++) {
        if (plane[i] === 0) continue;
        out[(window.y + Math.floor(i / window.width)) * width + window.x + (i % window.width)] = plane[i] + next - 1;
      }
    });
    next += count;
  }
  const nucleus = masks[0];
  const classes = new Set<number>();
  for (const v of nucleus.data) if (v !== 0) classes.add(v);
  return {
    workflow: config.workflow,
    masks,
    maskNames: names,
    nucleus,
    cytosol: masks[masks.length - 1],
    classes: Uint32Array.from([...classes].sort((a, b) => a - b)),
    globals,
    timings: { sharded: (performance.now() - started) / 1000 },
  };
}
