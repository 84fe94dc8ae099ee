/** Channel selection cases 1–3 of scPortrait's documentation, plus defaults and out-of-range errors. */
import { loadConfig } from '../../lib/config/index.js';
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { assertFitsInMemory, selectChannels, stackReader, type ChannelReader } from '../../lib/segmentation/channels.js';
import type { MaskStacks } from '../../lib/workflows/types.js';

const W = 4;
const H = 3;
// Channel c holds value (c + 1) * 10 + i at pixel i, except channel 2 which is larger on odd pixels only.
const planes: Image2D<Uint16Array>[] = [0, 1, 2, 3].map((c) => ({
  data: Uint16Array.from({ length: W * H }, (_, i) => (c === 2 ? (i % 2 ? 1000 + i : i) : (c + 1) * 10 + i)),
  width: W,
  height: H,
}));

function reader(): ChannelReader & { reads: number[] } {
  const reads: number[] = [];
  return {
    reads,
    channelCount: planes.length,
    width: W,
    height: H,
    dtype: 'uint16',
    readChannel: async (c) => {
      reads.push(c);
      return planes[c];
    },
  };
}

const base = `
WGASegmentation:
  median_filter_size: 4
  nucleus_segmentation: { median_block: 41, median_step: 4, threshold: 0.2, speckle_kernel: 9, peak_footprint: 7, min_distance: 8, dilation: 0 }
  cytosol_segmentation: { threshold: 0.05, erosion: 2, dilation: 7, min_clip: 0, max_clip: 0.2 }
`;
const wga = (extra: string) => loadConfig({ text: base + extra.replace(/^/gm, '  ') }, 'WGASegmentation').config;
const max = (a: Uint16Array, b: Uint16Array) => Array.from(a, (v, i) => Math.max(v, b[i]));
/** Both stacks hold exactly one plane for the classical workflows. */
function stacks(s: MaskStacks): { nucleus: Image2D[]; cytosol: Image2D[] } {
  expect(s.nucleus).toHaveLength(1);
  expect(s.cytosol).toHaveLength(1);
  return { nucleus: s.nucleus!, cytosol: s.cytosol! };
}

describe('channel selection', () => {
  it('defaults to nucleus = channel 0, cytosol = channel 1 and reads only those', async () => {
    const r = reader();
    const { nucleus: [nuc], cytosol: [cyt] } = stacks(await selectChannels(r, wga(''), ['nucleus', 'cytosol']));
    expect(nuc).toBe(planes[0]);
    expect(cyt).toBe(planes[1]);
    expect(r.reads.sort()).toEqual([0, 1]);
  });

  it('case 1: combine_*_channels take the maximum-intensity projection', async () => {
    const r = reader();
    const { nucleus: [nuc], cytosol: [cyt] } = stacks(await selectChannels(r, wga('combine_nucleus_channels: [0, 2]\ncombine_cytosol_channels: [1, 2]'), ['nucleus', 'cytosol']));
    expect(Array.from(nuc.data)).toEqual(max(planes[0].data, planes[2].data));
    expect(Array.from(cyt.data)).toEqual(max(planes[1].data, planes[2].data));
    expect(nuc.data).toBeInstanceOf(Uint16Array);
    expect(r.reads.sort()).toEqual([0, 1, 2]);
  });

  it('case 2: segmentation_channel_* select other channels', async () => {
    const r = reader();
    const { nucleus: [nuc], cytosol: [cyt] } = stacks(await selectChannels(r, wga('segmentation_channel_nuclei: [2]\nsegmentation_channel_cytosol: [3]'), ['nucleus', 'cytosol']));
    expect(nuc).toBe(planes[2]);
    expect(cyt).toBe(planes[3]);
    expect(r.reads.sort()).toEqual([2, 3]);
  });

  it('case 3: selection for one mask, combination for the other; combine supersedes select', async () => {
    const r = reader();
    const cfg = wga('segmentation_channel_nuclei: [2]\ncombine_cytosol_channels: [1, 3]\nsegmentation_channel_cytosol: [0]');
    const { nucleus: [nuc], cytosol: [cyt] } = stacks(await selectChannels(r, cfg, ['nucleus', 'cytosol']));
    expect(nuc).toBe(planes[2]);
    expect(Array.from(cyt.data)).toEqual(max(planes[1].data, planes[3].data));
    expect(r.reads).not.toContain(0);
  });

  it('out-of-range indices are an InputError naming the key and the channel count', async () => {
    await expect(selectChannels(reader(), wga('segmentation_channel_nuclei: [7]'), ['nucleus', 'cytosol'])).rejects.toThrow(
      new InputError('channel 7 (segmentation_channel_nuclei) is out of range: the input has 4 channels (valid indices 0–3)'),
    );
    const two: ChannelReader = { ...reader(), channelCount: 1 };
    await expect(selectChannels(two, wga(''), ['nucleus', 'cytosol'])).rejects.toThrow(/channel 1 \(the default cytosol channel\) is out of range: the input has 1 channel \(/);
  });

  it('CytosolOnlySegmentationCellpose gets its whole stack: cytosol channels then the nucleus cue, none lost', async () => {
    const text = `CytosolOnlySegmentationCellpose:
  segmentation_channel_cytosol: [3]
  segmentation_channel_nuclei: [1]
  cytosol_segmentation: { model: cyto2 }
`;
    const cfg = loadConfig({ text }, 'CytosolOnlySegmentationCellpose').config;
    const r = reader();
    const s = await selectChannels(r, cfg, ['cytosol']);
    expect(s.cytosol).toEqual([planes[3], planes[1]]);
    expect(s.nucleus).toBeUndefined();
    expect(r.reads.sort()).toEqual([1, 3]);
  });

  it('a stack reader gives the same selection for any window', async () => {
    const cfg = wga('combine_nucleus_channels: [0, 2]\nsegmentation_channel_cytosol: [3]');
    const whole = await selectChannels(reader(), cfg, ['nucleus', 'cytosol']);
    const win = { x: 1, y: 1, width: 2, height: 2 };
    const part = await stackReader(reader(), cfg, ['nucleus', 'cytosol']).read(win);
    for (const m of ['nucleus', 'cytosol'] as const) {
      const expected = Array.from({ length: 4 }, (_, i) => whole[m]![0].data[(1 + (i >> 1)) * W + 1 + (i & 1)]);
      expect(Array.from(part[m]![0].data)).toEqual(expected);
    }
  });
});

describe('assertFitsInMemory: refused from the header, before any pixel is read', () => {
  // Limits as the WASM build exports them (native/limits.hpp), on a reader that cannot read: a refusal must
  // come before any decoding.
  const wasm = {
    backendName: 'wasm' as const,
    backend: {
      limits: {
        maxMedianRadius: 4096, maxMorphologyRadius: 4096, maxPeakFootprintRadius: 4096, maxMedianBlock: 4095, maxThreads: 64,
        maxPixels: 2 ** 27, maxFastMarchingPixels: 2 ** 26, maxTravelWatershedPixels: 3 * 2 ** 24, maxCellposePixels: 2 ** 25,
        maxCellposeIterations: 2 ** 20,
      },
    },
  };
  const header = (width: number, height: number): ChannelReader => ({
    channelCount: 2, width, height, dtype: 'uint16', paths: ['big.tif'],
    readChannel: () => Promise.reject(new Error('must not be read')),
  });
  const refused = (f: () => void, ...fragments: RegExp[]) => {
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).code).toBe('ERR_SCSEG_TOO_LARGE');
    for (const m of fragments) expect((caught as Error).message).toMatch(m);
  };

  it("the workflow's largest kernels bound it: fast marching, WGA's march + flood, Cellpose's dynamics", () => {
    const wga = { name: 'WGASegmentation', capacity: ['maxFastMarchingPixels', 'maxTravelWatershedPixels'] } as const;
    const dapi = { name: 'DAPISegmentation', capacity: ['maxFastMarchingPixels'] } as const;
    const cellpose = { name: 'DAPISegmentationCellpose', capacity: ['maxCellposePixels'] } as const;
    // 8192² is within the WASM backend's pixels (2^27) and fast marching (2^26), not its march + flood (3 · 2^24)
    refused(() => assertFitsInMemory(header(8192, 8192), wasm, undefined, wga),
      /^big\.tif: 8192×8192 is more than WGASegmentation can hold on the WASM backend \(50331648 pixels in its 4 GiB memory\); use the native backend, or segment it sharded \(--shard-size/);
    expect(() => assertFitsInMemory(header(7094, 7094), wasm, undefined, wga)).not.toThrow();
    expect(() => assertFitsInMemory(header(8192, 8192), wasm, undefined, dapi)).not.toThrow();
    refused(() => assertFitsInMemory(header(8200, 8200), wasm, undefined, dapi), /DAPISegmentation can hold on the WASM backend \(67108864 pixels/);
    refused(() => assertFitsInMemory(header(6000, 6000), wasm, undefined, cellpose), /DAPISegmentationCellpose can hold on the WASM backend \(33554432 pixels/);
    expect(() => assertFitsInMemory(header(5792, 5792), wasm, undefined, cellpose)).not.toThrow();
    // without a workflow (or one with no such kernel), only the plain pixel bound
    expect(() => assertFitsInMemory(header(8200, 8200), wasm)).not.toThrow();
    expect(() => assertFitsInMemory(header(8200, 8200), wasm, undefined, { name: 'CytosolSegmentationDownsamplingCellpose', capacity: [] })).not.toThrow();
    refused(() => assertFitsInMemory(header(12000, 12000), wasm), /12000×12000/);
  });

  it("the machine's memory bounds it: 16 bytes per pixel at least", () => {
    const native = { backendName: 'native' as const, backend: { limits: { ...wasm.backend.limits, maxPixels: 2 ** 53 - 1, maxFastMarchingPixels: 2 ** 53 - 1, maxTravelWatershedPixels: 2 ** 53 - 1, maxCellposePixels: 2 ** 31 - 1 } } };
    refused(() => assertFitsInMemory(header(10000, 10000), native, 1.5e9, { name: 'WGASegmentation', capacity: ['maxTravelWatershedPixels'] }), /needs at least 1\.5 GiB to segment in memory, more than this machine's 1\.4 GiB/);
    expect(() => assertFitsInMemory(header(10000, 10000), native, 2e9, { name: 'WGASegmentation', capacity: ['maxTravelWatershedPixels'] })).not.toThrow();
  });
});
