/**
 * The bad-input catalogue: one entry per case, each run through the API (api.test.ts) and the CLI (cli.test.ts).
 * A case writes its own tiny input into a fresh directory and says which error it expects: the code, and
 * fragments of the message (which must name the file, the key path or the pixel).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { exampleData } from '../helpers/fixtures.js';
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
