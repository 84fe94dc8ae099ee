/**
 * The bad-input catalogue: one entry per case, each run through the API (api.test.ts) and the CLI (cli.test.ts).
 * A case writes its own tiny input into a fresh directory and says which error it expects: the code, and
 * fragments of the message (which must name the file, the key path or the pixel).
 * Also in the catalogue, beside these: a full disk (disk-full.test.ts), 1×1 and 1×N images (tiny-images.test.ts),
 * a second run into the same folder without --overwrite (test/cli/results-folder.test.ts), SIGINT / SIGTERM
 * mid-run on a terminal (test/cli/terminal.test.ts, results-folder.test.ts; Cellpose runs in test/cli/cellpose.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import YAML from 'yaml';
import { exampleData } from '../helpers/fixtures.js';
import { escapeRegExp, OUTPUT_FILE } from './expect.js';
import {
  bytesOf, noise16, patchH5Dims, tiffBytes, writeH5, writeNpy, writeTiff, writeZarr,
} from './files.js';

export const CONFIG3 = path.join(exampleData, 'config_example3.yml');

export interface CaseRun {
  /** Input path(s). */
  input: string[];
  /** Config file (default: scPortrait's example 3). */
  config?: string;
  /** Default DAPISegmentation (one channel). */
  workflow?: string;
  /** Default `<dir>/out`. */
  output?: string;
}

export interface BadInputCase {
  name: string;
  /** The input format the case is about (undefined: not about one format). */
  format?: 'tiff' | 'npy' | 'h5' | 'zarr';
  setup(dir: string): CaseRun | Promise<CaseRun>;
  /** The InputError / ConfigError code. */
  code: string;
  /** Fragments the message must contain (the case's directory and run, to name files). */
  message(dir: string, run: CaseRun): (string | RegExp)[];
  /**
   * A config key given a wrong value: the CLI checks all edits of one group in one run (the config then holds all
   * of them, and the message lists each key), to keep the spawns few; the API checks each alone.
   */
  configEdit?: { group: string; workflow: string; key: string; value: unknown };
  /** Lines the CLI prints to stderr (default 1: one message). */
  lines?: number;
  /** The output directory existed before the run, with these files, which must stay byte for byte. */
  previous?: Record<string, string>;
}

const W = 32;
const H = 24;
const plane = (seed = 1) => noise16(W * H, seed);

/** A config file: example 3's text with `edit` applied to its DAPISegmentation section's lines. */
export function dapiConfig(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, body);
  return file;
}

/** example 3's DAPISegmentation section as a standalone config, one key replaced (path a.b → value text). */
export function dapiWith(key: string, value: string): string {
  const lines = [
    'DAPISegmentation:',
    '  input_channels: 1',
    '  chunk_size: 50',
    '  cache: "."',
    '  lower_quantile_normalization: 0.001',
    '  upper_quantile_normalization: 0.999',
    '  median_filter_size: 4',
    '  filter_masks_size: True',
    '  nucleus_segmentation:',
    '    lower_quantile_normalization: 0.01',
    '    upper_quantile_normalization: 0.99',
    '    median_block: 41',
    '    median_step: 4',
    '    threshold: 0.2',
    '    speckle_kernel: 9',
    '    peak_footprint: 7',
    '    min_distance: 8',
    '    dilation: 0',
    '    min_size: 200',
    '    max_size: 5000',
    '    contact_filter: 0.5',
  ];
  const [section, leaf] = key.includes('.') ? key.split('.') : [null, key];
  const indent = section ? '    ' : '  ';
  const at = lines.findIndex((l, i) => l.startsWith(`${indent}${leaf}:`) &&
    (section === null ? !lines.slice(lines.indexOf('  nucleus_segmentation:')).includes(l) : i > lines.indexOf(`  ${section}:`)));
  const line = `${indent}${leaf}: ${value}`;
  if (at >= 0) lines[at] = line;
  else if (section) lines.splice(lines.indexOf(`  ${section}:`) + 1, 0, line);
  else lines.splice(1, 0, line);
  return `${lines.join('\n')}\n`;
}

const file = (dir: string, name: string) => path.join(dir, name);

function truncate(p: string, keep: number | ((size: number) => number)): string {
  const bytes = fs.readFileSync(p);
  fs.writeFileSync(p, bytes.subarray(0, typeof keep === 'number' ? keep : keep(bytes.length)));
  return p;
}

export const CASES: BadInputCase[] = [
  // ---- truncated files ---------------------------------------------------------------------------------------
  {
    name: 'truncated TIFF (strips cut off)', format: 'tiff', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [truncate(writeTiff(file(d, 'cut.tif'), [plane()], W, H), (n) => n >> 1)] }),
    message: (_d, r) => [r.input[0], /truncated/],
  },
  {
    name: 'truncated Deflate TIFF', format: 'tiff', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => {
      // the strip's tail is missing; its byte count still claims all of it
      const p = file(d, 'cut-deflate.tif');
      const strip = zlib.deflateSync(bytesOf(plane()));
      const page = { width: W, height: H, bits: 16 as const, format: 1 as const, compression: 8 as const };
      fs.writeFileSync(p, tiffBytes([{ ...page, strip: strip.subarray(0, strip.length >> 1), byteCount: strip.length }]));
      return { input: [p] };
    },
    message: (_d, r) => [r.input[0], /truncated|corrupt/],
  },
  {
    name: 'truncated .npy', format: 'npy', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [truncate(writeNpy(file(d, 'cut.npy'), plane(), [1, H, W]), (n) => n - 100)] }),
    message: (_d, r) => [r.input[0], /truncated .npy: \d+ bytes, header implies \d+/],
  },
  {
    name: 'truncated .h5', format: 'h5', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: async (d) => ({ input: [truncate(await writeH5(file(d, 'cut.h5'), plane(), [1, H, W]), (n) => n >> 1)] }),
    message: (_d, r) => [r.input[0], /truncated/],
  },
  {
    name: 'truncated OME-Zarr chunk', format: 'zarr', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({
      input: [writeZarr(file(d, 'cut.ome.zarr'), Uint16Array, [1, H, W], [1, H, W], { '0/0/0': bytesOf(plane()).subarray(0, 100) })],
    }),
    message: (_d, r) => [r.input[0], /chunk/],
  },
  // ---- lying headers: dimensions larger than the data ----------------------------------------------------------
  {
    name: 'TIFF header larger than its strip', format: 'tiff', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [writeTiff(file(d, 'lying.tif'), [plane()], W * 2, H * 2)] }),
    message: (_d, r) => [r.input[0]],
  },
  {
    name: 'Deflate TIFF header larger than its strip decodes to', format: 'tiff', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [writeTiff(file(d, 'lying-deflate.tif'), [plane()], W * 2, H * 2, 8)] }),
    message: (_d, r) => [r.input[0], /decodes to \d+ bytes, expected \d+/],
  },
  {
    name: '.npy header larger than its data', format: 'npy', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [writeNpy(file(d, 'lying.npy'), plane(), [1, H * 2, W * 2])] }),
    message: (_d, r) => [r.input[0], /truncated/],
  },
  {
    name: '.h5 dataspace larger than its contiguous storage', format: 'h5', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: async (d) => {
      const p = await writeH5(file(d, 'lying.h5'), plane(), [1, H, W], { earliest: true });
      if (patchH5Dims(p, [1, H, W], [1, H * 2, W * 2]) === 0) throw new Error('dataspace not found');
      return { input: [p] };
    },
    message: (_d, r) => [r.input[0], 'invalid dataset size'],
  },
  {
    name: 'OME-Zarr .zarray larger than its chunk', format: 'zarr', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({
      input: [writeZarr(file(d, 'lying.ome.zarr'), Uint16Array, [1, H * 2, W * 2], [1, H * 2, W * 2], { '0/0/0': bytesOf(plane()) })],
    }),
    message: (_d, r) => [r.input[0], /chunk/],
  },
  // ---- zero-byte files -------------------------------------------------------------------------------------------
  ...(['tif', 'npy', 'h5'] as const).map((ext): BadInputCase => ({
    name: `zero-byte .${ext}`, format: ext === 'tif' ? 'tiff' : ext, code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => {
      fs.writeFileSync(file(d, `empty.${ext}`), '');
      return { input: [file(d, `empty.${ext}`)] };
    },
    message: (_d, r) => [r.input[0], 'empty file'],
  })),
  {
    name: 'zero-byte OME-Zarr .zarray', format: 'zarr', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => {
      const dir = writeZarr(file(d, 'empty.ome.zarr'), Uint16Array, [1, H, W], [1, H, W], { '0/0/0': bytesOf(plane()) });
      fs.writeFileSync(path.join(dir, '0', '.zarray'), '');
      return { input: [dir] };
    },
    message: (_d, r) => [path.join(r.input[0], '0', '.zarray')],
  },
  {
    name: 'zero-byte OME-Zarr chunk', format: 'zarr', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [writeZarr(file(d, 'empty-chunk.ome.zarr'), Uint16Array, [1, H, W], [1, H, W], { '0/0/0': new Uint8Array(0) })] }),
    message: (_d, r) => [r.input[0], /chunk/],
  },
];

// ---- a 65535² header on a tiny file: refused before anything that size is allocated ------------------------------
const HUGE = 65535;
CASES.push(
  {
    name: '65535² TIFF header over one tiny uncompressed strip', format: 'tiff', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [writeTiff(file(d, 'huge.tif'), [plane()], HUGE, HUGE)] }),
    message: (_d, r) => [r.input[0], /truncated TIFF: page 0 strip 0 ends at byte \d+, file has \d+/],
  },
  {
    name: '65535² TIFF header over one tiny Deflate strip', format: 'tiff', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [writeTiff(file(d, 'huge-deflate.tif'), [plane()], HUGE, HUGE, 8)] }),
    message: (_d, r) => [r.input[0], /strip 0 holds \d+ bytes of Deflate, which cannot decode to the 8589672450 bytes its 65535×65535 header implies/],
  },
  {
    name: '65535² .npy header on a tiny file', format: 'npy', code: 'ERR_SCSEG_IO_CORRUPT',
    setup: (d) => ({ input: [writeNpy(file(d, 'huge.npy'), plane(), [1, HUGE, HUGE])] }),
    message: (_d, r) => [r.input[0], /truncated .npy: \d+ bytes, header implies 8589672578/],
  },
  {
    // valid HDF5 (chunks never written read as the fill value), just too large to segment in memory
    name: '65535² chunked .h5 dataset with no chunks written', format: 'h5', code: 'ERR_SCSEG_TOO_LARGE',
    setup: async (d) => {
      const p = await writeH5(file(d, 'huge.h5'), plane(), [1, H, W], { chunks: [1, 8, 8], earliest: true });
      if (patchH5Dims(p, [1, H, W], [1, HUGE, HUGE]) === 0) throw new Error('dataspace not found');
      return { input: [p] };
    },
    message: (_d, r) => [r.input[0], /65535×65535/, /segment it sharded \(--shard-size/],
  },
  {
    name: '65535² OME-Zarr with no chunks written', format: 'zarr', code: 'ERR_SCSEG_TOO_LARGE',
    setup: (d) => ({ input: [writeZarr(file(d, 'huge.ome.zarr'), Uint16Array, [1, HUGE, HUGE], [1, 256, 256], {})] }),
    message: (_d, r) => [r.input[0], /65535×65535/, /segment it sharded \(--shard-size/],
  },
);

// ---- NaN / Inf pixels: named by file and (x, y) ---------------------------------------------------------------
function withValue(value: number, x: number, y: number): Float32Array {
  const out = Float32Array.from(plane(), (v) => v / 4096);
  out[y * W + x] = value;
  return out;
}
CASES.push(
  {
    name: 'NaN pixel in a float32 TIFF', format: 'tiff', code: 'ERR_SCSEG_VALUE',
    setup: (d) => ({ input: [writeTiff(file(d, 'nan.tif'), [withValue(Number.NaN, 7, 3)], W, H)] }),
    message: (_d, r) => [r.input[0], 'pixel (x 7, y 3) is NaN'],
  },
  {
    name: 'Inf pixel in a float32 .npy', format: 'npy', code: 'ERR_SCSEG_VALUE',
    setup: (d) => ({ input: [writeNpy(file(d, 'inf.npy'), withValue(Infinity, 2, 10), [1, H, W])] }),
    message: (_d, r) => [r.input[0], 'pixel (x 2, y 10) is Infinity'],
  },
  {
    name: '-Inf pixel in a float32 .h5', format: 'h5', code: 'ERR_SCSEG_VALUE',
    setup: async (d) => ({ input: [await writeH5(file(d, 'ninf.h5'), withValue(-Infinity, W - 1, H - 1), [1, H, W])] }),
    message: (_d, r) => [r.input[0], `pixel (x ${W - 1}, y ${H - 1}) is -Infinity`],
  },
  {
    name: 'NaN pixel in a float32 OME-Zarr', format: 'zarr', code: 'ERR_SCSEG_VALUE',
    setup: (d) => ({ input: [writeZarr(file(d, 'nan.ome.zarr'), Float32Array, [1, H, W], [1, H, W], { '0/0/0': bytesOf(withValue(Number.NaN, 0, 0)) })] }),
    message: (_d, r) => [r.input[0], 'pixel (x 0, y 0) is NaN'],
  },
  {
    name: 'NaN pixel in the second of two channel TIFFs (WGA)', format: 'tiff', code: 'ERR_SCSEG_VALUE',
    setup: (d) => ({
      input: [writeTiff(file(d, 'c0.tif'), [withValue(1, 0, 0)], W, H), writeTiff(file(d, 'c1.tif'), [withValue(Number.NaN, 5, 6)], W, H)],
      workflow: 'WGASegmentation',
    }),
    message: (_d, r) => [r.input[1], 'pixel (x 5, y 6) is NaN'],
  },
);

// ---- unsupported dtypes ----------------------------------------------------------------------------------------
CASES.push(
  {
    name: 'int16 TIFF', format: 'tiff', code: 'ERR_SCSEG_DTYPE',
    setup: (d) => ({ input: [writeTiff(file(d, 'i16.tif'), [new Int16Array(W * H)], W, H)] }),
    message: (_d, r) => [r.input[0], 'unsupported pixel type int16', 'supported: uint8, uint16, float32'],
  },
  {
    name: 'float64 TIFF', format: 'tiff', code: 'ERR_SCSEG_DTYPE',
    setup: (d) => ({ input: [writeTiff(file(d, 'f64.tif'), [new Float64Array(W * H)], W, H)] }),
    message: (_d, r) => [r.input[0], 'unsupported pixel type float64'],
  },
  {
    name: 'int16 .npy', format: 'npy', code: 'ERR_SCSEG_DTYPE',
    setup: (d) => ({ input: [writeNpy(file(d, 'i16.npy'), new Int16Array(W * H), [1, H, W])] }),
    message: (_d, r) => [r.input[0], "unsupported .npy dtype '<i2'"],
  },
  {
    name: 'big-endian uint16 .npy', format: 'npy', code: 'ERR_SCSEG_DTYPE',
    setup: (d) => ({ input: [writeNpy(file(d, 'be.npy'), plane(), [1, H, W], '>u2')] }),
    message: (_d, r) => [r.input[0], "unsupported .npy dtype '>u2' (big-endian"],
  },
  {
    name: 'float64 .h5', format: 'h5', code: 'ERR_SCSEG_DTYPE',
    setup: async (d) => ({ input: [await writeH5(file(d, 'f64.h5'), new Float64Array(W * H), [1, H, W])] }),
    message: (_d, r) => [r.input[0], 'dataset channels has unsupported dtype float64'],
  },
  {
    name: 'int16 OME-Zarr', format: 'zarr', code: 'ERR_SCSEG_DTYPE',
    setup: (d) => ({ input: [writeZarr(file(d, 'i16.ome.zarr'), Int16Array, [1, H, W], [1, H, W], { '0/0/0': new Uint8Array(W * H * 2) })] }),
    message: (_d, r) => [r.input[0], 'unsupported dtype int16'],
  },
);

// ---- channel index out of range --------------------------------------------------------------------------------
CASES.push(
  {
    name: 'WGA on a one-channel TIFF (default cytosol channel 1)', format: 'tiff', code: 'ERR_SCSEG_CHANNELS',
    setup: (d) => ({ input: [writeTiff(file(d, 'one.tif'), [plane()], W, H)], workflow: 'WGASegmentation' }),
    message: (_d, r) => [r.input[0], 'channel 1 (the default cytosol channel) is out of range: the input has 1 channel'],
  },
  {
    name: 'segmentation_channel_nuclei 5 on a two-channel .npy', format: 'npy', code: 'ERR_SCSEG_CHANNELS',
    setup: (d) => ({
      input: [writeNpy(file(d, 'two.npy'), noise16(2 * W * H), [2, H, W])],
      config: dapiConfig(d, 'config.yml', dapiWith('segmentation_channel_nuclei', '5')),
    }),
    message: (_d, r) => [r.input[0], 'channel 5 (segmentation_channel_nuclei) is out of range: the input has 2 channels (valid indices 0–1)'],
  },
  {
    name: 'combine_nucleus_channels [0, 3] on a two-channel .h5', format: 'h5', code: 'ERR_SCSEG_CHANNELS',
    setup: async (d) => ({
      input: [await writeH5(file(d, 'two.h5'), noise16(2 * W * H), [2, H, W])],
      config: dapiConfig(d, 'config.yml', dapiWith('combine_nucleus_channels', '[0, 3]')),
    }),
    message: (_d, r) => [r.input[0], 'channel 3 (combine_nucleus_channels) is out of range'],
  },
  {
    name: 'WGA on a one-channel OME-Zarr', format: 'zarr', code: 'ERR_SCSEG_CHANNELS',
    setup: (d) => ({
      input: [writeZarr(file(d, 'one.ome.zarr'), Uint16Array, [1, H, W], [1, H, W], { '0/0/0': bytesOf(plane()) })],
      workflow: 'WGASegmentation',
    }),
    message: (_d, r) => [r.input[0], 'channel 1 (the default cytosol channel) is out of range'],
  },
);

// ---- configs: every key with a wrong type, YAML that is not a mapping, unknown workflow ----------------------------
const CLASSICAL_NUCLEUS = {
  lower_quantile_normalization: 0.01, upper_quantile_normalization: 0.99, median_block: 41, median_step: 4, threshold: 0.2,
  speckle_kernel: 9, peak_footprint: 7, min_distance: 8, dilation: 0, min_size: 200, max_size: 5000, contact_filter: 0.5,
  confidence_interval: 0.9,
};
const BASE_CONFIGS: Record<string, Record<string, unknown>> = {
  WGASegmentation: {
    input_channels: 2, output_masks: 2, output_channels: 2, chunk_size: 50, cache: '.', filter_status: true, shard_size: 1e9,
    overlap_px: 100, threads: 1, nGPUs: 0, filter_masks_size: true, match_masks: true, filtering_threshold_mask_matching: 0.95,
    segmentation_channel_nuclei: 0, segmentation_channel_cytosol: 1, lower_quantile_normalization: 0.001,
    upper_quantile_normalization: 0.999, median_filter_size: 4, nucleus_segmentation: CLASSICAL_NUCLEUS,
    cytosol_segmentation: {
      threshold: 0.15, lower_quantile_normalization: 0.01, upper_quantile_normalization: 0.99, erosion: 2, dilation: 7,
      min_clip: 0, max_clip: 0.2, min_size: 200, max_size: 30000, contact_filter: 0.5, confidence_interval: 0.9,
    },
  },
  DAPISegmentationCellpose: {
    nucleus_segmentation: {
      model: 'nuclei', normalize: true, diameter: 10, resample: true, rescale: 1, flow_threshold: 0.4, cellprob_threshold: 0,
      models_dir: '.', fix_label_gap_quirk: false,
    },
  },
  NuclearExpansionSegmentationCellpose: { kernel_size: 20, nucleus_segmentation: { model: 'nuclei' } },
  CytosolSegmentationDownsamplingCellpose: {
    downsampling_factor: 2, smoothing_kernel_size: 2, nucleus_segmentation: { model: 'nuclei' }, cytosol_segmentation: { model: 'cyto2' },
  },
};

/** Every key the workflows read, with a value of the wrong type for it. */
const WRONG_TYPES: [workflow: string, key: string, value: unknown][] = [
  ...['input_channels', 'output_masks', 'output_channels', 'chunk_size', 'shard_size', 'overlap_px', 'threads', 'nGPUs',
    'median_filter_size'].map((k) => ['WGASegmentation', k, 'many'] as [string, string, unknown]),
  ['WGASegmentation', 'cache', ['a', 'b']],
  ...['filter_status', 'filter_masks_size', 'match_masks'].map((k) => ['WGASegmentation', k, 'sometimes'] as [string, string, unknown]),
  ...['filtering_threshold_mask_matching', 'lower_quantile_normalization', 'upper_quantile_normalization']
    .map((k) => ['WGASegmentation', k, 'high'] as [string, string, unknown]),
  ['WGASegmentation', 'segmentation_channel_nuclei', 'dapi'],
  ['WGASegmentation', 'segmentation_channel_cytosol', { c: 1 }],
  ['WGASegmentation', 'combine_nucleus_channels', '0, 1'],
  ['WGASegmentation', 'combine_cytosol_channels', 1],
  ['WGASegmentation', 'nucleus_segmentation', 5],
  ['WGASegmentation', 'cytosol_segmentation', 'defaults'],
  ...Object.keys(CLASSICAL_NUCLEUS).map((k) => ['WGASegmentation', `nucleus_segmentation.${k}`, 'x'] as [string, string, unknown]),
  ...['lower_quantile_normalization', 'upper_quantile_normalization'].map((k) => ['WGASegmentation', `cytosol_segmentation.${k}`, 'x'] as [string, string, unknown]),
  ...['threshold', 'erosion', 'dilation', 'min_clip', 'max_clip',
    'min_size', 'max_size', 'contact_filter', 'confidence_interval'].map((k) => ['WGASegmentation', `cytosol_segmentation.${k}`, [1]] as [string, string, unknown]),
  ...['normalize', 'resample', 'fix_label_gap_quirk'].map((k) => ['DAPISegmentationCellpose', `nucleus_segmentation.${k}`, 'yes please'] as [string, string, unknown]),
  ...['diameter', 'rescale', 'flow_threshold', 'cellprob_threshold'].map((k) => ['DAPISegmentationCellpose', `nucleus_segmentation.${k}`, 'big'] as [string, string, unknown]),
  ...['model', 'models_dir'].map((k) => ['DAPISegmentationCellpose', `nucleus_segmentation.${k}`, 7] as [string, string, unknown]),
  ['NuclearExpansionSegmentationCellpose', 'kernel_size', 'wide'],
  ['CytosolSegmentationDownsamplingCellpose', 'downsampling_factor', 'half'],
  ['CytosolSegmentationDownsamplingCellpose', 'smoothing_kernel_size', 2.5],
];

function setKey(config: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(config);
  const parts = key.split('.');
  let at = copy;
  for (const p of parts.slice(0, -1)) at = at[p] as Record<string, unknown>;
  at[parts[parts.length - 1]] = value;
  return copy;
}

/** Edits that hide each other go to separate CLI runs: a whole section replaced, combine_* (superseding selection). */
function editGroup(workflow: string, key: string): string {
  if (key === 'nucleus_segmentation' || key === 'cytosol_segmentation') return `${workflow}/sections`;
  return key.startsWith('combine_') ? `${workflow}/combine` : `${workflow}/keys`;
}

/** The config of `workflow` with every edit applied, as a file in `dir`. */
export function editedConfig(dir: string, workflow: string, edits: readonly { key: string; value: unknown }[]): string {
  let config = BASE_CONFIGS[workflow];
  for (const { key, value } of edits) config = setKey(config, key, value);
  return dapiConfig(dir, 'config.yml', YAML.stringify({ [workflow]: config }));
}

/** Any run's input for a config case: two channels, so that every workflow could read it. */
export function configCaseInput(dir: string): string {
  return writeTiff(file(dir, 'two.tif'), [plane(1), plane(2)], W, H);
}

CASES.push(...WRONG_TYPES.map(([workflow, key, value]): BadInputCase => ({
  name: `config ${workflow}.${key}: ${JSON.stringify(value)}`, code: 'ERR_SCSEG_CONFIG',
  configEdit: { group: editGroup(workflow, key), workflow, key, value },
  setup: (d) => ({ input: [configCaseInput(d)], config: editedConfig(d, workflow, [{ key, value }]), workflow }),
  message: () => [new RegExp(`^(scseg: )?${escapeRegExp(`${workflow}.${key}`)}: must be .*, got .*\\(line \\d+\\)`, 'm')],
})));

CASES.push(
  ...([['a list', '- a\n- b\n', /a list/], ['a string', 'just some text\n', /"just some text"/], ['empty', '', /an empty document/]] as const)
    .map(([what, text, got]): BadInputCase => ({
      name: `config YAML that is ${what}, not a mapping`, code: 'ERR_SCSEG_CONFIG',
      setup: (d) => ({ input: [writeTiff(file(d, 'one.tif'), [plane()], W, H)], config: dapiConfig(d, 'config.yml', text) }),
      message: (d) => [path.join(d, 'config.yml'), /must be a mapping of keys/, got],
    })),
  {
    name: 'config YAML with a syntax error', code: 'ERR_SCSEG_CONFIG',
    setup: (d) => ({ input: [writeTiff(file(d, 'one.tif'), [plane()], W, H)], config: dapiConfig(d, 'config.yml', 'DAPISegmentation: [\n') }),
    message: (d) => [path.join(d, 'config.yml'), /YAML syntax error at line \d+/],
  },
  {
    name: 'unknown workflow', code: 'ERR_SCSEG_WORKFLOW',
    setup: (d) => ({ input: [writeTiff(file(d, 'one.tif'), [plane()], W, H)], workflow: 'WGASegmentaton' }),
    message: () => [/unknown workflow "WGASegmentaton"/],
  },
);

// ---- the output path ----------------------------------------------------------------------------------------------
CASES.push(
  {
    name: 'output path that is a file', code: 'ERR_SCSEG_IO_WRITE',
    setup: (d) => ({ input: [writeTiff(file(d, 'one.tif'), [plane()], W, H)], output: file(d, 'results') }),
    previous: { [OUTPUT_FILE]: 'a file, not a folder\n' },
    message: (d) => [`output directory ${file(d, 'results')} is a file`],
  },
  {
    name: 'output path through a file', code: 'ERR_SCSEG_IO_WRITE',
    setup: (d) => {
      fs.writeFileSync(file(d, 'blocker'), 'x');
      return { input: [writeTiff(file(d, 'one.tif'), [plane()], W, H)], output: path.join(file(d, 'blocker'), 'results') };
    },
    message: (d) => [`${file(d, 'blocker')} is a file, not a directory`],
  },
);
