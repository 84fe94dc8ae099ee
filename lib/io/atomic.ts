/**
 * Crash-safe output: every writer produces its file under a temporary name in the destination directory, fsyncs
 * it, and renames it over the final name (rename is atomic within one filesystem). A failure at any point removes
 * the temporary file, so the final name holds either the complete new file or whatever was there before.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { errorMessage, IO_WRITE } from './source.js';

/** A hidden sibling name: same directory (same filesystem, so rename is atomic), never matching the final name. */
export function tempSibling(file: string, tag = 'tmp'): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The process that made temporary `name` (a tempSibling basename with any tag), or undefined for another name. */
export function tempOwner(name: string): number | undefined {
  const m = /^\..+\.[a-z]+-(\d+)-[0-9a-f]{8}$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Whether process `pid` is running (this one included): a temporary of a process that is gone is garbage. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncPath(p: string, directory = false): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(p, directory ? 'r' : 'r+');
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories; the data itself was synced.
    if (!directory) throw e;
  } finally {
    await fh?.close();
  }
}

/** fsync every regular file under `dir`, then the directories bottom-up. */
export async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) await fsyncPath(p);
  }
  await fsyncPath(dir, true);
}

/** Errors while writing `file` as InputError (code ERR_SCSEG_IO_WRITE unless it already is an InputError). */
export function writeError(file: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  return new InputError(`${file}: cannot write: ${errorMessage(e)}`, IO_WRITE, { cause: e });
}

/** The destination directory must exist (writers never create it). */
export function checkParent(file: string): void {
  const dir = path.dirname(file);
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new InputError(`${file}: output directory ${dir} does not exist`, IO_WRITE);
  }
  if (!st.isDirectory()) throw new InputError(`${file}: ${dir} is not a directory`, IO_WRITE);
}

/**
 * A file or directory being produced under a hidden temporary name (`path`) beside its final name: fill `path`,
 * then `commit()` (fsync + atomic rename into place) or `discard()` (delete it). Both are for streaming writers
 * that cannot put their whole output into one `produce` callback; `discard()` is idempotent, and a failed
 * `commit()` has already removed the temporary.
 */
export interface PendingOutput {
  readonly path: string;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

async function removeTemp(tmp: string): Promise<void> {
  await fs.promises.rm(tmp, { force: true, recursive: true }).catch(() => undefined);
}

/** Starts an atomic write of `file`; nothing exists under `path` yet. Throws if the destination directory is missing. */
export function beginAtomicFile(file: string): PendingOutput {
  checkParent(file);
  const tmp = tempSibling(file);
  return {
    path: tmp,
    async commit() {
      try {
        await fsyncPath(tmp);
        await fs.promises.rename(tmp, file);
      } catch (e) {
        await removeTemp(tmp);
        throw writeError(file, e);
      }
      await fsyncPath(path.dirname(file), true);
    },
    discard: () => removeTemp(tmp),
  };
}

/**
 * Runs `produce(tempPath)`, which must create the complete file at tempPath, then fsyncs and renames it to `file`.
 * Errors become InputError (code ERR_SCSEG_IO_WRITE unless `produce` threw an InputError itself).
 */
export async function writeAtomic(file: string, produce: (tempPath: string) => Promise<void> | void): Promise<void> {
  const pending = beginAtomicFile(file);
  try {
    await produce(pending.path);
  } catch (e) {
    await pending.discard();
    throw writeError(file, e);
  }
  await pending.commit();
}

/** Atomic write of bytes or text. */
export function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  return writeAtomic(file, (tmp) => fs.promises.writeFile(tmp, data, { flag: 'wx' }));
}

/**
 * Starts replacing directory `dir`: `path` is a fresh empty temp directory beside it. `commit()` fsyncs the tree
 * and renames it to `dir`; an existing `dir` is first renamed aside and deleted only after the new one is in place,
 * so `dir` never holds a mixture of old and new files (a crash between the two renames leaves the old tree under a
 * hidden name).
 */
export async function beginDirReplace(dir: string): Promise<PendingOutput> {
  checkParent(dir);
  const tmp = tempSibling(dir);
  try {
    await fs.promises.mkdir(tmp);
  } catch (e) {
    throw writeError(dir, e);
  }
  return {
    path: tmp,
    async commit() {
      let aside: string | undefined;
      try {
        await fsyncTree(tmp);
        if (fs.existsSync(dir)) {
          aside = tempSibling(dir, 'old');
          await fs.promises.rename(dir, aside);
        }
        await fs.promises.rename(tmp, dir);
      } catch (e) {
        await removeTemp(tmp);
        if (aside && !fs.existsSync(dir)) await fs.promises.rename(aside, dir).catch(() => undefined);
        throw writeError(dir, e);
      }
      await fsyncPath(path.dirname(dir), true);
      if (aside) await removeTemp(aside);
    },
    discard: () => removeTemp(tmp),
  };
}

/** The directory analogue of writeAtomic: `produce(tempDir)` fills a fresh temp directory that replaces `dir`. */
export async function replaceDirAtomic(dir: string, produce: (tempDir: string) => Promise<void> | void): Promise<void> {
  const pending = await beginDirReplace(dir);
  try {
    await produce(pending.path);
  } catch (e) {
    await pending.discard();
    throw writeError(dir, e);
  }
  await pending.commit();
}
