/**
 * The matchNucleusCytosol kernel against a line-by-line Python transcription of scPortrait's MatchNucleusCytosolIds (numpy),
 * on real nucleus labels (DSB 2018, 65 nuclei) and cytosol masks made from them with every case the filter
 * distinguishes: partial overlaps (shifted), nuclei on cytosol background (a blanked box), multinucleated cells
 * (merged cytosols), cytosols without a nucleus, and cytosol ids unrelated to the nucleus ids (permuted).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kernels } from '../../lib/kernels/index.js';
import type { LabelImage } from '../../lib/workflows/types.js';
import { firstBitDifference, imagesDir, readPlanes, rng } from '../helpers/fixtures.js';
import { PYTHON, pythonHas } from '../helpers/python.js';

const REFERENCE = `
import sys, json
import numpy as np
from collections import defaultdict
w, h, thr = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
nucleus = np.fromfile(sys.argv[1], '<u4').reshape(h, w)
cytosol = np.fromfile(sys.argv[2], '<u4').reshape(h, w)
lookup, nuc_discard, cyto_discard = {}, [], []
for nid in np.unique(nucleus)[1:]:
    pot = cytosol[np.where(nucleus == nid)]
    if np.all(pot != 0):
        uniq, counts = np.unique(pot, return_counts=True)
        prop = counts / np.sum(counts)
        if np.any(prop >= thr):
            cid = uniq[np.argmax(prop >= thr)]
            if cid != 0:
                lookup[nid] = cid
            else:
                nuc_discard.append(nid)
        else:
            nuc_discard.append(nid)
    else:
        nuc_discard.append(nid)
count = defaultdict(int)
for c in lookup.values():
    count[c] += 1
for cid in np.unique(cytosol)[1:]:
    if cid not in lookup.values():
        cyto_discard.append(cid)
for n, c in lookup.items():
    if count[c] > 1:
        nuc_discard.append(n); cyto_discard.append(c)
nuc_discard, cyto_discard = list(set(nuc_discard)), list(set(cyto_discard))
for n in list(set([n for n, c in lookup.items() if n in nuc_discard or c in cyto_discard])):
    del lookup[n]
out_n = np.where(np.isin(nucleus, nuc_discard), 0, nucleus)
c = np.where(np.isin(cytosol, cyto_discard), 0, cytosol)
updated = np.zeros_like(c, dtype=bool)
for n, cid in lookup.items():
    cond = np.logical_and(c == cid, ~updated)
    c[cond] = n
    updated = np.logical_or(updated, cond)
out_n.astype('<u4').tofile(sys.argv[6]); c.astype('<u4').tofile(sys.argv[7])
print(json.dumps({"pairs": len(lookup), "nucleiDiscarded": len(nuc_discard), "cytosolsDiscarded": len(cyto_discard)}))
`;

const havePython = pythonHas('numpy');
const maybe = havePython ? describe : describe.skip;

function reference(nucleus: LabelImage, cytosol: LabelImage, threshold: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-match-'));
  try {
    const f = (n: string) => path.join(dir, n);
    fs.writeFileSync(f('n'), nucleus.data);
    fs.writeFileSync(f('c'), cytosol.data);
    const r = spawnSync(PYTHON, ['-c', REFERENCE, f('n'), f('c'), String(nucleus.width), String(nucleus.height), String(threshold), f('on'), f('oc')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const read = (n: string) => new Uint32Array(new Uint8Array(fs.readFileSync(f(n))).buffer);
    return { nucleus: read('on'), cytosol: read('oc'), stats: JSON.parse(r.stdout) as { pairs: number; nucleiDiscarded: number; cytosolsDiscarded: number } };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A cytosol mask from nucleus labels: grown by `grow` px, shifted, a box blanked, pairs merged, ids permuted, one extra cell. */
function cytosolFrom(nucleus: LabelImage, seed: number): LabelImage {
  const { width: w, height: h, data } = nucleus;
  const next = rng(seed);
  let grown = Uint32Array.from(data);
  for (let step = 0; step < 3; step++) {
    const src = grown;
    grown = Uint32Array.from(src);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (src[y * w + x] !== 0) continue;
        const nb = (x > 0 && src[y * w + x - 1]) || (x < w - 1 && src[y * w + x + 1]) || (y > 0 && src[(y - 1) * w + x]) || (y < h - 1 && src[(y + 1) * w + x]);
        if (nb) grown[y * w + x] = nb;
      }
    }
  }
  const dx = 1 + Math.floor(next() * 2);
  const dy = Math.floor(next() * 2);
  const maxId = Math.max(...data);
  const perm = Array.from({ length: maxId + 1 }, (_, i) => i);
  for (let i = maxId; i > 1; i--) {
    const j = 1 + Math.floor(next() * i);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const out = new Uint32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = x - dx;
      const sy = y - dy;
      let v = sx >= 0 && sy >= 0 ? grown[sy * w + sx] : 0;
      if (v !== 0 && v % 7 === 0) v -= 1; // merged with its neighbour id: multinucleated cells
      if (x >= w / 2 && x < w / 2 + 40 && y >= 10 && y < 60) v = 0; // nuclei on cytosol background
      out[y * w + x] = v === 0 ? 0 : 1000 + perm[v];
    }
  }
  for (let y = h - 12; y < h - 2; y++) for (let x = 2; x < 12; x++) out[y * w + x] = 5000; // a cytosol without nucleus
  return { data: out, width: w, height: h };
}

maybe('matchNucleusCytosol (scPortrait MatchNucleusCytosolIds) on realistic masks', () => {
  const k = kernels();
  const matchNucleusCytosol = (n: LabelImage, c: LabelImage, t: number) => k.matchNucleusCytosol(n, c, t);
  let nucleus: LabelImage;
  beforeAll(async () => {
    const [labels] = await readPlanes([path.join(imagesDir, 'dsb_nuclei', 'dsb_256_labels.tif')]);
    nucleus = { data: Uint32Array.from(labels.data), width: labels.width, height: labels.height };
  });

  it.each([
    [0.95, 1],
    [0.5, 2],
    [0.8, 3],
  ])('threshold %s (cytosols from seed %s): the same masks as the reference, and every case occurs', (threshold, seed) => {
    const cytosol = cytosolFrom(nucleus, seed);
    const ours = matchNucleusCytosol(nucleus, cytosol, threshold);
    const ref = reference(nucleus, cytosol, threshold);
    expect(firstBitDifference(ours.nucleus.data, ref.nucleus)).toBe(-1);
    expect(firstBitDifference(ours.cytosol.data, ref.cytosol)).toBe(-1);
    expect(new Set(ours.cytosol.data).size - 1).toBe(ref.stats.pairs);
    expect(ref.stats.pairs).toBeGreaterThan(10);
    expect(ref.stats.nucleiDiscarded).toBeGreaterThan(3);
    expect(ref.stats.cytosolsDiscarded).toBeGreaterThan(3);
    // after matching, the same id marks a cell in both masks
    const ids = (a: Uint32Array) => [...new Set(a)].filter((v) => v !== 0).sort((x, y) => x - y);
    expect(ids(ours.cytosol.data)).toEqual(ids(ours.nucleus.data));
  });

  it('identical masks match one to one; an empty cytosol mask discards every nucleus', () => {
    const same = matchNucleusCytosol(nucleus, nucleus, 0.95);
    expect(firstBitDifference(same.nucleus.data, nucleus.data)).toBe(-1);
    expect(firstBitDifference(same.cytosol.data, nucleus.data)).toBe(-1);
    const empty = { data: new Uint32Array(nucleus.data.length), width: nucleus.width, height: nucleus.height };
    const none = matchNucleusCytosol(nucleus, empty, 0.95);
    expect(none.nucleus.data.every((v) => v === 0)).toBe(true);
  });
});
