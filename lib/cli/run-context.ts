/**
 * What every kind of `scseg segment` run (in memory, sharded, batch) shares to write its results folder: the run's
 * context, the common part of run.json, and the commit (run.json last, then the swap).
 */
import type { SegmentationConfig } from '../config/types.js';
import type { ResultsFolder } from '../segmentation/results-folder.js';
import {
  describeInput,
  MANIFEST_FORMAT,
  packageVersion,
  writeManifest,
  type InputRecord,
  type RunManifest,
} from '../segmentation/run-manifest.js';
import type { Progress } from './progress.js';
import type { SegmentFlags } from './segment.js';

/** Which command runs (recorded in run.json) and what earlier results it may replace without --overwrite. */
export interface Invocation {
  command: 'segment' | 'demo';
  replaceable?: (earlier: RunManifest | undefined) => boolean;
}

/** One run's context: what every kind of run (in memory, sharded, batch) needs to write its results folder. */
export interface RunContext {
  config: SegmentationConfig;
  configFile: string;
  flags: SegmentFlags;
  invocation: Invocation;
  progress: Progress;
  signal: AbortSignal;
  folder: ResultsFolder;
  started: { clock: number; date: Date };
  /** Every warning of the run, for run.json. */
  warnings: string[];
}

/** The inputs' checksums, hashed while the run runs (awaited for run.json; a failure surfaces only then). */
export function describeInputs(files: readonly string[]): Promise<InputRecord[]> {
  const records = Promise.all(files.map((f) => describeInput(f)));
  records.catch(() => undefined);
  return records;
}

/** The fields every run.json has, from the run's context. */
export async function manifestBase(
  run: RunContext,
): Promise<Pick<RunManifest, 'format' | 'scseg' | 'workflow' | 'config' | 'started' | 'finished' | 'warnings'>> {
  const configRecord = await describeInput(run.configFile);
  return {
    format: MANIFEST_FORMAT,
    scseg: { version: packageVersion(), command: run.invocation.command, argv: process.argv.slice(2) },
    workflow: run.config.workflow,
    config: { file: configRecord.path, sha256: configRecord.sha256, resolved: JSON.parse(JSON.stringify(run.config)) },
    started: run.started.date.toISOString(),
    finished: new Date().toISOString(),
    warnings: run.warnings,
  };
}

/**
 * For the tests: a run holds here, everything staged (run.json included) and the earlier results still in place,
 * until it is stopped — the moment at which a stop must leave the earlier results as they were.
 */
export const HOLD_BEFORE_COMMIT_ENV = 'SCSEG_TEST_HOLD_BEFORE_COMMIT';

function holdUntilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => reject(new Error(`${HOLD_BEFORE_COMMIT_ENV}: not stopped within 60 s`)), 60_000);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

/** Writes run.json into the staging folder and swaps the results in (unless the run was interrupted meanwhile). */
export async function commitRun(run: RunContext, manifest: RunManifest): Promise<void> {
  run.signal.throwIfAborted();
  await writeManifest(run.folder.staging, manifest);
  if (process.env[HOLD_BEFORE_COMMIT_ENV]) await holdUntilAborted(run.signal);
  await run.folder.commit(run.signal);
}

