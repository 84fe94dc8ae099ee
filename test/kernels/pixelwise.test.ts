/**
 * normalizeRange and wgaSpeedMap against the numpy-1.x arithmetic written out in JS (float32 steps via
 * Math.fround, float64 after the integer mask is subtracted) — the formulas the workflows used before these
 * moved into C++, and which matched the original scPortrait bit for bit on every shared image.
 */
import { kernels } from '../../lib/kernels/index.js';
import type { Image2D, PixelArray } from '../../lib/image.js';
import { expectInputError } from '../helpers/errors.js';
import { rng } from '../helpers/fixtures.js';

const k = kernels();

function normalizeRangeJs(src: PixelArray, l: number, u: number): Float32Array {
  const lo = Math.fround(l);
  const range = u - l;
  const r32 = Math.fround(range);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let y = Math.fround(src[i] - lo);
    if (range !== 0) y = Math.fround(y / r32);
    out[i] = y < 0 ? 0 : y > 1 ? 1 : y;
  }
  return out;
}

function speedMapJs(src: PixelArray, nuclei: Uint8Array, q02: number, q98: number, min: number, max: number): Float64Array {
  const lo = Math.fround(q02);
  const scale = Math.fround(q98);
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let p32 = Math.fround(Math.fround(src[i] - lo) / scale);
    p32 = p32 < 0 ? 0 : p32 > 1 ? 1 : p32;
    let p = p32 - nuclei[i];
    p = 1 - (p < 0 ? 0 : p > 1 ? 1 : p);
    p = ((p < min ? min : p > max ? max : p) - min) / (max - min);
    out[i] = p * 0.9 + 0.1;
  }
  return out;
}

const W = 613, H = 517; // large enough for the native build to split the rows across threads
function images(seed: number) {
  const r = rng(seed);
  const n = W * H;
  const f32 = Float32Array.from({ length: n }, () => (r() < 0.02 ? 0 : r() * 1.3 - 0.1));
  const u16 = Uint16Array.from({ length: n }, () => Math.floor(r() * 5000));
  const u8 = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  const nuclei = Uint8Array.from({ length: n }, () => (r() < 0.2 ? 1 : 0));
  const img = <T extends PixelArray>(data: T): Image2D<T> => ({ data, width: W, height: H });
  return { f32: img(f32), u16: img(u16), u8: img(u8), nuclei: img(nuclei) };
}

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('normalizeRange', () => {
  const im = images(1);
  it.each([
    ['float32', im.f32, 0.0123, 0.987],
    ['uint16', im.u16, 37.5, 4812.25],
    ['uint8', im.u8, 3, 250],
    ['constant range (no division)', im.f32, 0.5, 0.5],
  ] as const)('matches the float32 formula bit for bit (%s)', (_n, image, l, u) => {
    expect(same(k.normalizeRange(image, l, u).data, normalizeRangeJs(image.data, l, u))).toBe(true);
  });

  it('equals percentileNormalize given the same quantiles', () => {
    const [l, u] = k.quantiles(im.u16, [0.01, 0.99]);
    expect(same(k.normalizeRange(im.u16, l, u).data, k.percentileNormalize(im.u16, 0.01, 0.99).data)).toBe(true);
  });

  it('rejects non-finite bounds', () => {
    expectInputError(() => k.normalizeRange(im.f32, NaN, 1), 'ERR_SCSEG_ARGUMENT', /finite/);
  });
});

describe('wgaSpeedMap', () => {
  const im = images(2);
  it.each([
    ['float32, default clip', im.f32, [0.05, 0.93], { min: 0, max: 1 }],
    ['float32, narrow clip', im.f32, [0.11, 0.8], { min: 0.2, max: 0.7 }],
    ['uint16', im.u16, [100, 4900], { min: 0.1, max: 0.9 }],
  ] as const)('matches the numpy formula bit for bit (%s)', (_n, image, q, clip) => {
    const ours = k.wgaSpeedMap(image, im.nuclei, q, clip).data;
    expect(same(ours, speedMapJs(image.data, im.nuclei.data, q[0], q[1], clip.min, clip.max))).toBe(true);
    expect(ours.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(0.1);
    expect(ours.reduce((a, b) => Math.max(a, b))).toBeLessThanOrEqual(1);
  });

  it('rejects an empty clip range and a mask of another shape', () => {
    expectInputError(() => k.wgaSpeedMap(im.f32, im.nuclei, [0, 1], { min: 0.5, max: 0.5 }), 'ERR_SCSEG_ARGUMENT', /min < max/);
    const small = { data: new Uint8Array(4), width: 2, height: 2 };
    expectInputError(() => k.wgaSpeedMap(im.f32, small, [0, 1], { min: 0, max: 1 }), 'ERR_SCSEG_SHAPE');
  });
});
