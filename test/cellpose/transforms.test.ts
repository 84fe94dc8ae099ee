/**
 * Cellpose 3.1.1.3's pre-processing and tiling (lib/cellpose/transforms.ts) against Cellpose's own outputs:
 * test/fixtures/cellpose-transforms/, made by scripts/fixtures/make_cellpose_transform_fixtures.py from small real
 * crops (channel conversion + normalize_img, cv2 resize, get_pad_yx, make_tiles, average_tiles, the whole run_net
 * with a stand-in network). Every float32 output is compared bit for bit. The code is pure TypeScript: it runs the
 * same under both backend settings (the test files run under both).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  averageTiles, cellposeInput, expCorrectlyRounded, cropChannels, cutTiles, minMaxScale, normalizeCellpose, numpyPercentile, padImage,
  padding, rescaledSize, resizeLinear, runTiled, runTiledRegion, taperMask, tileGrid, type ChannelImage,
} from '../../lib/cellpose/transforms.js';
import { kernels } from '../../lib/kernels/index.js';
import type { Image2D, PixelArray } from '../../lib/image.js';
import { expectInputError } from '../helpers/errors.js';
import { exampleData, firstBitDifference, fixturesDir, hashNoise, readPlanes } from '../helpers/fixtures.js';

interface Ref { file?: string; dtype?: 'uint8' | 'uint16' | 'float32'; shape: number[]; sha256?: string }
const dir = path.join(fixturesDir, 'cellpose-transforms');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

function readRef(ref: Ref): PixelArray {
  const raw = gunzipSync(fs.readFileSync(path.join(dir, ref.file!)));
  const bytes = new Uint8Array(raw.byteLength);
  bytes.set(raw);
  if (ref.dtype === 'uint8') return bytes;
  return ref.dtype === 'uint16' ? new Uint16Array(bytes.buffer) : new Float32Array(bytes.buffer);
}
const sha256 = (a: Float32Array) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/** Bit-for-bit equality with a stored array, or with a sha256 (reporting the first differing element when stored). */
function expectSame(actual: Float32Array, ref: Ref): void {
  if (ref.file) {
    const expected = readRef(ref) as Float32Array;
    const at = firstBitDifference(actual, expected);
    if (at !== -1) throw new Error(`first difference at ${at}: ${actual[at]} vs ${expected[at]} (of ${expected.length})`);
  }
  if (ref.sha256) expect(sha256(actual)).toBe(ref.sha256);
}

const plane = (ref: Ref): Image2D => ({ data: readRef(ref), width: ref.shape[1], height: ref.shape[0] });
const inputs: Record<string, Image2D> = {};
for (const [k, v] of Object.entries(manifest.inputs)) if (typeof v !== 'string') inputs[k] = plane(v as Ref);

/** The generator's stand-in network: outputs (x0, x1, x0 − x1) per tile. */
const identityNet = (tiles: Float32Array, count: number, h: number, w: number): Float32Array => {
  const hw = h * w;
  const out = new Float32Array(count * 3 * hw);
  for (let k = 0; k < count; k++) {
    for (let i = 0; i < hw; i++) {
      const a = tiles[k * 2 * hw + i];
      const b = tiles[(k * 2 + 1) * hw + i];
      out[k * 3 * hw + i] = a;
      out[(k * 3 + 1) * hw + i] = b;
      out[(k * 3 + 2) * hw + i] = a - b;
    }
  }
  return out;
};

const f32 = Math.fround;

describe('channel conversion and normalize_img (bit for bit)', () => {
  for (const c of manifest.normalize) {
    it(`${c.name}: channels [${c.channels}]`, () => {
      const planes = (c.planes as string[]).map((p) => inputs[p]);
      const converted = cellposeInput(planes, c.channels);
      expect([converted.height, converted.width, converted.channels]).toEqual(c.expected.shape);
      expectSame(converted.data, c.converted);
      expectSame(normalizeCellpose(converted).data, c.expected);
    });
  }
  for (const c of manifest.minMax ?? []) {
    it(`normalize: false — scPortrait's min-max scaling, ${c.name}`, () => {
      const planes = (c.planes as string[]).map((p) => inputs[p]);
      const src = c.float32 ? planes.map((p) => ({ ...p, data: Float32Array.from(p.data, (v) => f32(v * f32(c.float32))) })) : planes;
      const x = cellposeInput(minMaxScale(src), c.channels);
      expectSame(x.data, c.expected);
    });
  }
  it('more than 224³ pixels: percentiles on the strided subsample, as Cellpose', () => {
    const c = manifest.normalizeLarge;
    expect(c.differsFromWholeImagePercentiles).toBe(true);
    const [h, w] = [3360, 3368];
    const data = hashNoise(c.seed, h * w);
    for (let i = 0; i < c.rowsTimes3 * w; i++) data[i] = f32(data[i] * 3);
    const x = normalizeCellpose(cellposeInput([{ data, width: w, height: h }], [1, 0]));
    expect(sha256(x.data)).toBe(c.sha256);
  });
  it('the percentiles (selected by two counting passes) equal numpy percentile of the sorted values, any sign, many ties', () => {
    let seed = 7;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const cases: Float32Array[] = [
      Float32Array.from({ length: 10007 }, () => (next() - 0.5) * 1e6), // both signs, wide range
      Float32Array.from({ length: 5000 }, () => Math.floor(next() * 4) - 2), // four values only, −0 and +0 among them
      Float32Array.from({ length: 3 }, () => next()),
      Float32Array.from([1e-40, -1e-40, 0, 3.4e38, -3.4e38, 7]), // subnormals and extremes
    ];
    for (const values of cases) {
      const img = { data: Float32Array.from(values, (v) => v), width: values.length, height: 1, channels: 1 };
      const sorted = Float32Array.from(values).sort();
      const [p1, p99] = [numpyPercentile(sorted, 1), numpyPercentile(sorted, 99)];
      const expected = Float32Array.from(values, (v) => (p99 - p1 > 1e-3 ? f32(f32(v - f32(p1)) / f32(p99 - p1)) : 0));
      expect(firstBitDifference(normalizeCellpose(img).data, expected)).toBe(-1);
    }
  });

  it('numpy percentile: the lerp endpoints and one element', () => {
    expect(numpyPercentile([5], 1)).toBe(5);
    expect(numpyPercentile([0, 10], 99)).toBeCloseTo(9.9, 12);
    expect(numpyPercentile([0, 1, 2, 3], 50)).toBe(1.5);
  });
});

describe('cv2.resize INTER_LINEAR on float32 (bit for bit)', () => {
  const sources: Record<string, ChannelImage> = {};
  const base = normalizeCellpose(cellposeInput([inputs.bbbc039, {
    data: Uint16Array.from({ length: 64 * 70 }, (_, i) => (inputs.bbbc039.data as Uint16Array)[64 * 70 - 1 - i]), width: 70, height: 64,
  }], [1, 2]));
  sources.even_64x70 = base;
  sources.odd_41x47 = cropChannels(base, 0, 0, 41, 47);
  sources.noise_37x29x3 = { data: hashNoise(11, 37 * 29 * 3), width: 29, height: 37, channels: 3 };
  for (const c of manifest.resize) {
    const what = c.rsz !== undefined ? `rescale ${c.rsz.toFixed(4)}` : `to ${c.size.join('×')}`;
    it(`${c.source} ${what} → ${c.shape.slice(0, 2).join('×')}`, () => {
      const src = sources[c.source];
      const size = c.rsz !== undefined ? rescaledSize(src.height, src.width, c.rsz) : { height: c.size[0], width: c.size[1] };
      const out = resizeLinear(src, size.height, size.width);
      expect([out.height, out.width, out.channels]).toEqual(c.shape.length === 3 ? c.shape : [...c.shape, 1]);
      expectSame(out.data, c.expected);
    });
  }
  it('the same size is a copy; 1 pixel up and down', () => {
    const one: ChannelImage = { data: new Float32Array([0.25, -1]), width: 1, height: 1, channels: 2 };
    expect(Array.from(resizeLinear(one, 3, 2).data)).toEqual([0.25, -1, 0.25, -1, 0.25, -1, 0.25, -1, 0.25, -1, 0.25, -1]);
    const img: ChannelImage = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2, channels: 1 };
    expect(Array.from(resizeLinear(img, 2, 2).data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(resizeLinear(img, 1, 1).data)).toEqual([2.5]); // OpenCV's 2×2 area path
  });
});

describe('padding and the tile grid (exact)', () => {
  for (const p of manifest.pads as { size: number[]; pad: number[] }[]) {
    it(`get_pad_yx ${p.size.join('×')}`, () => {
      const q = padding(p.size[0], p.size[1]);
      expect([q.top, q.bottom, q.left, q.right]).toEqual(p.pad);
    });
  }
  for (const t of manifest.tiles as { size: number[]; ysub: number[][]; xsub: number[][]; Ly: number; Lx: number }[]) {
    it(`make_tiles ${t.size.join('×')}`, () => {
      const g = tileGrid(t.size[0], t.size[1]);
      expect(g.ysub).toEqual(t.ysub);
      expect(g.xsub).toEqual(t.xsub);
      expect([g.height, g.width]).toEqual([t.Ly, t.Lx]);
      expect(g.ny * g.nx).toBe(t.ysub.length);
    });
  }
  it('padImage / cutTiles place the pixels where make_tiles does', () => {
    const img: ChannelImage = { data: Float32Array.from({ length: 5 * 3 * 2 }, (_, i) => i + 1), width: 3, height: 5, channels: 2 };
    const pad = padding(5, 3);
    const padded = padImage(img, pad);
    expect([padded.height, padded.width]).toEqual([32, 32]);
    const g = tileGrid(padded.height, padded.width);
    const tiles = cutTiles(padded, g);
    expect(tiles.length).toBe(2 * 32 * 32);
    expect(tiles[pad.top * 32 + pad.left]).toBe(1); // channel 0 of pixel (0, 0)
    expect(tiles[32 * 32 + pad.top * 32 + pad.left]).toBe(2); // channel 1
    expect(tiles[(pad.top + 4) * 32 + pad.left + 2]).toBe(29);
  });
});

describe('taper mask and average_tiles (bit for bit)', () => {
  // Cellpose's taper is float64 with numpy's exp, which is machine-dependent (numpy's own AVX512F exp, libm's
  // elsewhere). Ours uses a correctly rounded exp: equal to Cellpose's formula with glibc's exp bit for bit, and
  // within 3e-16 (relative) of numpy's AVX512F values — which change no float32 output of the fixtures below.
  it("the taper's middle row: libm's values exactly, numpy-AVX512's within 3e-16", () => {
    const row = Array.from(taperMask(224, 224).subarray(112 * 224, 113 * 224));
    expect(row).toEqual(manifest.taper224.row112Libm);
    const numpyRow = manifest.taper224.row112 as number[];
    for (let i = 0; i < 224; i++) expect(Math.abs(row[i] - numpyRow[i])).toBeLessThanOrEqual(3e-16 * numpyRow[i]);
  });
  it('exp correctly rounded on the taper arguments and beyond', () => {
    for (const x of [0, 1, -1, 2.4666666666666666, -12.2, 0.5, -0.6]) expect(Math.abs(expCorrectlyRounded(x) / Math.exp(x) - 1)).toBeLessThan(3e-16);
    expect(expCorrectlyRounded(0)).toBe(1);
  });
  for (const c of manifest.average) {
    it(`${c.size.join('×')}: ${c.tiles} tiles × ${c.nout} outputs`, () => {
      const g = tileGrid(c.size[0], c.size[1]);
      const y = hashNoise(c.seed, g.ysub.length * c.nout * g.tileHeight * g.tileWidth);
      const out = averageTiles(y, c.nout, g);
      expect(sha256(out)).toBe(c.sha256);
      if (c.expected) expectSame(out, c.expected);
    });
  }
});

describe('run_net + resample with a stand-in network (bit for bit)', () => {
  let full: Image2D[] = [];
  beforeAll(async () => {
    full = await readPlanes([path.join(exampleData, 'Ch1.tif'), path.join(exampleData, 'Ch2.tif')]);
  });
  for (const c of manifest.runNet) {
    it(`${c.name}: rescale ${c.rescale.toFixed(4)}`, async () => {
      const planes = c.planes[0] === 'example3_full_nuc' ? full : (c.planes as string[]).map((p) => inputs[p]);
      const x = normalizeCellpose(cellposeInput(planes, c.channels));
      let calls = 0;
      const out = await runTiled(x, (t, n, h, w) => {
        calls++;
        expect(n).toBeLessThanOrEqual(8);
        return identityNet(t, n, h, w);
      }, { rescale: c.rescale });
      expect([out.height, out.width, out.channels]).toEqual(c.shape);
      expect(calls).toBeGreaterThan(0);
      expect(sha256(out.data)).toBe(c.sha256);
    });
  }
  for (const c of manifest.styles as { name: string; style: number[] }[]) {
    it(`style of ${c.name}: summed over tiles and L2-normalised as run_net`, async () => {
      const planes = c.name.startsWith('example3_full') ? full : [inputs.example3_nuc];
      const x = normalizeCellpose(cellposeInput(planes, c.name.startsWith('example3_full') ? [2, 1] : [1, 0]));
      const out = await runTiled(x, (t, n, h, w) => {
        const style = new Float32Array(n * 256);
        for (let k = 0; k < n; k++) for (let j = 0; j < 256; j++) style[k * 256 + j] = t[k * 2 * h * w + ((j * 7) % h) * w + ((j * 13) % w)];
        return { output: identityNet(t, n, h, w), style };
      });
      const expected = Float32Array.from(c.style);
      let worst = 0;
      for (let j = 0; j < 256; j++) worst = Math.max(worst, Math.abs(out.style![j] - expected[j]) / Math.abs(expected[j] || 1));
      expect(worst).toBeLessThanOrEqual(1.2e-7); // ≤ 1 ulp (float32)
      expect(firstBitDifference(out.style!, expected)).toBe(-1);
    });
  }
  it('an all-zero style gives zeros (Cellpose: NaN), without styles null', async () => {
    const x = normalizeCellpose(cellposeInput([inputs.example3_nuc], [1, 0]));
    const out = await runTiled(x, (t, n, h, w) => ({ output: identityNet(t, n, h, w), style: new Float32Array(n * 256) }));
    expect(Array.from(out.style!)).toEqual(new Array(256).fill(0));
    expect((await runTiled(x, identityNet)).style).toBeNull();
    expect(manifest.runNet[0].styleAllNaN).toBe(true);
  });
  it('without resample the outputs stay at the rescaled size', async () => {
    const x = normalizeCellpose(cellposeInput([inputs.example3_nuc], [1, 0]));
    const out = await runTiled(x, identityNet, { rescale: 0.5, resample: false });
    expect([out.height, out.width]).toEqual([48, 40]);
  });
});

describe(`average_tiles on the ${process.env.SCSEG_BACKEND ?? 'auto'} kernels (cellposeBlendTiles): Cellpose's bits`, () => {
  const k1 = kernels(undefined, { threads: 1 });
  const k2 = kernels(undefined, { threads: 2 });
  const blend1 = k1.cellposeBlendTiles.bind(k1);
  const blend2 = k2.cellposeBlendTiles.bind(k2);
  for (const c of manifest.average) {
    it(`${c.size.join('×')}: ${c.tiles} tiles × ${c.nout} outputs`, () => {
      const g = tileGrid(c.size[0], c.size[1]);
      const y = hashNoise(c.seed, g.ysub.length * c.nout * g.tileHeight * g.tileWidth);
      const origins = Int32Array.from(g.ysub.flatMap((ys, k) => [ys[0], g.xsub[k][0]]));
      const tiles = { y, origins, mask: taperMask(g.tileHeight, g.tileWidth), channels: c.nout, tileHeight: g.tileHeight, tileWidth: g.tileWidth };
      const out = blend2(tiles, { width: g.width, height: g.height });
      expect(sha256(out)).toBe(c.sha256);
      expect(firstBitDifference(blend1(tiles, { width: g.width, height: g.height }), out)).toBe(-1);
    });
  }
  for (const c of manifest.runNet.slice(0, 3)) {
    it(`run_net of ${c.name} (rescale ${c.rescale.toFixed(4)}) blended by the kernel`, async () => {
      if (c.planes[0] === 'example3_full_nuc') return;
      const x = normalizeCellpose(cellposeInput((c.planes as string[]).map((p) => inputs[p]), c.channels));
      const out = await runTiled(x, identityNet, { rescale: c.rescale, blend: blend2 });
      expect(sha256(out.data)).toBe(c.sha256);
    });
  }
  it('a window whose tiles reach past it on every side: the same bits as the JavaScript blending', async () => {
    const whole = { width: 700, height: 530 };
    const img: ChannelImage = { data: hashNoise(7, 2 * whole.width * whole.height), width: whole.width, height: whole.height, channels: 2 };
    const region = { x: 111, y: 97, width: 389, height: 301 };
    const win = cropChannels(img, region.y, region.x, region.height, region.width);
    const js = await runTiledRegion(win, region, whole, identityNet);
    for (const blend of [blend1, blend2]) {
      const viaKernel = await runTiledRegion(win, region, whole, identityNet, { blend });
      expect([viaKernel.width, viaKernel.height, viaKernel.channels]).toEqual([js.width, js.height, js.channels]);
      expect(firstBitDifference(viaKernel.planes, js.planes)).toBe(-1);
    }
  });
  it('bad tiles are a typed error naming what is wrong', () => {
    const mask = taperMask(4, 4);
    const good = { y: new Float32Array(2 * 16), origins: Int32Array.of(0, 0, 2, 2), mask, channels: 1, tileHeight: 4, tileWidth: 4 };
    expect(blend1(good, { width: 6, height: 6 })).toHaveLength(36);
    expectInputError(() => blend1({ ...good, y: new Float32Array(31) }, { width: 6, height: 6 }), 'ERR_SCSEG_SHAPE', /y must have 32 values/);
    expectInputError(() => blend1({ ...good, origins: Int32Array.of(0, 0, 2) }, { width: 6, height: 6 }), 'ERR_SCSEG_SHAPE', /origins/);
    expectInputError(() => blend1({ ...good, mask: new Float64Array(15) }, { width: 6, height: 6 }), 'ERR_SCSEG_SHAPE', /mask/);
    expectInputError(() => blend1({ ...good, y: new Float64Array(32) as never }, { width: 6, height: 6 }), 'ERR_SCSEG_DTYPE', /Float32Array/);
    expectInputError(() => blend1({ ...good, channels: 0 }, { width: 6, height: 6 }), 'ERR_SCSEG_ARGUMENT', /channels/);
    expectInputError(() => blend1(good, { width: 0, height: 6 }), 'ERR_SCSEG_ARGUMENT', /width/);
    // a pixel no tile covers is 0 / 0, as in the JavaScript blending
    const far = blend1({ ...good, origins: Int32Array.of(100, 100, -50, 3) }, { width: 6, height: 6 });
    expect(far.every(Number.isNaN)).toBe(true);
  });
});

describe('edge cases and bad input', () => {
  it('1-pixel and tiny images run through the whole chain', async () => {
    for (const [h, w] of [[1, 1], [2, 3], [5, 1]]) {
      const p: Image2D = { data: Uint16Array.from({ length: h * w }, (_, i) => i * 7), width: w, height: h };
      const x = normalizeCellpose(cellposeInput([p], [1, 0]));
      const out = await runTiled(x, identityNet, { rescale: 1.3 });
      expect([out.height, out.width, out.channels]).toEqual([h, w, 3]);
      for (const v of out.data) expect(Number.isFinite(v)).toBe(true);
    }
  });
  it('an all-zero channel stays zero; a constant image is left unnormalised', () => {
    const zero: Image2D = { data: new Uint16Array(12), width: 4, height: 3 };
    const flat: Image2D = { data: new Uint16Array(12).fill(9), width: 4, height: 3 };
    const x = normalizeCellpose(cellposeInput([zero, flat], [2, 1]));
    expect(Array.from(x.data.filter((_, i) => i % 2 === 0))).toEqual(new Array(12).fill(9));
    expect(Array.from(x.data.filter((_, i) => i % 2 === 1))).toEqual(new Array(12).fill(0));
  });
  it('[0, 0] on two planes averages them in float32; one plane ignores the channel setting', () => {
    const a: Image2D = { data: new Float32Array([1, 2]), width: 2, height: 1 };
    const b: Image2D = { data: new Float32Array([2, 4]), width: 2, height: 1 };
    expect(Array.from(cellposeInput([a, b], [0, 0]).data)).toEqual([1.5, 0, 3, 0]);
    expect(Array.from(cellposeInput([b], [2, 1]).data)).toEqual([2, 0, 4, 0]);
  });
  it('minMaxScale: the whole input (all planes) to [0, 1]; constant → zeros', () => {
    const a: Image2D = { data: new Uint16Array([2, 4, 6]), width: 3, height: 1 };
    const b: Image2D = { data: new Uint16Array([10, 2, 3]), width: 3, height: 1 };
    expect(minMaxScale([a, b]).map((p) => Array.from(p.data))).toEqual([[0, 0.25, 0.5], [1, 0, f32(1 / 8)]]);
    const flat: Image2D = { data: new Float32Array([3, 3]), width: 2, height: 1 };
    expect(Array.from(minMaxScale([flat])[0].data)).toEqual([0, 0]);
  });
  it('NaN, bad shapes and bad settings → InputError', async () => {
    const nan: Image2D = { data: new Float32Array([1, NaN]), width: 2, height: 1 };
    expectInputError(() => cellposeInput([nan], [1, 0]), 'ERR_SCSEG_VALUE', /NaN/);
    const img: ChannelImage = { data: new Float32Array([1, NaN]), width: 1, height: 1, channels: 2 };
    expectInputError(() => normalizeCellpose(img), 'ERR_SCSEG_VALUE', /NaN/);
    expectInputError(() => minMaxScale([nan]), 'ERR_SCSEG_VALUE', /NaN/);
    const p: Image2D = { data: new Uint16Array(4), width: 2, height: 2 };
    expectInputError(() => cellposeInput([p, p], [3, 1]), 'ERR_SCSEG_ARGUMENT', /plane 3/);
    expectInputError(() => cellposeInput([p, { data: new Uint16Array(3), width: 3, height: 1 }], [2, 1]), 'ERR_SCSEG_SHAPE');
    expectInputError(() => cellposeInput([], [1, 0]), 'ERR_SCSEG_SHAPE');
    expectInputError(() => resizeLinear({ data: new Float32Array(3), width: 2, height: 1, channels: 1 }, 2, 2), 'ERR_SCSEG_SHAPE');
    expectInputError(() => resizeLinear({ data: new Float32Array(2), width: 2, height: 1, channels: 1 }, 0, 2), 'ERR_SCSEG_SHAPE');
    expectInputError(() => rescaledSize(10, 10, 0), 'ERR_SCSEG_ARGUMENT');
    expectInputError(() => rescaledSize(10, 10, NaN), 'ERR_SCSEG_ARGUMENT');
    expectInputError(() => tileGrid(0, 5), 'ERR_SCSEG_SHAPE');
    expectInputError(() => averageTiles(new Float32Array(5), 1, tileGrid(4, 4)), 'ERR_SCSEG_SHAPE');
    const x: ChannelImage = { data: new Float32Array(2 * 4), width: 2, height: 2, channels: 2 };
    await expect(runTiled(x, identityNet, { rescale: 0.1 })).rejects.toMatchObject({ code: 'ERR_SCSEG_ARGUMENT' });
    await expect(runTiled(x, () => new Float32Array(1))).rejects.toMatchObject({ code: 'ERR_SCSEG_SHAPE' });
  });
});
