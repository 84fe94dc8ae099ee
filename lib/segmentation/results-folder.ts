/**
 * A results folder written as one transaction. A run writes everything into a staging folder inside the target
 * (`<target>/.scseg-staging-<pid>-<hex>`: the same filesystem, so every move is a rename — also when the target is
 * a mount point or a symlink, which are never renamed themselves), and `commit()` swaps it in: the earlier results
 * move aside, the staged ones move in, `run.json` last. That swap is one synchronous burst of renames, so no signal
 * handler runs inside it; a crash inside it (SIGKILL, power loss) leaves a folder without `run.json` — incomplete,
 * and said so by the next run — with the earlier results under `.scseg-old-*`.
 *
 * What a results folder holds:
 * - results: its visible entries — segmentation.h5, classes.csv, qc_overlay.png, labels.zarr, batch.csv, a
 *   batch's per-image folders, and run.json (the record of the run that wrote them, written last);
 * - scseg's hidden entries, never results and never replaced: `.scseg-cache` (a sharded run's shard cache, kept
 *   for a resume), `.scseg-lock` (the run writing here: a symlink to its pid), `.scseg-staging-*` and `.scseg-old-*` (a run in progress;
 *   removed by the next run once their process is gone).
 *
 * Writing into a folder that holds results needs `overwrite`; even then a folder holding anything scseg does not
 * write is refused (replacing it as a whole would delete the user's files).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError, InternalError } from '../errors.js';
import { fsyncTree, processAlive as alive, tempOwner } from '../io/atomic.js';
import { checkOutputPath } from './outputs.js';
import { MANIFEST_FILE, readManifest, type RunManifest } from './run-manifest.js';

/** The visible entries a run writes (a batch's per-image folders hold these too). */
const RESULT_FILES = new Set(['segmentation.h5', 'classes.csv', 'qc_overlay.png', 'labels.zarr', 'batch.csv', MANIFEST_FILE]);
const LOCK = '.scseg-lock';
/** A run's staging or set-aside folder; group 2 is the pid of the process that made it. */
const RUN_ENTRY = /^\.scseg-(staging|old)-(\d+)-[0-9a-f]{8}$/;

const visible = (name: string) => !name.startsWith('.');

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** A result entry: a file scseg writes, or a batch image's folder holding only such files. */
function isResultEntry(dir: string, name: string): boolean {
  if (RESULT_FILES.has(name)) return true;
  const p = path.join(dir, name);
  if (!isDirectory(p)) return false;
  const inner = fs.readdirSync(p).filter(visible);
  return inner.length > 0 && inner.every((f) => RESULT_FILES.has(f));
}

function list(names: string[], max = 4): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** Removes what runs that are gone left in `dir`: staging and set-aside folders, writers' temporaries. */
function removeLeftovers(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    // A writer's temporary (io/atomic.ts tempSibling) too: a version without staging left them beside the results.
    const pid = RUN_ENTRY.exec(name)?.[2] ?? tempOwner(name);
    if (pid !== undefined && !alive(Number(pid))) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

export interface OpenResultsOptions {
  /** Replace results already in the folder (as a whole). */
  overwrite?: boolean;
  /** Earlier results these may replace without `overwrite` (the demo replaces an earlier demo's). */
  replaceable?: (earlier: RunManifest | undefined) => boolean;
  /** Names the flag in messages (default `--overwrite`). */
  flag?: string;
}

export class ResultsFolder {
  private state: 'open' | 'committed' | 'discarded' = 'open';
  private readonly onExit = () => this.discard();

  /** `text` with the staging folder's path shown as the target's (the user named the target; staging is ours). */
  shown(text: string): string {
    return text.split(this.staging).join(this.target);
  }

  /** The staged results are in place (discard() is then a no-op). */
  get committed(): boolean {
    return this.state === 'committed';
  }

  private constructor(
    /** The folder the user named (absolute). */
    readonly target: string,
    /** Where this run writes; swapped into `target` by commit(). */
    readonly staging: string,
    /** The highest folder this run created on the way to `target` (removed again if the run leaves nothing). */
    private readonly created: string | undefined,
  ) {
    process.on('exit', this.onExit);
  }

  /**
   * Checks `target` and starts a run into it; nothing is written when it throws. InputError (exit 2) when the path
   * is a file, holds results and `overwrite` is not set, holds files scseg does not write, is not writable, or
   * another run is writing into it.
   */
  static open(target: string, options: OpenResultsOptions = {}): ResultsFolder {
    const dir = path.resolve(target);
    const flag = options.flag ?? '--overwrite';
    checkOutputPath(target);
    if (fs.existsSync(dir)) {
      const results = fs.readdirSync(dir).filter(visible).sort();
      if (results.length > 0) {
        const foreign = results.filter((name) => !isResultEntry(dir, name));
        if (foreign.length > 0) {
          throw new InputError(
            `output directory ${target} holds files scseg did not write (${list(foreign)}); scseg replaces a results ` +
              'folder as a whole, so give a new or empty directory (or one holding only scseg results)',
            'ERR_SCSEG_OUTPUT_EXISTS',
          );
        }
        const earlier = readManifest(path.join(dir, MANIFEST_FILE));
        if (!options.overwrite && !options.replaceable?.(earlier)) {
          const what = earlier
            ? `the results of a ${earlier.workflow} run finished ${earlier.finished}`
            : 'results without a run.json (an unfinished run, or one of an older scseg)';
          throw new InputError(
            `output directory ${target} already holds ${what}: ${list(results)}; pass ${flag} to replace them ` +
              '(as a whole), or give another output directory',
            'ERR_SCSEG_OUTPUT_EXISTS',
          );
        }
      }
    }
    let created: string | undefined;
    try {
      created = fs.mkdirSync(dir, { recursive: true });
      removeLeftovers(dir);
    } catch (err) {
      throw notWritable(target, err);
    }
    lock(dir, target);
    const staging = path.join(dir, `.scseg-staging-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      fs.mkdirSync(staging);
    } catch (err) {
      fs.rmSync(path.join(dir, LOCK), { force: true });
      throw notWritable(target, err);
    }
    return new ResultsFolder(dir, staging, created);
  }

  /**
   * Swaps the staged results in; the staging folder must hold run.json (written last). After it resolves the
   * target holds exactly the staged entries beside its hidden ones. `signal` aborted before the swap starts:
   * nothing is swapped (the caller discards).
   */
  async commit(signal?: AbortSignal): Promise<void> {
    if (this.state !== 'open') throw new InternalError(`results folder ${this.target}: commit after ${this.state}`);
    if (!fs.existsSync(path.join(this.staging, MANIFEST_FILE))) {
      throw new InternalError(`results folder ${this.target}: nothing to commit without ${MANIFEST_FILE}`);
    }
    await fsyncTree(this.staging);
    signal?.throwIfAborted();
    // From here to the last rename nothing yields to the event loop: a signal's handler runs before or after.
    const earlier = fs.readdirSync(this.target).filter(visible);
    let aside: string | undefined;
    if (earlier.length > 0) {
      aside = path.join(this.target, `.scseg-old-${process.pid}-${randomBytes(4).toString('hex')}`);
      fs.mkdirSync(aside);
      // run.json first: from the first rename on, the folder reads as incomplete until the new run.json is in.
      for (const name of [...earlier.filter((n) => n === MANIFEST_FILE), ...earlier.filter((n) => n !== MANIFEST_FILE)]) {
        fs.renameSync(path.join(this.target, name), path.join(aside, name));
      }
    }
    for (const name of fs.readdirSync(this.staging)) {
      if (name !== MANIFEST_FILE) fs.renameSync(path.join(this.staging, name), path.join(this.target, name));
    }
    fs.renameSync(path.join(this.staging, MANIFEST_FILE), path.join(this.target, MANIFEST_FILE));
    this.state = 'committed';
    syncDirectory(this.target);
    fs.rmSync(this.staging, { recursive: true, force: true });
    if (aside) fs.rmSync(aside, { recursive: true, force: true });
    this.release();
  }

  /**
   * Abandons the run: removes the staging folder (with every temporary in it) and the lock, and the folders this
   * run created if nothing else is in them. Synchronous (also runs on process exit); idempotent; no-op after commit.
   */
  discard(): void {
    if (this.state !== 'open') return;
    this.state = 'discarded';
    fs.rmSync(this.staging, { recursive: true, force: true });
    this.release();
    if (this.created) {
      for (let p = this.target; ; p = path.dirname(p)) {
        try {
          fs.rmdirSync(p); // only when empty (a kept shard cache keeps it)
        } catch {
          break;
        }
        if (p === this.created) break;
      }
    }
  }

  private release(): void {
    process.off('exit', this.onExit);
    fs.rmSync(path.join(this.target, LOCK), { force: true });
  }
}

function notWritable(target: string, err: unknown): InputError {
  return new InputError(
    `output directory ${target} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    'ERR_SCSEG_OUTPUT',
    { cause: err },
  );
}

/**
 * One run writes into a folder at a time (two would swap their results over each other). The lock is a symlink whose
 * target is the holder's pid: created atomically, and without a data block, so it works on a full disk too.
 */
function lock(dir: string, target: string): void {
  const file = path.join(dir, LOCK);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.symlinkSync(String(process.pid), file);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw notWritable(target, err);
    }
    let holder = NaN;
    try {
      holder = Number(fs.readlinkSync(file));
    } catch {
      // not a symlink: not ours to keep
    }
    if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
      throw new InputError(
        `output directory ${target} is being written by another scseg run (process ${holder}); wait for it to finish or give another output directory`,
        'ERR_SCSEG_OUTPUT_BUSY',
      );
    }
    fs.rmSync(file, { force: true }); // left by a run that is gone
  }
}

function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the files themselves were synced.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
