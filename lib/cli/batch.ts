/**
 * `scseg segment` over many images (MultithreadedSegmentation): `--batch plate.csv`, a 4-D `--input`, or a
 * `Multithreaded<Workflow>`. One line per finished image; the summary line says how many failed. Exit code 0 when
 * every image is ok, 2 when any failed on bad input (InputError / ConfigError), else 1 (BatchFailedError).
 */
import type { SegmentationConfig } from '../config/types.js';
import { InputError, ScsegError } from '../errors.js';
import { isImageStack } from '../io/stack.js';
import { MultithreadedSegmentation, type BatchInput } from '../segmentation/batch.js';
import type { Progress } from './progress.js';
import type { SegmentFlags } from './segment.js';

/** Some images of a batch failed (the others' results are written); `exitCode` 2 if any on bad input, else 1. */
export class BatchFailedError extends ScsegError {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super('ERR_SCSEG_BATCH', message);
  }
}

/** The batch input of these flags, or undefined when they ask for a single image. */
async function batchInput(config: SegmentationConfig, flags: SegmentFlags): Promise<BatchInput | undefined> {
  const inputs = flags.input ?? [];
  if (flags.batch !== undefined) {
    if (inputs.length > 0) throw new InputError('give either --batch (a plate CSV) or --input, not both', 'ERR_SCSEG_ARGUMENT');
    return { csv: flags.batch };
  }
  if (inputs.length === 0) {
    throw new InputError('no input: give the image with --input, or a plate CSV with --batch', 'ERR_SCSEG_ARGUMENT');
  }
  if (inputs.length === 1 && (await isImageStack(inputs[0], { dataset: flags.dataset }))) return { stack: inputs[0], dataset: flags.dataset };
  if (config.segmentationClass === 'MultithreadedSegmentation') {
    throw new InputError(
      `${flags.workflow} segments many images: give a plate CSV with --batch, or a 4-D (images, C, H, W) HDF5, ` +
        `OME-Zarr or .npy with --input (for one image use ${config.workflow})`,
      'ERR_SCSEG_ARGUMENT',
    );
  }
  return undefined;
}

/**
 * Runs the batch when the flags ask for one (--batch, a 4-D --input, a Multithreaded workflow) and returns true;
 * returns false for a single image (after checking that an input is given at all).
 */
export async function segmentBatch(
  config: SegmentationConfig,
  flags: SegmentFlags,
  progress: Progress,
  signal: AbortSignal,
  started: number,
): Promise<boolean> {
  const input = await batchInput(config, flags);
  if (input === undefined) return false;
  for (const [flag, value] of [['--shard-size', flags.shardSize], ['--overlap', flags.overlap], ['--cache', flags.cache]] as const) {
    if (value !== undefined) progress.warn(`${flag} is ignored in a batch run (every image is segmented in memory)`);
  }
  const tty = process.stderr.isTTY === true && !flags.quiet;
  const batch = await MultithreadedSegmentation.create({
    config,
    workflow: config.workflow,
    backend: flags.backend,
    threads: flags.threads,
    log: (m) => (m.startsWith('warning: ') ? progress.warn(m.slice(9)) : progress.info(m)),
    progress: ({ done, total, image }) => {
      const counter = `[${done}/${total}]`;
      if (image.status === 'ok') {
        const line = `${counter} ${image.name}: ${image.cells} cell${image.cells === 1 ? '' : 's'} (${image.seconds.toFixed(2)} s)`;
        progress.steps(done, total, line);
        if (tty) progress.info(line); // the bar's label is overwritten by the next image; keep the line
      } else {
        progress.warn(`${counter} ${image.name} failed: ${image.error?.message.replace(/\s*\n\s*/g, '; ')}`);
        if (tty) progress.steps(done, total, `images ${done}/${total}`);
      }
    },
  });
  const result = await batch.run({ input, output: flags.output, zarr: flags.format === 'zarr', qc: flags.qc, signal });
  const seconds = (performance.now() - started) / 1000;
  const where = result.segmentation ? `${result.segmentation} + ${result.summary}` : `${flags.output} (summary: ${result.summary})`;
  const cells = result.images.reduce((sum, r) => sum + (r.cells ?? 0), 0);
  progress.done(
    `${result.ok} of ${result.images.length} images ok, ${result.failed} failed; ${cells} cells → ${where} (${seconds.toFixed(2)} s)`,
  );
  if (result.failed > 0) {
    const onInput = result.failedOnInput > 0 ? ` (${result.failedOnInput} on bad input)` : '';
    throw new BatchFailedError(
      `${result.failed} of ${result.images.length} images failed${onInput}; the others' results are written. See ${result.summary}`,
      result.failedOnInput > 0 ? 2 : 1,
    );
  }
  return true;
}
