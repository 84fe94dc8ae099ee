/**
 * The workflow contract on real images: the global pass, streamed band by band, gives the very values a whole-image
 * run computes; and a window pass over a window with ≥ 100 px margins, given those values, reproduces every cell
 * whose centre lies in the window's core with exactly the pixels it has in the whole-image run (ids may differ:
 * they are numbered per run). That includes ties between nuclei: the global pass replays the whole image's
 * marker order, which the window's floods follow.
 */
import path from 'node:path';
import { loadConfig } from '../../lib/config/index.js';
import type { DapiConfig, SegmentationConfig, WgaConfig, WorkflowAlias } from '../../lib/config/types.js';
import type { Image2D, PixelWindow } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { planesReader, selectChannels, stackReader } from '../../lib/segmentation/channels.js';
import { workflowFor, type ClassicalGlobals } from '../../lib/workflows/index.js';
import type { LabelImage, SegmentationResult } from '../../lib/workflows/types.js';
import { DAPI_BBBC039_CONFIG, exampleData, imagesDir, readPlanes } from '../helpers/fixtures.js';

const MARGIN = 100;

/** Pixel indices of every id (row-major, whole-image coordinates of `origin` + local position). */
function cells(mask: LabelImage, origin: PixelWindow = { x: 0, y: 0, width: mask.width, height: mask.height }) {
  const out = new Map<number, { pixels: number[]; cy: number; cx: number }>();
  const { data, width } = mask;
  for (let i = 0; i < data.length; i++) {
    const id = data[i];
    if (!id) continue;
    const y = origin.y + Math.floor(i / width);
    const x = origin.x + (i % width);
    let c = out.get(id);
    if (!c) out.set(id, (c = { pixels: [], cy: 0, cx: 0 }));
    c.pixels.push(y * 1_000_000 + x);
    c.cy += y;
    c.cx += x;
  }
  for (const c of out.values()) {
    c.cy /= c.pixels.length;
    c.cx /= c.pixels.length;
  }
  return out;
}

const inside = (w: PixelWindow, y: number, x: number) => y >= w.y && y < w.y + w.height && x >= w.x && x < w.x + w.width;

/** Cores tiling the image (multiples of `align`), each with its window grown by MARGIN and clipped to the image. */
function grid(width: number, height: number, nx: number, ny: number, align: number) {
  const cut = (len: number, n: number) =>
    Array.from({ length: n + 1 }, (_, i) => (i === n ? len : Math.round((len * i) / n / align) * align));
  const xs = cut(width, nx);
  const ys = cut(height, ny);
  const out: { core: PixelWindow; window: PixelWindow }[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const core = { x: xs[i], y: ys[j], width: xs[i + 1] - xs[i], height: ys[j + 1] - ys[j] };
      const x0 = Math.max(0, core.x - MARGIN);
      const y0 = Math.max(0, core.y - MARGIN);
      const x1 = Math.min(width, core.x + core.width + MARGIN);
      const y1 = Math.min(height, core.y + core.height + MARGIN);
      out.push({ core, window: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } });
    }
  }
  return out;
}

interface Case {
  name: string;
  workflow: WorkflowAlias;
  config: { path: string } | { text: string };
  files: string[];
  tiles: [number, number];
}

const bbbc = path.join(imagesDir, 'bbbc039', 'IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif');
// The BBBC039 config with size and contact filters.
const dapiLocal = `${DAPI_BBBC039_CONFIG}    min_size: 30
    max_size: 2000
    contact_filter: 0.5
  filter_masks_size: true
`;
// Global Otsu branch, no top-level normalisation (the median then replaces the input), uint8 input.
const dapiOtsu = `DAPISegmentation:
  median_filter_size: 1
  nucleus_segmentation:
    min_distance: 5
    peak_footprint: 4
    speckle_kernel: 2
    dilation: 1
`;
// WGA without top-level normalisation and with an Otsu cytosol threshold: the other global values.
const wgaOtsu = `WGASegmentation:
  median_filter_size: 4
  nucleus_segmentation:
    lower_quantile_normalization: 0.01
    upper_quantile_normalization: 0.99
    median_block: 41
    median_step: 4
    threshold: 0.2
    speckle_kernel: 9
    peak_footprint: 7
    min_distance: 8
    dilation: 0
  cytosol_segmentation:
    lower_quantile_normalization: 0.01
    upper_quantile_normalization: 0.99
    erosion: 2
    dilation: 7
    min_clip: 0
    max_clip: 0.2
`;

// Automatic size thresholds (filter_masks_size without min_size/max_size): fitted to the whole image's cells.
const wgaAuto = wgaOtsu.replace('WGASegmentation:\n', 'WGASegmentation:\n  filter_masks_size: true\n');
const dapiAuto = dapiLocal.replace('    min_size: 30\n    max_size: 2000\n', '');
const bbbc2 = path.join(imagesDir, 'bbbc039', 'IXMtest_C07_s5_w12C9F2926-A017-4962-8660-72C9C20C86E4.tif');

const ex3 = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
const cases: Case[] = [
  { name: 'WGA, example 3, its config', workflow: 'WGASegmentation', config: { path: path.join(exampleData, 'config_example3.yml') }, files: ex3, tiles: [2, 2] },
  { name: 'WGA, example 3, Otsu cytosol, no input normalisation', workflow: 'WGASegmentation', config: { text: wgaOtsu }, files: ex3, tiles: [2, 2] },
  { name: 'DAPI, BBBC039, local threshold + filters', workflow: 'DAPISegmentation', config: { text: dapiLocal }, files: [bbbc], tiles: [3, 2] },
  { name: 'WGA, example 3, automatic size thresholds', workflow: 'WGASegmentation', config: { text: wgaAuto }, files: ex3, tiles: [2, 2] },
  { name: 'DAPI, BBBC039 C07, automatic size thresholds', workflow: 'DAPISegmentation', config: { text: dapiAuto }, files: [bbbc2], tiles: [3, 2] },
  { name: 'DAPI, DSB 256 (uint8), Otsu', workflow: 'DAPISegmentation', config: { text: dapiOtsu }, files: [path.join(imagesDir, 'dsb_nuclei', 'dsb_256_image.tif')], tiles: [2, 1] },
];

describe.each(cases)(`window pass = whole image inside the core: %s [${kernels().backendName}]`, (c) => {
  const ctx = { kernels: kernels() };
  let config: SegmentationConfig;
  let input: Image2D[];
  let whole: SegmentationResult;
  beforeAll(async () => {
    config = loadConfig(c.config, c.workflow).config;
    input = await readPlanes(c.files);
    whole = await workflowFor(c.workflow).run(ctx, await selectChannels(planesReader(input), config, workflowFor(c.workflow).descriptor.masks), config);
  });

  it('the streamed global pass gives exactly the values of the whole-image run, and the marker order of all markers', async () => {
    const wf = workflowFor(c.workflow);
    const streamed = (await wf.globalPass(ctx, stackReader(planesReader(input), config, wf.descriptor.masks), config)) as ClassicalGlobals;
    const { nucleusMarkerOrder, cytosolMarkerOrder, ...statistics } = streamed;
    expect(statistics).toEqual(whole.globals);
    expect(Object.keys(statistics).length).toBeGreaterThan(0);
    // Every rank once; markers in raster order.
    for (const order of [nucleusMarkerOrder, cytosolMarkerOrder].filter((o) => o !== undefined)) {
      expect([...order!.ranks].sort((a, b) => a - b)).toEqual(Array.from(order!.ranks, (_, i) => i));
      expect(order!.indices.every((v, i) => i === 0 || v > order!.indices[i - 1])).toBe(true);
    }
    expect(nucleusMarkerOrder!.ranks.length).toBeGreaterThan(10);
    expect(cytosolMarkerOrder !== undefined).toBe(c.workflow === 'WGASegmentation');
  });

  it('the global values streamed over 160 px tiles (marker order, size thresholds) equal those of a single tile', async () => {
    const wf = workflowFor(c.workflow);
    const reader = stackReader(planesReader(input), config, wf.descriptor.masks);
    const single = await wf.globalPass(ctx, reader, config, { tileSize: 4096 });
    const tiled = await wf.globalPass(ctx, reader, config, { tileSize: 160 });
    expect(tiled).toEqual(single);
  });

  it('every core-centred cell has its whole-image pixels', async () => {
    const wf = workflowFor(c.workflow);
    const reader = stackReader(planesReader(input), config, wf.descriptor.masks);
    const globals = await wf.globalPass(ctx, reader, config);
    const { width, height } = input[0];
    const nucleus = (config as WgaConfig | DapiConfig).nucleus.thresholding;
    const step = nucleus.kind === 'local' ? nucleus.medianStep : 1;
    let checked = 0;
    for (const { core, window } of grid(width, height, c.tiles[0], c.tiles[1], step)) {
      const part = await wf.windowPass(ctx, await reader.read(window), config, globals, { window, imageWidth: width, imageHeight: height });
      whole.masks.forEach((mask, m) => {
        const expected = [...cells(mask).values()].filter((cell) => inside(core, cell.cy, cell.cx));
        const got = cells(part.masks[m], window);
        const gotInCore = [...got.values()].filter((cell) => inside(core, cell.cy, cell.cx));
        expect(gotInCore.length).toBe(expected.length);
        const byFirstPixel = new Map(gotInCore.map((cell) => [cell.pixels[0], cell.pixels]));
        for (const cell of expected) {
          expect(byFirstPixel.get(cell.pixels[0])).toEqual(cell.pixels);
          checked++;
        }
      });
    }
    expect(checked).toBeGreaterThan(10);
  });
});
