/**
 * `scseg segment` over many images (MultithreadedSegmentation): `--batch plate.csv`, a 4-D `--input`, or a
 * `Multithreaded<Workflow>`. One line per finished image; the summary line says how many failed. Exit code 0 when
 * every image is ok, 2 when any failed on bad input (InputError / ConfigError), else 1 (BatchFailedError).
 *
 * The batch's results folder is one transaction like a single run's (segment.ts): everything is staged and swapped
 * in at the end, so an interrupted batch leaves the folder as it was. Each ok image's folder holds its own run.json
 * (its inputs' checksums, cells, files); the batch's run.json lists every image.
 */
import path from 'node:path';
import type { SegmentationConfig } from '../config/types.js';
import { InputError, ScsegError } from '../errors.js';
import { isImageStack } from '../io/stack.js';
import { kernels } from '../kernels/index.js';
import { MultithreadedSegmentation, type BatchImageResult, type BatchInput } from '../segmentation/batch.js';
import { describeInput, digestEntries, writeManifest, type InputRecord } from '../segmentation/run-manifest.js';
import { commitRun, manifestBase, type RunContext } from './run-context.js';
import type { SegmentFlags } from './segment.js';

/** Some images of a batch failed (the others' results are written); `exitCode` 2 if any on bad input, else 1. */
import { BatchFailedError } from './exit-errors.js';

export { BatchFailedError };

/** The batch input of these flags, or undefined when they ask for a single image (checked to have an input). */
export async function batchInput(config: SegmentationConfig, flags: SegmentFlags): Promise<BatchInput | undefined> {
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

function imageFiles(image: BatchImageResult): string[] {
  return image.input.kind === 'files' ? image.input.paths : [image.input.path];
}

/** Checksums of every file the batch read (a file that is gone — a failed image's — is left out). */
async function describeFiles(files: readonly string[]): Promise<Map<string, InputRecord>> {
  const records = new Map<string, InputRecord>();
  for (const file of files) {
    if (records.has(path.resolve(file))) continue;
    try {
      records.set(path.resolve(file), await describeInput(file));
    } catch {
      // missing or unreadable: that image failed and batch.csv says why
    }
  }
  return records;
}

/** Runs the batch into the run's staging folder, writes every run.json and commits. */
export async function segmentBatch(run: RunContext, input: BatchInput): Promise<void> {
  const { config, flags, progress, folder } = run;
  for (const [flag, value] of [['--shard-size', flags.shardSize], ['--overlap', flags.overlap], ['--cache', flags.cache]] as const) {
    if (value !== undefined) progress.warn(`${flag} is ignored in a batch run (every image is segmented in memory)`);
  }
  const tty = process.stderr.isTTY === true && !flags.quiet;
  const backend = kernels(flags.backend).backendName;
  const batch = await MultithreadedSegmentation.create({
    config,
    workflow: config.workflow,
    backend,
    threads: flags.threads,
    log: (raw) => {
      const m = folder.shown(raw);
      if (m.startsWith('warning: ')) progress.warn(m.slice(9));
      else progress.info(m);
    },
    progress: ({ done, total, image }) => {
      const counter = `[${done}/${total}]`;
      if (image.status === 'ok') {
        const line = `${counter} ${image.name}: ${image.cells} cell${image.cells === 1 ? '' : 's'} (${image.seconds.toFixed(2)} s)`;
        progress.steps(done, total, line);
        if (tty) progress.info(line); // the bar's label is overwritten by the next image; keep the line
      } else {
        progress.warn(`${counter} ${image.name} failed: ${folder.shown(image.error?.message ?? '').replace(/\s*\n\s*/g, '; ')}`);
        if (tty) progress.steps(done, total, `images ${done}/${total}`);
      }
    },
  });
  const result = await batch.run({ input, output: folder.staging, zarr: flags.format === 'zarr', qc: flags.qc, signal: run.signal });
  const seconds = (performance.now() - run.started.clock) / 1000;
  const cells = result.images.reduce((sum, r) => sum + (r.cells ?? 0), 0);

  const sources = 'csv' in (input as object) ? [(input as { csv: string }).csv] : [];
  const records = await describeFiles([...sources, ...result.images.flatMap(imageFiles)]);
  const base = await manifestBase(run);
  const common = {
    ...base,
    segmentation: 'MultithreadedSegmentation' as const,
    backend,
    threads: { workers: result.workers, kernelThreads: result.kernelThreads },
    options: { format: flags.format, qc: flags.qc },
    masks: [...batch.workflow.descriptor.masks],
  };
  for (const image of result.images) {
    if (image.status !== 'ok' || image.output === undefined) continue;
    await writeManifest(image.output, {
      ...common,
      inputs: imageFiles(image).map((f) => records.get(path.resolve(f))!).filter(Boolean),
      seconds: { total: image.seconds },
      cells: image.cells!,
      files: await digestEntries(image.output),
    });
  }
  await commitRun(run, {
    ...common,
    inputs: [...records.values()],
    seconds: { total: seconds },
    cells,
    files: await digestEntries(folder.staging),
    images: result.images.map((r) => ({
      name: r.name,
      status: r.status,
      ...(r.cells !== undefined ? { cells: r.cells } : {}),
      seconds: r.seconds,
      ...(r.error ? { error: folder.shown(r.error.message) } : {}),
      inputs: imageFiles(r),
      ...(r.input.kind === 'stack' ? { index: r.input.index } : {}),
    })),
  });

  const shown = (p: string) => path.join(flags.output, path.relative(folder.staging, p));
  const where = result.segmentation ? `${shown(result.segmentation)} + ${shown(result.summary)}` : `${flags.output} (summary: ${shown(result.summary)})`;
  progress.done(
    `${result.ok} of ${result.images.length} images ok, ${result.failed} failed; ${cells} cells → ${where} (${seconds.toFixed(2)} s)`,
  );
  if (result.failed > 0) {
    const onInput = result.failedOnInput > 0 ? ` (${result.failedOnInput} on bad input)` : '';
    throw new BatchFailedError(
      `${result.failed} of ${result.images.length} images failed${onInput}; the others' results are written. See ${shown(result.summary)}`,
      result.failedOnInput > 0 ? 2 : 1,
    );
  }
}
