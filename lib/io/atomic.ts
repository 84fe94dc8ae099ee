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

function writeError(file: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  return new InputError(`${file}: cannot write: ${errorMessage(e)}`, IO_WRITE, { cause: e });
}

function checkParent(file: string): void {
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
 * Runs `produce(tempPath)`, which must create the complete file at tempPath, then fsyncs and renames it to `file`.
 * Errors become InputError (code ERR_SCSEG_IO_WRITE unless `produce` threw an InputError itself).
 */
export async function writeAtomic(file: string, produce: (tempPath: string) => Promise<void> | void): Promise<void> {
  checkParent(file);
  const tmp = tempSibling(file);
  try {
    await produce(tmp);
    await fsyncPath(tmp);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true, recursive: true }).catch(() => undefined);
    throw writeError(file, e);
  }
  await fsyncPath(path.dirname(file), true);
}

/** Atomic write of bytes or text. */
export function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  return writeAtomic(file, (tmp) => fs.promises.writeFile(tmp, data, { flag: 'wx' }));
}

/**
 * The directory analogue: `produce(tempDir)` fills a fresh temp directory beside `dir`; it is fsynced and renamed
 * to `dir`. An existing `dir` is first renamed aside and deleted only after the new one is in place, so `dir` never
 * holds a mixture of old and new files (a crash between the two renames leaves the old tree under a hidden name).
 */
export async function replaceDirAtomic(dir: string, produce: (tempDir: string) => Promise<void> | void): Promise<void> {
  checkParent(dir);
  const tmp = tempSibling(dir);
  let aside: string | undefined;
  try {
    await fs.promises.mkdir(tmp);
    await produce(tmp);
    await fsyncTree(tmp);
    if (fs.existsSync(dir)) {
      aside = tempSibling(dir, 'old');
      await fs.promises.rename(dir, aside);
    }
    await fs.promises.rename(tmp, dir);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true, recursive: true }).catch(() => undefined);
    if (aside && !fs.existsSync(dir)) await fs.promises.rename(aside, dir).catch(() => undefined);
    throw writeError(dir, e);
  }
  await fsyncPath(path.dirname(dir), true);
  if (aside) await fs.promises.rm(aside, { force: true, recursive: true }).catch(() => undefined);
}
