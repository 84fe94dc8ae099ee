/**
 * skimage floods markers of equal value (all watershed markers here sit at value 0) in the order its binary heap
 * pops them, and that order depends on every marker of the image. A window holds only some of them, so the global
 * pass replays the whole image's first flooding phase from a small table — each marker and its four neighbours —
 * and the window passes hand the resulting ranks to the kernels (`markerRanks`), which then tie-break exactly as
 * the whole image does.
 *
 * The replay follows native/watershed.hpp's FloodHeap (skimage's heap_general.pxi) and Flood::expand operation for
 * operation: markers are pushed in raster order with age 0; each pop labels the open, unlabelled neighbours (up,
 * left, right, down) and pushes them with the next age; the phase ends when every marker has popped.
 */
import type { Mask } from './pixels.js';
import { cellsCentredIn } from './window.js';
import type { LabelImage, WindowPlacement } from './types.js';

/**
 * The whole image's marker pop order: global raster indices ascending, and each one's rank; for nucleus markers
 * (peaks) also the label each gets in the whole image (peak_local_max order: priority descending, raster order).
 */
export interface MarkerOrder {
  readonly indices: Float64Array;
  readonly ranks: Int32Array;
  readonly labels?: Uint32Array;
}

/** One neighbour of a marker as the flood sees it (index −1: outside the image). */
interface Neighbour {
  index: number;
  open: boolean;
  value: number;
}

/** A marker: its global raster index, whether it lies inside the flood's mask, and its neighbours. */
export interface MarkerEntry {
  index: number;
  open: boolean;
  value: number;
  neighbours: Neighbour[];
  /** peak_local_max's priority of a peak (its distance-transform value), which numbers the nuclei. */
  priority?: number;
}

interface HeapItem {
  value: number;
  age: number;
  index: number;
}

const floodsFirst = (a: HeapItem, b: HeapItem) => (a.value !== b.value ? a.value < b.value : a.age < b.age);

/** skimage's implicit binary min-heap: sift up while strictly smaller; pop sifts the last item down from the root. */
class FloodHeap {
  private readonly a: HeapItem[] = [];
  get size(): number {
    return this.a.length;
  }
  push(item: HeapItem): void {
    const a = this.a;
    let child = a.length;
    a.push(item);
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!floodsFirst(item, a[parent])) break;
      a[child] = a[parent];
      child = parent;
    }
    a[child] = item;
  }
  pop(): HeapItem {
    const a = this.a;
    const top = a[0];
    const moving = a.pop()!;
    const n = a.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let smallest = i;
      let best = moving;
      if (floodsFirst(a[l], best)) {
        smallest = l;
        best = a[l];
      }
      if (l + 1 < n && floodsFirst(a[l + 1], best)) smallest = l + 1;
      if (smallest === i) break;
      a[i] = a[smallest];
      i = smallest;
    }
    a[i] = moving;
    return top;
  }
}

/** The pop order of the whole image's first flooding phase, from every marker's entry (any order). */
export function replayMarkerOrder(entries: readonly MarkerEntry[]): MarkerOrder {
  const sorted = [...entries].sort((a, b) => a.index - b.index);
  const open = sorted.filter((e) => e.open);
  const byIndex = new Map(open.map((e) => [e.index, e]));
  const labelled = new Set(open.map((e) => e.index));
  const heap = new FloodHeap();
  for (const e of open) heap.push({ value: e.value, age: 0, index: e.index });
  const rankOf = new Map<number, number>();
  let age = 0;
  while (rankOf.size < open.length) {
    const item = heap.pop();
    const marker = byIndex.get(item.index);
    if (item.age === 0 && marker && !rankOf.has(item.index)) rankOf.set(item.index, rankOf.size);
    if (!marker) continue; // a neighbour popped: it cannot, while a marker (age 0, lowest value) is queued
    for (const n of marker.neighbours) {
      if (n.index < 0 || !n.open || labelled.has(n.index)) continue;
      labelled.add(n.index);
      heap.push({ value: n.value, age: ++age, index: n.index });
    }
  }
  // Markers outside the mask are dropped by the flood; they still need distinct ranks, after the others.
  let next = open.length;
  const order = {
    indices: Float64Array.from(sorted, (e) => e.index),
    ranks: Int32Array.from(sorted, (e) => (e.open ? rankOf.get(e.index)! : next++)),
  };
  if (!sorted.every((e) => e.priority !== undefined)) return order;
  // Sorted by index already: a stable sort by priority descending gives peak_local_max's order.
  const byPriority = sorted.map((e, i) => ({ p: e.priority!, i })).sort((a, b) => b.p - a.p);
  const labels = new Uint32Array(sorted.length);
  byPriority.forEach(({ i }, position) => (labels[i] = position + 1));
  return { ...order, labels };
}

/** Window coordinates → the whole image's raster index. */
function globalIndex(placement: WindowPlacement, width: number, i: number): number {
  const { window, imageWidth } = placement;
  return (window.y + Math.floor(i / width)) * imageWidth + window.x + (i % width);
}

function insideCore(core: WindowPlacement['window'], placement: WindowPlacement, width: number, i: number): boolean {
  const y = placement.window.y + Math.floor(i / width);
  const x = placement.window.x + (i % width);
  return y >= core.y && y < core.y + core.height && x >= core.x && x < core.x + core.width;
}

/**
 * The entries of the markers inside `core` (image coordinates) of a window: `markers` non-zero where a marker is,
 * `open` the flood's mask, `value` the flood's surface.
 */
export function markerEntries(
  markers: LabelImage,
  open: Mask,
  value: (i: number) => number,
  placement: WindowPlacement,
  core: WindowPlacement['window'],
  priority?: (i: number) => number,
): MarkerEntry[] {
  const { width, data } = markers;
  const { window, imageWidth, imageHeight } = placement;
  const entries: MarkerEntry[] = [];
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0 || !insideCore(core, placement, width, i)) continue;
    const y = Math.floor(i / width);
    const x = i % width;
    // skimage's neighbour order: up, left, right, down. A neighbour beyond the window but inside the image cannot
    // occur: cores lie at least one pixel inside their windows unless they touch the image edge.
    const around: [number, number][] = [[y - 1, x], [y, x - 1], [y, x + 1], [y + 1, x]];
    const neighbours = around.map(([ny, nx]) => {
      const gy = window.y + ny;
      const gx = window.x + nx;
      if (gy < 0 || gx < 0 || gy >= imageHeight || gx >= imageWidth) return { index: -1, open: false, value: 0 };
      const j = ny * width + nx;
      // Another marker is labelled from the start: never claimed, whatever its value.
      return { index: gy * imageWidth + gx, open: open.data[j] !== 0 && data[j] === 0, value: value(j) };
    });
    const entry: MarkerEntry = { index: globalIndex(placement, width, i), open: open.data[i] !== 0, value: value(i), neighbours };
    if (priority) entry.priority = priority(i);
    entries.push(entry);
  }
  return entries;
}

/**
 * The ranks of a window's markers (non-zero `markers`, raster order) in the whole image's order; markers the whole
 * image does not have (artefacts of a cut side, in the margin) rank after all others.
 */
export function windowMarkerRanks(markers: LabelImage, placement: WindowPlacement, order: MarkerOrder): Int32Array {
  const { data, width } = markers;
  const out: number[] = [];
  let extra = order.ranks.length;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) continue;
    const at = binarySearch(order.indices, globalIndex(placement, width, i));
    out.push(at >= 0 ? order.ranks[at] : extra++);
  }
  return Int32Array.from(out);
}

function binarySearch(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === v) return mid;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Areas of the cells of `labels` centred in `core`, under their whole-image label: window label L is numbered by
 * the window's peak L − 1 (`peaks` holds L there), whose whole-image label `order.labels` knows.
 */
export function coreCellAreas(
  labels: LabelImage,
  peaks: LabelImage,
  order: MarkerOrder,
  placement: WindowPlacement,
  core: WindowPlacement['window'],
): { label: number; area: number }[] {
  const peakAt = new Map<number, number>();
  peaks.data.forEach((l, i) => {
    if (l !== 0) peakAt.set(l, i);
  });
  return cellsCentredIn(labels, placement.window, core).map(({ id, area }) => {
    const at = binarySearch(order.indices, globalIndex(placement, labels.width, peakAt.get(id)!));
    return { label: at >= 0 && order.labels ? order.labels[at] : 0, area };
  });
}
