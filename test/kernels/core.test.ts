/**
 * lib/kernels/core.ts is the environment-neutral kernel API (browsers, workers): its import graph holds no Node
 * module, and the WASM kernels it instantiates from bytes compute what the Node entry's facade computes.
 */
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import {
  Kernels,
  instantiateWasmKernels,
  instantiateWasmKernelsSync,
  registerBackend,
  registeredBackends,
  resolveKernels,
  wasmBackend,
  type Backend,
} from '../../lib/kernels/core.js';
import { kernels, MAX_MEDIAN_RADIUS } from '../../lib/kernels/index.js';
import { firstBitDifference, repoRoot, rng } from '../helpers/fixtures.js';

const wasmFile = path.join(repoRoot, 'wasm', 'dist', 'scseg_kernels.wasm');

/** Static import / export-from / dynamic import specifiers of a JS or TS source. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gms,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[1]);
  return found;
}

/** A package's ESM entry file, as Node's "import" condition resolves it. */
function packageEntry(name: string): string {
  const dir = path.join(repoRoot, 'node_modules', name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const dot = pkg.exports?.['.'];
  const entry = typeof dot === 'string' ? dot : (dot?.import ?? dot?.default ?? pkg.module ?? pkg.main);
  return path.join(dir, typeof entry === 'string' ? entry : entry.default);
}

/** Every file reachable from `entry` through static imports, with the bare specifiers each imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const deps = specifiers(fs.readFileSync(file, 'utf8'));
    graph.set(file, deps);
    for (const d of deps) {
      if (d.startsWith('.')) {
        const target = path.resolve(path.dirname(file), d);
        visit(fs.existsSync(target) ? target : target.replace(/\.js$/, '.ts'));
      } else if (!d.startsWith('node:') && !builtinModules.includes(d)) {
        visit(packageEntry(d.startsWith('@') ? d.split('/').slice(0, 2).join('/') : d.split('/')[0]));
      }
    }
  };
  visit(entry);
  return graph;
}

describe('lib/kernels/core.ts is environment-neutral', () => {
  const graph = importGraph(path.join(repoRoot, 'lib', 'kernels', 'core.ts'));

  it('imports no Node module, directly or through its packages', () => {
    const ours = [...graph.keys()].filter((f) => !f.includes('node_modules')).map((f) => path.relative(repoRoot, f));
    expect(ours).toEqual(expect.arrayContaining(['lib/kernels/core.ts', 'lib/kernels/facade.ts', 'lib/kernels/wasm-loader.ts']));
    expect(ours).not.toContain('lib/kernels/index.ts');
    const packages = [...graph.keys()].filter((f) => f.includes('node_modules'));
    expect(packages.length).toBeGreaterThanOrEqual(3); // @emnapi/core, @emnapi/runtime, @tybys/wasm-util (+ theirs)
    for (const [file, deps] of graph) {
      const nodeOnly = deps.filter((d) => d.startsWith('node:') || builtinModules.includes(d));
      expect([path.relative(repoRoot, file), nodeOnly]).toEqual([path.relative(repoRoot, file), []]);
    }
  });

  it('the scan itself sees Node imports (the Node entry has them)', () => {
    const entry = importGraph(path.join(repoRoot, 'lib', 'kernels', 'index.ts'));
    expect([...entry.values()].flat()).toEqual(expect.arrayContaining(['node:os', 'node:fs', 'node:module']));
  });

  it('touches no process, fs or createRequire in its own files', () => {
    for (const file of graph.keys()) {
      if (file.includes('node_modules')) continue;
      const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect([path.relative(repoRoot, file), /\bprocess\.|\bcreateRequire\b|\bfs\./.test(code)]).toEqual([
        path.relative(repoRoot, file),
        false,
      ]);
    }
  });
});

describe('WASM kernels loaded from bytes through core.ts', () => {
  const bytes = fs.readFileSync(wasmFile);
  const node = kernels();
  const r = rng(77);
  const W = 301;
  const H = 257;
  const n = W * H;
  const u16 = { data: Uint16Array.from({ length: n }, () => Math.floor(r() * 5000)), width: W, height: H };
  const mask = { data: Uint8Array.from({ length: n }, () => (r() < 0.7 ? 1 : 0)), width: W, height: H };
  const markers = { data: Uint32Array.from({ length: n }, (_, i) => (mask.data[i] && r() < 0.01 ? 1 + (i % 97) : 0)), width: W, height: H };
  const seeds = { data: Uint8Array.from(markers.data, (m) => (m ? 1 : 0)), width: W, height: H };

  function sameAsNode(k: Kernels): void {
    const pairs: [ArrayLike<number>, ArrayLike<number>][] = [
      [k.medianFilter(u16, 4).data, node.medianFilter(u16, 4).data],
      [k.medianFilter(u16, 7).data, node.medianFilter(u16, 7).data],
      [k.percentileNormalize(u16, 0.01, 0.99).data, node.percentileNormalize(u16, 0.01, 0.99).data],
      [k.distanceTransform(mask).data, node.distanceTransform(mask).data],
      [k.distanceWatershed(seeds, mask, markers).data, node.distanceWatershed(seeds, mask, markers).data],
      // Copied into this realm: the native addon makes its result arrays in the main realm, not jest's.
      [new Float64Array(k.labelAreas(markers).areas), new Float64Array(node.labelAreas(markers).areas)],
    ];
    pairs.forEach(([a, b], i) => expect([i, firstBitDifference(a as never, b as never)]).toEqual([i, -1]));
    expect(k.otsuThreshold(u16)).toBe(node.otsuThreshold(u16));
  }

  it('instantiates synchronously and asynchronously from bytes, with the limits the Node facade sees', async () => {
    const sync = instantiateWasmKernelsSync(bytes, { reserveHeapMB: 0 });
    const async_ = await instantiateWasmKernels(new Uint8Array(bytes), { reserveHeapMB: 0 });
    const { maxPixels, maxFastMarchingPixels, maxTravelWatershedPixels, maxCellposePixels } = sync.limits;
    expect({ ...sync.limits }).toEqual({ ...node.limits, maxPixels, maxFastMarchingPixels, maxTravelWatershedPixels, maxCellposePixels });
    expect(async_.limits.maxPixels).toBe(2 ** 27);
    expect(async_.limits.maxFastMarchingPixels).toBe(2 ** 26);
    expect(async_.limits.maxTravelWatershedPixels).toBe(3 * 2 ** 24);
    expect(async_.limits.maxCellposePixels).toBe(2 ** 25);
  });

  it('a wasmBackend over bytes, initialised asynchronously, gives the Node facade outputs bit for bit', async () => {
    const backend: Backend = wasmBackend(new Uint8Array(bytes), { reserveHeapMB: 0 });
    expect(backend.initialized).toBe(false);
    expect(() => backend.bindings).toThrow(/not initialised/);
    await backend.init();
    expect(backend.path).toBe('bytes');
    sameAsNode(Kernels.on(backend, 2));
  });

  it('resolves through the registry: explicit name, auto by priority, loud errors', async () => {
    const shipped = kernels('wasm').backend;
    const fetched = wasmBackend(async () => new Response(bytes, { headers: { 'content-type': 'application/wasm' } }));
    expect(fetched.initSync).toBeDefined();
    registerBackend('wasm', fetched, 1000);
    expect(registeredBackends()[0]).toBe('wasm');
    const k = await resolveKernels('auto', { threads: 3 });
    expect(k.backend).toBe(fetched);
    expect(k.threads).toBe(3);
    sameAsNode(k);
    // A source that only loads asynchronously has no synchronous path to offer.
    expect(() => fetched.initSync?.()).not.toThrow(); // already initialised
    const lazy = wasmBackend(() => new Response(bytes));
    expect(() => lazy.initSync?.()).toThrow(/load asynchronously only: use await resolveKernels\(\)/);
    const broken = wasmBackend(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1]));
    registerBackend('wasm', broken, 1000);
    await expect(resolveKernels('wasm')).rejects.toThrow(/cannot instantiate WASM kernels from bytes/);
    registerBackend('wasm', shipped, 10);
    expect((await resolveKernels('wasm', { threads: 1 })).backend).toBe(shipped);
  });
});

it('MAX_MEDIAN_RADIUS (kept for compatibility) is the module limit', () => {
  expect(MAX_MEDIAN_RADIUS).toBe(kernels().limits.maxMedianRadius);
});
