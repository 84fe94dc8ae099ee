/** Native and WASM builds of the same sources must agree bit for bit, on awkward shapes and all dtypes. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { activeBackend, kernels, loadBackend } from '../../lib/kernels/index.js';
import type { PixelArray } from '../../lib/image.js';
import { firstBitDifference, repoRoot, rng } from '../helpers/fixtures.js';
import { describeIfNative } from '../helpers/backends.js';

const SHAPES: [number, number][] = [[1, 1], [1, 37], [37, 1], [2, 2], [17, 31], [64, 63], [1023, 1025]];

function randomData(dtype: string, n: number, seed: number): PixelArray {
  const r = rng(seed);
  if (dtype === 'uint8') return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  if (dtype === 'uint16') return Uint16Array.from({ length: n }, () => Math.floor(r() * 65536));
  return Float32Array.from({ length: n }, () => (r() < 0.05 ? 0 : (r() - 0.3) * 1000));
}

describe('backend selection', () => {
  it('reports the backend SCSEG_BACKEND asks for', () => {
    const want = process.env.SCSEG_BACKEND;
    if (want === 'native' || want === 'wasm') expect(activeBackend()).toBe(want);
    else expect(['native', 'wasm']).toContain(activeBackend());
  });

  const child = (backend: string) => {
    const script = `import('${path.join(repoRoot, 'lib/kernels/index.ts')}').then(m => process.stdout.write(m.activeBackend()))`;
    return spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, SCSEG_BACKEND: backend, SCSEG_NATIVE_PATH: '/nonexistent/scseg_kernels.node', NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
  };

  it('fails loudly when native is forced but the addon is missing', () => {
    const r = child('native');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/BackendError: native addon not available/);
    expect(r.stderr).toMatch(/npm rebuild scportrait-segmentation/); // works for a consumer, not only in this repository
  });

  it('falls back to WASM when the native addon is missing', () => {
    const r = child('auto');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('wasm');
  });
});

describeIfNative('native and WASM give bit-identical outputs', () => {
  const native = kernels('native');
  const wasm = kernels('wasm');
  it('loads both backends from their own files', () => {
    expect(loadBackend('native').path).toMatch(/\.node$/);
    expect(loadBackend('wasm').path).toMatch(/\.wasm$/);
  });

  for (const dtype of ['uint8', 'uint16', 'float32']) {
    for (const [h, w] of SHAPES) {
      it(`${dtype} ${h}×${w}: medianFilter r=0,1,4,9 and percentileNormalize`, () => {
        const img = { data: randomData(dtype, h * w, h * 7919 + w), width: w, height: h };
        for (const r of h * w > 100000 ? [4] : [0, 1, 4, 9]) {
          expect(firstBitDifference(native.medianFilter(img, r).data, wasm.medianFilter(img, r).data)).toBe(-1);
        }
        for (const [lo, hi] of [[0.001, 0.999], [0.01, 0.99], [0, 1]]) {
          const a = native.percentileNormalize(img, lo, hi).data;
          const b = wasm.percentileNormalize(img, lo, hi).data;
          expect(firstBitDifference(a, b)).toBe(-1);
        }
      });
    }
  }
});
