/**
 * The QC overlay kernel (native/qc_overlay.hpp) against the TypeScript renderer it replaces (renderQcOverlay without
 * kernels), byte for byte: example 3's channels with the original scPortrait's WGA masks, and synthetic images of
 * every dtype with NaN / ±Infinity, full size and downsampled (factors 2, 3, 26, sizes they do not divide), 1×1 and
 * 1×N images, 0 to 7 masks; thread counts; native = WASM; bad input rejected with typed errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Image2D, PixelArray } from '../../lib/image.js';
import { renderQcOverlay, type QcOverlayOptions } from '../../lib/io/overlay.js';
import { kernels, type Kernels } from '../../lib/kernels/index.js';
import { exampleData, firstBitDifference, fixturesDir, readPlanes, rng } from '../helpers/fixtures.js';
import { describeIfNative } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

const k = kernels();

type Labels = Image2D<Uint32Array>;

/** The overlay from JavaScript and from `kernels` (this backend by default) are the same, byte for byte. */
function expectSameOverlay(background: Image2D, masks: readonly Labels[], options: QcOverlayOptions = {}, on: Kernels = k): number {
  const ts = renderQcOverlay(background, masks, options);
  const kernel = renderQcOverlay(background, masks, { ...options, kernels: on });
  expect([kernel.width, kernel.height, kernel.factor]).toEqual([ts.width, ts.height, ts.factor]);
  expect(firstBitDifference(kernel.rgba, ts.rgba)).toBe(-1);
  return ts.factor;
}

/** maxSize giving factor f for an image whose longer side is `side` (ceil(side / maxSize) = f). */
const maxSizeFor = (side: number, f: number) => Math.ceil(side / f);

function goldenMask(file: string): Labels {
  const raw = zlib.gunzipSync(fs.readFileSync(path.join(fixturesDir, 'golden', file)));
  const u16 = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { data: Uint32Array.from(u16), width: 400, height: 400 };
}

function crop<T extends PixelArray | Uint32Array>(img: Image2D<T>, width: number, height: number): Image2D<T> {
  const Ctor = img.data.constructor as new (n: number) => T;
  const data = new Ctor(width * height);
  for (let y = 0; y < height; y++) data.set(img.data.subarray(y * img.width, y * img.width + width) as ArrayLike<number>, y * width);
  return { data, width, height };
}

/** A float32 version of `img` with NaN, +Infinity and −Infinity sprinkled in. */
function withSpecials(img: Image2D, seed: number, rate = 0.01): Image2D<Float32Array> {
  const r = rng(seed);
  const data = Float32Array.from(img.data, (v) => {
    const u = r();
    return u < rate ? NaN : u < 1.5 * rate ? Infinity : u < 2 * rate ? -Infinity : v * 1.37 - 11.5;
  });
  return { data, width: img.width, height: img.height };
}

/** Labels of random rectangles (overlapping, touching, on the border), ids 1..n, some dense, some sparse. */
function randomLabels(width: number, height: number, seed: number, n = 12): Labels {
  const r = rng(seed);
  const data = new Uint32Array(width * height);
  for (let id = 1; id <= n; id++) {
    const w = 1 + Math.floor(r() * Math.max(1, width / 3));
    const h = 1 + Math.floor(r() * Math.max(1, height / 3));
    const x0 = Math.floor(r() * width);
    const y0 = Math.floor(r() * height);
    const value = r() < 0.2 ? 0xffffffff - id : id;
    for (let y = y0; y < Math.min(height, y0 + h); y++) data.fill(value, y * width + x0, y * width + Math.min(width, x0 + w));
  }
  return { data, width, height };
}

function randomBackground(dtype: 'uint8' | 'uint16' | 'float32', width: number, height: number, seed: number): Image2D {
  const r = rng(seed);
  const n = width * height;
  if (dtype === 'uint8') return { data: Uint8Array.from({ length: n }, () => Math.floor(r() * 256)), width, height };
  if (dtype === 'uint16') return { data: Uint16Array.from({ length: n }, () => Math.floor(r() * 4096) * (r() < 0.01 ? 16 : 1)), width, height };
  const data = Float32Array.from({ length: n }, () => {
    const u = r();
    return u < 0.03 ? NaN : u < 0.04 ? Infinity : u < 0.05 ? -Infinity : (r() - 0.3) * 1000;
  });
  return { data, width, height };
}

describe(`qcOverlay kernel = the TypeScript renderer, byte for byte [${k.backendName}]`, () => {
  let channels: Image2D[];
  let masks: Labels[];
  beforeAll(async () => {
    channels = await readPlanes(['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f)));
    masks = [goldenMask('example3_wga_nucleus.bin.gz'), goldenMask('example3_wga_cytosol.bin.gz')];
  });

  it('example 3 (uint16 400×400) with its WGA masks: full size and factors 2, 3, 26 (also on a 390² crop)', () => {
    expect(channels[1].data).toBeInstanceOf(Uint16Array);
    for (const bg of channels) {
      for (const f of [1, 2, 3, 7]) expect(expectSameOverlay(bg, masks, { maxSize: maxSizeFor(400, f) })).toBe(f);
      expectSameOverlay(bg, [masks[1], masks[0]], { lowerPercentile: 0, upperPercentile: 100, maxSize: 200 });
      const small = crop(bg, 390, 389);
      const cropped = masks.map((m) => crop(m, 390, 389));
      for (const f of [26, 3, 1]) expect(expectSameOverlay(small, cropped, { maxSize: maxSizeFor(390, f) })).toBe(f);
    }
  });

  it('example 3 as uint8 and as float32 with NaN / ±Infinity', () => {
    const u8: Image2D = { data: Uint8Array.from(channels[1].data, (v) => v >> 4), width: 400, height: 400 };
    const f32 = withSpecials(channels[1], 11);
    for (const bg of [u8, f32, withSpecials(channels[0], 12, 0.2)]) {
      for (const f of [1, 2, 3, 26]) expectSameOverlay(bg, masks, { maxSize: maxSizeFor(400, f) });
      expectSameOverlay(bg, masks, { maxSize: 133, colors: [[12, 34, 56]] });
    }
  });

  it('synthetic images of every dtype, awkward shapes, 0 to 7 masks, factors that do and do not divide', () => {
    const shapes: [number, number][] = [[1, 1], [1, 29], [29, 1], [2, 3], [17, 31], [64, 64], [130, 77], [1, 300]];
    let seed = 1;
    for (const dtype of ['uint8', 'uint16', 'float32'] as const) {
      for (const [h, w] of shapes) {
        const bg = randomBackground(dtype, w, h, seed++);
        for (const n of [0, 1, 2, 7]) {
          const ms = Array.from({ length: n }, (_, i) => randomLabels(w, h, seed * 31 + i, 1 + (i % 3) * 8));
          const side = Math.max(w, h);
          for (const f of new Set([1, 2, 3, 26, side])) {
            if (f <= side) expectSameOverlay(bg, ms, { maxSize: maxSizeFor(side, f) });
          }
        }
      }
    }
  });

  it('float backgrounds the stretch cannot order: all NaN, mostly ±Infinity, constant; NaN-only blocks', () => {
    const W = 23;
    const H = 19;
    const ms = [randomLabels(W, H, 5)];
    const fill = (fn: (i: number) => number): Image2D => ({ data: Float32Array.from({ length: W * H }, (_, i) => fn(i)), width: W, height: H });
    const cases = [
      fill(() => NaN),
      fill((i) => (i % 3 === 0 ? Infinity : i % 3 === 1 ? -Infinity : 1)),
      fill((i) => (i % 5 === 0 ? 2 : Infinity)),
      fill(() => 7.25),
      fill((i) => (Math.floor(i / W) < 3 ? NaN : i % 17)), // the first block rows hold only NaN
      fill((i) => (i % 2 ? 3.4e38 : -3.4e38)),
    ];
    for (const bg of cases) for (const f of [1, 2, 3, 23]) expectSameOverlay(bg, ms, { maxSize: maxSizeFor(W, f) });
  });

  it('rounds as Math.round (ties up; 0.49999999999999994 down) and clamps to 0..255', () => {
    const values = [0, 1, 2, 3, 255];
    const bg: Image2D = { data: Uint8Array.from(values), width: values.length, height: 1 };
    for (const scale of [0.49999999999999994, 0.5, 1.5, 2.5 / 3, 127.5, 1e300, 0]) {
      for (const p0 of [0, -0.5, 0.5, 1e-300, -Infinity, NaN]) {
        const { rgba } = k.qcOverlay(bg, [], { factor: 1, p0, scale, colors: [] });
        values.forEach((v, i) => {
          const g = Math.max(0, Math.min(255, Math.round((v - p0) * scale)));
          expect([scale, p0, v, rgba[4 * i]]).toEqual([scale, p0, v, Number.isNaN(g) ? 0 : g]);
          expect(rgba[4 * i + 3]).toBe(255);
        });
      }
    }
  });

  it('reports progress per mask as the TypeScript path does', () => {
    const bg = randomBackground('uint16', 40, 30, 9);
    const ms = [randomLabels(40, 30, 1), randomLabels(40, 30, 2)];
    const calls = (kernelsOption?: Kernels) => {
      const seen: number[][] = [];
      renderQcOverlay(bg, ms, { kernels: kernelsOption, onProgress: (done, total) => seen.push([done, total]) });
      return seen;
    };
    expect(calls(k)).toEqual(calls());
    expect(calls()).toEqual([[1, 3], [2, 3]]);
  });

  it('the result does not depend on the thread budget', () => {
    const W = 700;
    const H = 450;
    const bg = randomBackground('float32', W, H, 77);
    const ms = [randomLabels(W, H, 3, 200), randomLabels(W, H, 4, 50)];
    for (const f of [1, 2, 3]) {
      const outs = [1, 2, 3].map((t) => renderQcOverlay(bg, ms, { maxSize: maxSizeFor(W, f), kernels: k.withThreads(t) }).rgba);
      for (const o of outs.slice(1)) expect(firstBitDifference(o, outs[0])).toBe(-1);
      expect(firstBitDifference(outs[0], renderQcOverlay(bg, ms, { maxSize: maxSizeFor(W, f) }).rgba)).toBe(-1);
    }
  });
});

describeIfNative('qcOverlay: native and WASM give the same bytes', () => {
  const native = kernels('native');
  const wasm = kernels('wasm');
  it('every dtype, factors 1, 2, 3, 26, with NaN / ±Infinity', () => {
    let seed = 100;
    for (const dtype of ['uint8', 'uint16', 'float32'] as const) {
      for (const [h, w] of [[1, 1], [1, 57], [61, 97], [300, 260]] as [number, number][]) {
        const bg = randomBackground(dtype, w, h, seed++);
        const ms = [randomLabels(w, h, seed++, 30), randomLabels(w, h, seed++, 5)];
        for (const factor of [1, 2, 3, 26]) {
          const params = { factor, p0: 17.5, scale: 0.3, colors: [[0, 255, 255], [255, 0, 255]] };
          const a = native.qcOverlay(bg, ms, params);
          const b = wasm.qcOverlay(bg, ms, params);
          expect([a.width, a.height]).toEqual([b.width, b.height]);
          expect(firstBitDifference(a.rgba, b.rgba)).toBe(-1);
          const side = Math.max(w, h);
          if (factor <= side) {
            const o = { maxSize: maxSizeFor(side, factor) };
            expect(firstBitDifference(renderQcOverlay(bg, ms, { ...o, kernels: native }).rgba, renderQcOverlay(bg, ms, { ...o, kernels: wasm }).rgba)).toBe(-1);
          }
        }
      }
    }
  });
});

describe(`qcOverlay rejects bad input with typed errors [${k.backendName}]`, () => {
  const W = 6;
  const H = 4;
  const bg: Image2D = { data: new Uint16Array(W * H), width: W, height: H };
  const mask: Labels = { data: new Uint32Array(W * H), width: W, height: H };
  const params = { factor: 1, p0: 0, scale: 1, colors: [[1, 2, 3]] };

  it('shapes and dtypes', () => {
    expectInputError(() => k.qcOverlay({ ...bg, data: new Uint16Array(W * H - 1) }, [mask], params), 'ERR_SCSEG_SHAPE', /background/);
    expectInputError(() => k.qcOverlay({ ...bg, data: new Float64Array(W * H) as never }, [mask], params), 'ERR_SCSEG_DTYPE', /background/);
    expectInputError(() => k.qcOverlay({ ...bg, data: new Uint8ClampedArray(W * H) as never }, [mask], params), 'ERR_SCSEG_DTYPE');
    expectInputError(() => k.qcOverlay(bg, [mask, { ...mask, data: new Uint32Array(W * H + 1) }], params), 'ERR_SCSEG_SHAPE', /masks\[1\]/);
    expectInputError(() => k.qcOverlay(bg, [{ ...mask, data: new Int32Array(W * H) as never }], params), 'ERR_SCSEG_DTYPE', /masks\[0\]/);
    expectInputError(() => k.qcOverlay(bg, [{ data: new Uint32Array(W * H), width: H, height: W }], params), 'ERR_SCSEG_SHAPE', /same shape/);
    expectInputError(() => k.qcOverlay(bg, mask as never, params), 'ERR_SCSEG_ARGUMENT', /masks/);
    expectInputError(() => k.qcOverlay({ ...bg, width: 0, data: new Uint16Array(0) }, [], params), 'ERR_SCSEG_SHAPE');
  });

  it('factor, stretch and colours', () => {
    for (const factor of [0, -1, 1.5, NaN, Infinity, '2']) {
      expectInputError(() => k.qcOverlay(bg, [mask], { ...params, factor: factor as number }), 'ERR_SCSEG_ARGUMENT', /factor/);
    }
    expectInputError(() => k.qcOverlay(bg, [mask], { ...params, scale: NaN }), 'ERR_SCSEG_ARGUMENT', /scale/);
    expectInputError(() => k.qcOverlay(bg, [mask], { ...params, scale: -1 }), 'ERR_SCSEG_ARGUMENT', /scale/);
    expectInputError(() => k.qcOverlay(bg, [mask], { ...params, p0: '0' as never }), 'ERR_SCSEG_ARGUMENT', /p0/);
    for (const c of [[256, 0, 0], [-1, 0, 0], [1.5, 0, 0], [1, 2], [1, 2, 3, 4], 'red', null]) {
      expectInputError(() => k.qcOverlay(bg, [mask], { ...params, colors: [c as never] }), 'ERR_SCSEG_ARGUMENT', /colors\[0\]/);
    }
    expectInputError(() => k.qcOverlay(bg, [mask], { ...params, colors: [] }), 'ERR_SCSEG_ARGUMENT', /colors/);
    expectInputError(() => k.qcOverlay(bg, [mask], null as never), 'ERR_SCSEG_ARGUMENT');
    // A huge factor is one block.
    expect(k.qcOverlay(bg, [mask], { ...params, factor: Number.MAX_SAFE_INTEGER })).toMatchObject({ width: 1, height: 1 });
  });

  it('renderQcOverlay rejects bad colours the same way with and without kernels', () => {
    for (const on of [undefined, k]) {
      expectInputError(() => renderQcOverlay(bg, [mask], { colors: [[300, 0, 0]], kernels: on }), 'ERR_SCSEG_ARGUMENT', /colors/);
      expectInputError(() => renderQcOverlay(bg, [mask], { colors: [], kernels: on }), 'ERR_SCSEG_ARGUMENT', /colors/);
    }
  });

  it('the binding itself refuses arrays that do not fit (memory safety)', () => {
    const b = k.backend.bindings;
    const rgba = new Uint8Array(W * H * 4);
    const colors = new Uint8Array([1, 2, 3]);
    const code = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'no error';
    };
    expect(code(() => b.qcOverlay(bg.data, W, H, 1, 0, 1, colors, rgba, 1, [mask.data]))).toBe('no error');
    expect(code(() => b.qcOverlay(bg.data, W, H, 1, 0, 1, colors, rgba.subarray(4), 1, [mask.data]))).toBe('ERR_SCSEG_SHAPE');
    expect(code(() => b.qcOverlay(bg.data, W, H, 2, 0, 1, colors, rgba, 1, [mask.data]))).toBe('ERR_SCSEG_SHAPE');
    expect(code(() => b.qcOverlay(bg.data, W, H, 1, 0, 1, colors, rgba, 1, [mask.data.subarray(1)]))).toBe('ERR_SCSEG_SHAPE');
    expect(code(() => b.qcOverlay(bg.data, W, H, 1, 0, 1, colors, rgba, 1, [mask.data, mask.data]))).toBe('ERR_SCSEG_SHAPE');
    expect(code(() => b.qcOverlay(bg.data, W, H, 1, 0, 1, colors, rgba, 1, [new Int32Array(W * H) as never]))).toBe('ERR_SCSEG_DTYPE');
    expect(code(() => b.qcOverlay(bg.data, W, H, 1, 0, 1, colors, rgba, 1, mask.data as never))).toBe('ERR_SCSEG_ARGUMENT');
    expect(code(() => b.qcOverlay(bg.data, W, H, 0, 0, 1, colors, rgba, 1, [mask.data]))).toBe('ERR_SCSEG_ARGUMENT');
    expect(code(() => b.qcOverlay(bg.data, W, H, 1, 0, 1, colors, rgba, 0, [mask.data]))).toBe('ERR_SCSEG_ARGUMENT');
  });
});
