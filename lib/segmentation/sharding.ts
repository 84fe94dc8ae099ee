/**
 * Sharded segmentation's plan and stitching, in memory (the first slice of ShardedSegmentation: no workers, no
 * on-disk output, no resume yet). The image is cut into shards of at most `shardSize` pixels, each read with
 * `overlap` pixels around it; the global pass runs once, then every shard's window pass.
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
import { cellsCentredIn } from '../workflows/window.js';

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
  const margin = Math.ceil(overlap / align) * align;
  const shards: Shard[] = [];
  for (let y = 0; y < height; y += side) {
    for (let x = 0; x < width; x += side) {
      const core = { x, y, width: Math.min(side, width - x), height: Math.min(side, height - y) };
      const x0 = Math.max(0, x - margin);
      const y0 = Math.max(0, y - margin);
      const x1 = Math.min(width, x + core.width + margin);
      const y1 = Math.min(height, y + core.height + margin);
      shards.push({ core, window: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } });
    }
  }
  return shards;
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
  const t = (config as { nucleus?: { thresholding?: { kind: string; medianStep?: number } } }).nucleus?.thresholding;
  const align = t?.kind === 'local' ? t.medianStep! : 1;
  const shards = planShards(width, height, { align, ...options });
  const started = performance.now();
  const globals = await workflow.globalPass(ctx, reader, config);
  const masks: LabelImage[] = [];
  let names: SegmentationResult['maskNames'] = [];
  let next = 1;
  for (const [s, { core, window }] of shards.entries()) {
    ctx.signal?.throwIfAborted();
    ctx.progress?.(`shard ${s + 1}/${shards.length}`);
    const placement = { window, imageWidth: width, imageHeight: height };
    const part = await workflow.windowPass(ctx, await reader.read(window), config, globals, placement);
    if (masks.length === 0) {
      names = part.maskNames;
      for (let m = 0; m < part.masks.length; m++) masks.push({ data: new Uint32Array(width * height), width, height });
    }
    // Global ids for the owned cells, by window id: stable whatever order the shards run in.
    const owned = cellsCentredIn(part.nucleus, window, core).map((c) => c.id);
    const globalId = new Map(owned.map((id, i) => [id, next + i]));
    next += owned.length;
    part.masks.forEach((mask, m) => {
      const out = masks[m].data;
      for (let i = 0; i < mask.data.length; i++) {
        const id = globalId.get(mask.data[i]);
        if (id === undefined) continue;
        out[(window.y + Math.floor(i / mask.width)) * width + window.x + (i % mask.width)] = id;
      }
    });
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
