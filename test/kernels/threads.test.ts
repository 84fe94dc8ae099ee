/**
 * The native kernels split large images across threads (native/parallel.hpp); the results must not depend on
 * how many. Each thread count runs in a child process (SCSEG_THREADS is read by the addon from the real
 * environment), which prints a digest per kernel output.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';
import { describeIfNative } from '../helpers/backends.js';

const script = `
import { createHash } from 'node:crypto';
const { kernels } = await import(${JSON.stringify(path.join(repoRoot, 'lib/kernels/index.ts'))});
const k = kernels('native');
let s = 12345;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
const W = 1021, H = 777, n = W * H;
const u16 = { data: Uint16Array.from({ length: n }, () => Math.floor(rnd() * 4000)), width: W, height: H };
const f32 = { data: Float32Array.from({ length: n }, () => (rnd() < 0.03 ? 0 : rnd() * 2 - 0.2)), width: W, height: H };
const mask = { data: Uint8Array.from({ length: n }, (_, i) => (Math.sin(i / 97) + Math.cos(i / 1013) > 0.3 ? 1 : 0)), width: W, height: H };
const digest = (a) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
// Labels in runs along rows (many ids), and a mask of many separate parts (marched and flooded part by part).
const xy = (i) => [i % W, Math.floor(i / W)];
const labels = { data: Uint32Array.from({ length: n }, (_, i) => { const [x, y] = xy(i); return mask.data[i] ? 1 + Math.floor(x / 37) + 29 * Math.floor(y / 41) : 0; }), width: W, height: H };
const parts = { data: Uint8Array.from({ length: n }, (_, i) => { const [x, y] = xy(i); return x % 53 < 40 && y % 47 < 35 && (x * 7 + y * 3) % 11 !== 0 ? 1 : 0; }), width: W, height: H };
let id = 0;
const markers = { data: Uint32Array.from({ length: n }, (_, i) => { const [x, y] = xy(i); return parts.data[i] && x % 53 === 20 && y % 47 % 17 === 0 ? ++id : 0; }), width: W, height: H };
const seeds = { data: Uint8Array.from(markers.data, (m) => (m ? 1 : 0)), width: W, height: H };
const areas = k.labelAreas(labels);
const distance = k.fmmDistance(seeds, parts);
const out = {
  labelAreas: digest(areas.ids) + digest(areas.areas),
  removeLabels: digest(k.removeLabels(labels, areas.ids.filter((_, j) => j % 3 === 0)).data),
  removeEdgeLabels: digest(k.removeEdgeLabels(labels).data),
  contactFilter: digest(k.contactFilter(labels, 0.6).data),
  partsDistance: digest(distance.data),
  partsWatershed: digest(k.watershed(distance, markers, parts).data),
  medianNetwork: digest(k.medianFilter(u16, 3).data),
  medianHistogram: digest(k.medianFilter(f32, 6).data),
  localThreshold: digest(k.localMedianThreshold(f32, 41, 4, -0.2).data),
  edt: digest(k.distanceTransform(mask).data),
  quantiles: k.quantiles(f32, [0, 0.01, 0.5, 0.99, 1]).join(','),
  normalize: digest(k.percentileNormalize(f32, 0.01, 0.99).data),
};
process.stdout.write(JSON.stringify(out));
`;

function run(threads: string): Record<string, string> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, SCSEG_THREADS: threads, NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child with SCSEG_THREADS=${threads} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

describeIfNative('thread count does not change native results', () => {
  it('gives identical outputs with 1, 2, 3 and 7 threads', () => {
    const serial = run('1');
    expect(Object.keys(serial)).toHaveLength(12);
    for (const t of ['2', '3', '7']) expect(run(t)).toEqual(serial);
  }, 120_000);
});
