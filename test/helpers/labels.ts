/** Reading label results back and comparing partitions (sharded vs unsharded runs). */
import path from 'node:path';
import h5wasm from 'h5wasm/node';

/** The masks of a segmentation.h5 (dataset `labels`, (n, H, W) uint64) as uint32 planes. */
export async function readLabelsH5(file: string): Promise<{ masks: Uint32Array[]; width: number; height: number }> {
  await h5wasm.ready;
  const f = new h5wasm.File(path.resolve(file), 'r');
  try {
    const ds = f.get('labels') as InstanceType<typeof h5wasm.Dataset>;
    const [n, height, width] = ds.shape!;
    const masks: Uint32Array[] = [];
    for (let m = 0; m < n; m++) {
      const v = ds.slice([[m, m + 1]]) as BigUint64Array;
      const words = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
      masks.push(Uint32Array.from({ length: v.length }, (_, i) => words[2 * i]));
    }
    return { masks, width, height };
  } finally {
    f.close();
  }
}

/**
 * Two label images partition the pixels identically (a bijection between their ids); `ab` may carry the id
 * mapping of another mask, which must then hold here too (a cell's nucleus and cytosol share one id).
 */
export function samePartition(a: Uint32Array, b: Uint32Array, ab = new Map<number, number>()): { cells: number; mismatches: number } {
  const ba = new Map([...ab].map(([u, v]) => [v, u]));
  let mismatches = 0;
  for (let i = 0; i < a.length; i++) {
    const u = a[i];
    const v = b[i];
    if ((u === 0) !== (v === 0)) {
      mismatches++;
      continue;
    }
    if (u === 0) continue;
    if ((ab.get(u) ?? v) !== v || (ba.get(v) ?? u) !== u) mismatches++;
    ab.set(u, v);
    ba.set(v, u);
  }
  return { cells: new Set(a.filter((v) => v !== 0)).size, mismatches };
}
