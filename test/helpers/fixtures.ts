import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Image2D, KernelArray, PixelArray } from '../../lib/image.js';
import { openImage } from '../../lib/io/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');
/** scPortrait example 3 (Ch1/Ch2/Ch3.tif + config_example3.yml), shipped with the package (data/example3/README.md). */
export const exampleData = path.join(repoRoot, 'data', 'example3');
/** Small real fields committed for the tests: bbbc039/, dsb_nuclei/ (test/fixtures/images/README.md). */
export const imagesDir = path.join(fixturesDir, 'images');

export interface ArrayRef {
  file: string;
  dtype: 'uint8' | 'uint16' | 'float32' | 'float64';
  shape: number[];
}

const CTORS = { uint8: Uint8Array, uint16: Uint16Array, float32: Float32Array, float64: Float64Array } as const;

export function readArray(dir: string, ref: ArrayRef): KernelArray {
  const buf = fs.readFileSync(path.join(dir, ref.file));
  const Ctor = CTORS[ref.dtype];
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Ctor(copy.buffer, 0, buf.byteLength / Ctor.BYTES_PER_ELEMENT);
}

export function readImage(dir: string, ref: ArrayRef): Image2D {
  const [height, width] = ref.shape;
  return { data: readArray(dir, ref) as PixelArray, width, height };
}

/** Index of the first element whose bit pattern differs, or -1 (NaN-safe, distinguishes -0 and +0). */
export function firstBitDifference(a: KernelArray, b: KernelArray): number {
  if (a.constructor !== b.constructor) return 0;
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return Math.floor(i / a.BYTES_PER_ELEMENT);
  return -1;
}

/** Deterministic pseudo-random generator (mulberry32) for test images. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
/** An integer in [0, n) from `r`. */
export const int = (r: Rand, n: number): number => Math.floor(r() * n);
/** One of `xs`, chosen by `r`. */
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

/**
 * The Cellpose fixture generators' hash_noise: uniform in [−1, 1), (fmix32(seed · 0x9E3779B1 + i) & 0xFFFF −
 * 32768) / 32768 — multiples of 2⁻¹⁵, exact in float32 (and so the same numbers read as float64).
 */
export function hashNoise(seed: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const base = Math.imul(seed, 0x9e3779b1);
  for (let i = 0; i < count; i++) {
    let h = (base + i) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    out[i] = ((h & 0xffff) - 32768) / 32768;
  }
  return out;
}

/** Every channel of `files` (one multi-channel file, or one file per channel) as in-memory planes. */
export async function readPlanes(files: string[]): Promise<Image2D[]> {
  const src = await openImage(files);
  try {
    return await Promise.all(Array.from({ length: src.channelCount }, (_, i) => src.readChannel(i)));
  } finally {
    await src.close();
  }
}

/** A DAPI config for the BBBC039 fields (local threshold; no filters). */
export const DAPI_BBBC039_CONFIG = `DAPISegmentation:
  lower_quantile_normalization: 0.001
  upper_quantile_normalization: 0.999
  median_filter_size: 2
  nucleus_segmentation:
    lower_quantile_normalization: 0.01
    upper_quantile_normalization: 0.99
    median_block: 41
    median_step: 4
    threshold: 0.1
    min_distance: 6
    peak_footprint: 5
    speckle_kernel: 3
    dilation: 0
`;
