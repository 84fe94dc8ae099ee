/**
 * Agreement between two label images (flattened, same length; 0 = background, any other value = one instance).
 * Pure functions (and `readMasks`, the harness's masks.npy reader): used to compare our masks with the original's
 * (run_original.py) and with ground truth.
 *
 * - adjustedRandIndex: sklearn.metrics.adjusted_rand_score(a.ravel(), b.ravel()) — every pixel is a sample and
 *   background is one more cluster. Computed like sklearn >= 1.0 (pair confusion matrix, exact integer counts,
 *   then one division), so it matches sklearn to rounding.
 * - f1AtIoU: instance detection score. Instances are the non-zero ids of `a` (reference) and `b` (prediction);
 *   IoU(i, j) = |a==i ∧ b==j| / |a==i ∨ b==j|. A pair matches when IoU > threshold (strict). Pairs are taken
 *   one-to-one, greedily by decreasing IoU (ties: smaller reference id, then smaller prediction id); for
 *   threshold >= 0.5 every instance has at most one partner above threshold, so the matching is unique.
 *   TP = matched pairs, FP = unmatched prediction instances, FN = unmatched reference instances,
 *   F1 = 2TP / (2TP + FP + FN); with no instance on either side F1 = precision = recall = 1.
 * - cellCount: number of distinct non-zero ids.
 */
import fs from 'node:fs';
import { InputError } from '../../lib/errors.js';

export type LabelArray = Uint32Array | Uint16Array | Uint8Array;

export interface InstanceScore {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Dense ids 0..k-1 for the distinct values of `labels` (in first-seen order), and k. */
function densify(labels: LabelArray): { ids: Int32Array; count: number; values: number[] } {
  const ids = new Int32Array(labels.length);
  const index = new Map<number, number>();
  const values: number[] = [];
  let last = -1;
  let lastId = -1;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v !== last) {
      let id = index.get(v);
      if (id === undefined) {
        id = values.length;
        index.set(v, id);
        values.push(v);
      }
      last = v;
      lastId = id;
    }
    ids[i] = lastId;
  }
  return { ids, count: values.length, values };
}

/** Sparse contingency table: counts of (dense a id, dense b id) pairs, plus the dense id tables. */
function contingency(a: LabelArray, b: LabelArray) {
  if (a.length !== b.length) {
    throw new InputError(`label images differ in size: ${a.length} vs ${b.length} pixels`, 'ERR_SCSEG_SHAPE');
  }
  const da = densify(a);
  const db = densify(b);
  // key = ia * nb + ib < na * nb <= n^2: exact in a double for any image below ~9e7 pixels.
  const nb = db.count;
  const cells = new Map<number, number>();
  let runKey = -1;
  let run = 0;
  for (let i = 0; i < a.length; i++) {
    const key = da.ids[i]! * nb + db.ids[i]!;
    if (key === runKey) {
      run++;
      continue;
    }
    if (run > 0) cells.set(runKey, (cells.get(runKey) ?? 0) + run);
    runKey = key;
    run = 1;
  }
  if (run > 0) cells.set(runKey, (cells.get(runKey) ?? 0) + run);
  return { cells, nb, da, db };
}

/** sklearn.metrics.adjusted_rand_score over all pixels (background included as a cluster). */
export function adjustedRandIndex(a: LabelArray, b: LabelArray): number {
  const { cells, nb, da, db } = contingency(a, b);
  const n = BigInt(a.length);
  const rowSums = new Array<number>(da.count).fill(0);
  const colSums = new Array<number>(db.count).fill(0);
  let sumSquares = 0n;
  for (const [key, count] of cells) {
    rowSums[Math.floor(key / nb)]! += count;
    colSums[key % nb]! += count;
    sumSquares += BigInt(count) * BigInt(count);
  }
  let rowSquares = 0n;
  for (const s of rowSums) rowSquares += BigInt(s) * BigInt(s);
  let colSquares = 0n;
  for (const s of colSums) colSquares += BigInt(s) * BigInt(s);
  // Ordered-pair confusion matrix, as sklearn.metrics.cluster.pair_confusion_matrix.
  const tp = sumSquares - n;
  const fp = colSquares - sumSquares; // same cluster in b, different in a
  const fn = rowSquares - sumSquares; // same cluster in a, different in b
  const tn = n * n - fp - fn - sumSquares;
  if (fn === 0n && fp === 0n) return 1;
  const num = 2n * (tp * tn - fn * fp);
  const den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return Number(num) / Number(den); // |num|, den <= 4 n^4: finite doubles for any image size
}

/** Instance F1 at an IoU threshold (strict >), one-to-one matching; see the module comment for the convention. */
export function f1AtIoU(reference: LabelArray, prediction: LabelArray, threshold = 0.5): InstanceScore {
  if (!(threshold >= 0 && threshold < 1)) {
    throw new InputError(`IoU threshold must be in [0, 1), got ${threshold}`, 'ERR_SCSEG_ARGUMENT');
  }
  const { cells, nb, da, db } = contingency(reference, prediction);
  const areaA = new Array<number>(da.count).fill(0);
  const areaB = new Array<number>(db.count).fill(0);
  for (const [key, count] of cells) {
    areaA[Math.floor(key / nb)]! += count;
    areaB[key % nb]! += count;
  }
  const candidates: { ia: number; ib: number; iou: number }[] = [];
  for (const [key, inter] of cells) {
    const ia = Math.floor(key / nb);
    const ib = key % nb;
    if (da.values[ia] === 0 || db.values[ib] === 0) continue;
    const iou = inter / (areaA[ia]! + areaB[ib]! - inter);
    if (iou > threshold) candidates.push({ ia, ib, iou });
  }
  candidates.sort((x, y) => y.iou - x.iou || da.values[x.ia]! - da.values[y.ia]! || db.values[x.ib]! - db.values[y.ib]!);
  const usedA = new Uint8Array(da.count);
  const usedB = new Uint8Array(db.count);
  let tp = 0;
  for (const c of candidates) {
    if (usedA[c.ia] || usedB[c.ib]) continue;
    usedA[c.ia] = 1;
    usedB[c.ib] = 1;
    tp++;
  }
  const nA = da.values.filter((v) => v !== 0).length;
  const nB = db.values.filter((v) => v !== 0).length;
  const fp = nB - tp;
  const fn = nA - tp;
  const f1 = tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
  const precision = nB === 0 ? (nA === 0 ? 1 : 0) : tp / nB;
  const recall = nA === 0 ? (nB === 0 ? 1 : 0) : tp / nA;
  return { tp, fp, fn, precision, recall, f1 };
}

/** Number of distinct non-zero ids. */
export function cellCount(labels: LabelArray): number {
  const seen = new Set<number>();
  let last = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v !== 0 && v !== last) seen.add(v);
    last = v;
  }
  return seen.size;
}

/** Reads the harness's masks.npy: little-endian uint32, shape (n_masks, H, W). */
export function readMasks(file: string): { masks: Uint32Array[]; width: number; height: number } {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  if (!/'descr':\s*'<u4'/.test(header)) throw new Error(`${file}: expected <u4 masks, header ${header}`);
  const [n, h, w] = /'shape':\s*\((\d+),\s*(\d+),\s*(\d+)\)/.exec(header)!.slice(1).map(Number);
  const data = new Uint32Array(buf.buffer.slice(buf.byteOffset + 10 + headerLen, buf.byteOffset + buf.byteLength));
  return { masks: Array.from({ length: n }, (_, i) => data.subarray(i * h * w, (i + 1) * h * w)), width: w, height: h };
}
