/**
 * The thread budget is an argument of every kernel call, set per facade: the native kernels split large images
 * across at most that many threads and the results must not depend on how many. The C++ never reads
 * SCSEG_THREADS; the Node entry reads it once, as the default budget.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../lib/errors.js';
import { kernels, threadsFromEnv, type Kernels } from '../../lib/kernels/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { itIfNative, testBackends } from '../helpers/backends.js';

const W = 1021;
const H = 777;
const n = W * H;
let s = 12345;
const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
const u16 = { data: Uint16Array.from({ length: n }, () => Math.floor(rnd() * 4000)), width: W, height: H };
const f32 = { data: Float32Array.from({ length: n }, () => (rnd() < 0.03 ? 0 : rnd() * 2 - 0.2)), width: W, height: H };
const mask = { data: Uint8Array.from({ length: n }, (_, i) => (Math.sin(i / 97) + Math.cos(i / 1013) > 0.3 ? 1 : 0)), width: W, height: H };
const xy = (i: number) => [i % W, Math.floor(i / W)] as const;
// Labels in runs along rows (many ids), and a mask of many separate parts (marched and flooded part by part).
const labels = {
  data: Uint32Array.from({ length: n }, (_, i) => {
    const [x, y] = xy(i);
    return mask.data[i] ? 1 + Math.floor(x / 37) + 29 * Math.floor(y / 41) : 0;
  }),
  width: W,
  height: H,
};
const parts = {
  data: Uint8Array.from({ length: n }, (_, i) => {
    const [x, y] = xy(i);
    return x % 53 < 40 && y % 47 < 35 && (x * 7 + y * 3) % 11 !== 0 ? 1 : 0;
  }),
  width: W,
  height: H,
};
let id = 0;
const markers = {
  data: Uint32Array.from({ length: n }, (_, i) => {
    const [x, y] = xy(i);
    return parts.data[i] && x % 53 === 20 && y % 47 % 17 === 0 ? ++id : 0;
  }),
  width: W,
  height: H,
};
const seeds = { data: Uint8Array.from(markers.data, (m) => (m ? 1 : 0)), width: W, height: H };
const speed = { data: Float64Array.from({ length: n }, () => 0.1 + 0.9 * rnd()), width: W, height: H };

const digest = (a: ArrayBufferView) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);

/** A digest of every kernel that splits work (and of the cytosol flood, which uses a second thread). */
function digests(k: Kernels): Record<string, string> {
  const areas = k.labelAreas(labels);
  const distance = k.fmmDistance(seeds, parts);
  const centroids = k.labelCentroids(labels);
  const matched = k.matchNucleusCytosol(labels, k.removeEdgeLabels(labels), 0.5);
  const flooded = k.travelTimeWatershed(seeds, parts, speed, markers);
  return {
    labelAreas: digest(areas.ids) + digest(areas.areas),
    labelCentroids: digest(centroids.y) + digest(centroids.x),
    removeLabels: digest(k.removeLabels(labels, areas.ids.filter((_, j) => j % 3 === 0)).data),
    removeEdgeLabels: digest(k.removeEdgeLabels(labels).data),
    contactFilter: digest(k.contactFilter(labels, 0.6).data),
    matchNucleusCytosol: digest(matched.nucleus.data) + digest(matched.cytosol.data),
    partsDistance: digest(distance.data),
    partsWatershed: digest(k.watershed(distance, markers, parts).data),
    distanceWatershed: digest(k.distanceWatershed(seeds, parts, markers).data),
    travelTimeWatershed: digest(flooded.travel.data) + digest(flooded.labels.data),
    medianNetwork: digest(k.medianFilter(u16, 3).data),
    medianHistogram: digest(k.medianFilter(f32, 6).data),
    localThreshold: digest(k.localMedianThreshold(f32, 41, 4, -0.2).data),
    edt: digest(k.distanceTransform(mask).data),
    quantiles: k.quantiles(f32, [0, 0.01, 0.5, 0.99, 1]).join(','),
    normalize: digest(k.percentileNormalize(f32, 0.01, 0.99).data),
    normalizeRange: digest(k.normalizeRange(u16, 100, 3000).data),
    wgaSpeedMap: digest(k.wgaSpeedMap(f32, mask, [0.02, 0.98], { min: 0, max: 0.9 }).data),
  };
}

describe.each(testBackends)('thread budget [%s]', (name) => {
  const k = kernels(name);

  it('gives identical outputs with 1, 2, 3 and 7 threads passed explicitly', () => {
    const serial = digests(kernels(name, { threads: 1 }));
    expect(Object.keys(serial)).toHaveLength(18);
    // WASM accepts any budget and runs on the calling thread: one other budget is proof enough there.
    for (const threads of name === 'native' ? [2, 3, 7] : [7]) expect(digests(k.withThreads(threads))).toEqual(serial);
  }, 120_000);

  it('keeps one facade per (backend, budget), usable side by side', () => {
    const one = k.withThreads(1);
    const four = kernels(name, { threads: 4 });
    expect(one.threads).toBe(1);
    expect(four.threads).toBe(4);
    expect(k.withThreads(4)).toBe(four);
    expect(one.backend).toBe(four.backend);
    // Interleaved calls on the two budgets, each with its own argument.
    const a = one.medianFilter(u16, 6);
    const b = four.medianFilter(u16, 6);
    const c = one.distanceTransform(mask);
    const d = four.distanceTransform(mask);
    expect(digest(b.data)).toBe(digest(a.data));
    expect(digest(d.data)).toBe(digest(c.data));
  }, 60_000);

  it('rejects budgets outside [1, limits.maxThreads]', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, k.limits.maxThreads + 1]) {
      expect(() => k.withThreads(bad)).toThrow(InputError);
      expect(() => kernels(name, { threads: bad })).toThrow(/threads must be an integer in \[1, 64\]/);
    }
  });
});

// Two worker threads of one process, each with its own module instance and budget, side by side (a child process:
// jest's vm modules cannot host workers that load TypeScript).
const workerScript = `
import { Worker } from 'node:worker_threads';
const code = \`
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
(await import(workerData.tsx)).register();
const { kernels } = await import(workerData.entry);
const k = kernels('native', { threads: workerData.threads });
const W = 1021, H = 777;
const img = { data: Uint16Array.from({ length: W * H }, (_, i) => (i * 2654435761) % 4093), width: W, height: H };
const mask = { data: Uint8Array.from(img.data, (v) => (v % 7 ? 1 : 0)), width: W, height: H };
const hash = createHash('sha256');
for (let round = 0; round < 3; round++) {
  hash.update(k.medianFilter(img, 6).data);
  hash.update(new Uint8Array(k.distanceTransform(mask).data.buffer));
}
parentPort.postMessage({ threads: k.threads, digest: hash.digest('hex') });\`;
const run = (threads) => new Promise((resolve, reject) => {
  const worker = new Worker(new URL('data:text/javascript,' + encodeURIComponent(code)), {
    execArgv: [],
    workerData: { threads, tsx: import.meta.resolve('tsx/esm/api'), entry: ${JSON.stringify(`file://${path.join(repoRoot, 'lib/kernels/index.ts')}`)} },
  });
  worker.once('message', resolve);
  worker.once('error', reject);
});
process.stdout.write(JSON.stringify(await Promise.all([run(1), run(3)])));
`;

itIfNative('worker threads of one process run kernels with different budgets, with identical results', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', workerScript], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`worker run failed: ${r.stderr}`);
  const [one, three] = JSON.parse(r.stdout) as { threads: number; digest: string }[];
  expect([one.threads, three.threads]).toEqual([1, 3]);
  expect(three.digest).toBe(one.digest);
}, 60_000);

describe('SCSEG_THREADS', () => {
  it('is parsed once in TypeScript: an integer in [1, 64], else a clear InputError; unset: the cores, at most 8', () => {
    expect(threadsFromEnv('3', 64)).toBe(3);
    expect(threadsFromEnv(' 64 ', 64)).toBe(64);
    const cores = threadsFromEnv(undefined, 64);
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(8);
    expect(threadsFromEnv('', 64)).toBe(cores);
    for (const bad of ['0', '65', '-2', '2.5', 'four', '1e1']) {
      expect(() => threadsFromEnv(bad, 64)).toThrow(InputError);
      expect(() => threadsFromEnv(bad, 64)).toThrow(`SCSEG_THREADS must be an integer in [1, 64], got "${bad}"`);
    }
  });

  it('sets the default budget only; an explicit budget wins, whatever the variable says', () => {
    const script = `
      const { kernels } = await import(${JSON.stringify(path.join(repoRoot, 'lib/kernels/index.ts'))});
      const byDefault = kernels('wasm');
      const explicit = kernels('wasm', { threads: 2 });
      process.stdout.write(JSON.stringify({ byDefault: byDefault.threads, explicit: explicit.threads }));
    `;
    const run = (value: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: repoRoot,
        env: { ...process.env, SCSEG_THREADS: value, NODE_OPTIONS: '' },
        encoding: 'utf8',
      });
    const ok = run('5');
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toEqual({ byDefault: 5, explicit: 2 });
    const bad = run('lots');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/SCSEG_THREADS must be an integer in \[1, 64\], got "lots"/);
  }, 60_000);

  it('is not read by the C++ kernels (no getenv anywhere in native/)', () => {
    const sources = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(path.join(dir, e.name)) : /\.(hpp|cpp|h)$/.test(e.name) ? [path.join(dir, e.name)] : [],
      );
    const native = sources(path.join(repoRoot, 'native'));
    expect(native.length).toBeGreaterThan(10);
    for (const file of native) expect([file, /getenv|SCSEG_THREADS/.test(fs.readFileSync(file, 'utf8'))]).toEqual([file, false]);
  });
});
