/**
 * Results directory in scPortrait's layout: `segmentation.h5` (dataset `labels`, (n_masks, H, W)),
 * `classes.csv` (kept cell ids), optionally OME-Zarr labels and a QC overlay PNG. Every file is written to a
 * temporary name and renamed, so an interrupted run never leaves a half-written result under a final name. The
 * CLI goes further (results-folder.ts): it writes here into a staging folder and swaps the whole set in, with
 * run.json, so a folder never mixes the files of two runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import { encodeQcOverlay, writeClassesCsv, writeFileAtomic, writeOmeZarrLabels, writeSegmentationH5 } from '../io/index.js';
import type { SegmentationResult } from '../workflows/types.js';

export interface OutputOptions {
  /** Also write `labels.zarr` (OME-Zarr labels group, one label image per mask). */
  zarr?: boolean;
  /** Write `qc_overlay.png` (default true). */
  qc?: boolean;
  /** HDF5 chunk edge (scPortrait's chunk_size). */
  chunkSize?: number;
  /**
   * Called with each file's (or labels.zarr's) final path as soon as it is in place, while the others are still
   * being written: e.g. to checksum it meanwhile. Not sent to a worker: with a worker writing, it is not called.
   */
  onFileWritten?: (file: string) => void;
}

/** writeOutputs' options: the output options, and the run's kernels. */
export interface WriteOutputsOptions extends OutputOptions {
  /** The run's kernels: the QC overlay renders with them (the same bytes as without, off JavaScript). */
  kernels?: Kernels;
}

export interface WrittenFiles {
  segmentation: string;
  classes: string;
  zarr?: string;
  qc?: string;
}

/** A file (or a file on the way) where the output directory should be: said so, rather than EEXIST / ENOTDIR. */
export function checkOutputPath(dir: string): void {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(p, { throwIfNoEntry: false });
    } catch {
      stat = undefined; // ENOTDIR: a parent is a file, found further up
    }
    if (stat && !stat.isDirectory()) {
      throw new InputError(
        p === path.resolve(dir)
          ? `output directory ${dir} is a file; pass a directory (it is created if missing)`
          : `output directory ${dir}: ${p} is a file, not a directory`,
        'ERR_SCSEG_IO_WRITE',
      );
    }
    if (stat || path.dirname(p) === p) break;
  }
}

/** Creates the directory if needed and proves it writable before any work is spent on it. */
export function prepareOutputDir(dir: string): void {
  checkOutputPath(dir);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.scseg-write-test-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (err) {
    throw new InputError(
      `output directory ${dir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'ERR_SCSEG_OUTPUT',
      { cause: err },
    );
  }
}

export async function writeOutputs(
  dir: string,
  result: SegmentationResult,
  background: Image2D,
  options: WriteOutputsOptions = {},
  timings?: Record<string, number>,
): Promise<WrittenFiles> {
  prepareOutputDir(dir);
  /** Times `write` from `t0` (the overlay's clock starts when its encoding does) into `timings`. */
  const timed = async (name: string, write: () => Promise<void>, t0 = performance.now()) => {
    await write();
    if (timings) timings[`write ${name}`] = (performance.now() - t0) / 1000;
    options.onFileWritten?.(path.join(dir, name));
  };
  const files: WrittenFiles = {
    segmentation: path.join(dir, 'segmentation.h5'),
    classes: path.join(dir, 'classes.csv'),
  };
  // The overlay first: it renders here, then deflates on libuv's thread pool while segmentation.h5 is written; its
  // file is written last, so the files reach the disk in a fixed order (a full disk always fails the same one).
  const qcStarted = performance.now();
  const qcPng = (options.qc ?? true) ? encodeQcOverlay(background, result.masks, { kernels: options.kernels }) : undefined;
  // Awaited below, but it may fail while segmentation.h5 is written: handled from now on, or Node would call the
  // rejection unhandled and end the process.
  void qcPng?.catch(() => undefined);
  try {
    await timed('segmentation.h5', () => writeSegmentationH5(files.segmentation, result.masks, { chunkSize: options.chunkSize }));
    await timed('classes.csv', () => writeClassesCsv(files.classes, result.classes));
    if (options.zarr) {
      const zarr = (files.zarr = path.join(dir, 'labels.zarr'));
      await timed('labels.zarr', () => writeOmeZarrLabels(zarr, result.masks, result.maskNames));
    }
  } catch (err) {
    await qcPng?.catch(() => undefined); // settled before the failure is reported
    throw err;
  }
  if (qcPng) {
    const qc = (files.qc = path.join(dir, 'qc_overlay.png'));
    await timed('qc_overlay.png', async () => writeFileAtomic(qc, await qcPng), qcStarted);
  }
  return files;
}
