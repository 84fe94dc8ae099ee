/**
 * `run.json`: the record of the run that wrote a results folder — scseg version and command, workflow, the whole
 * resolved config, backend and threads, the inputs with their checksums, timings, the cell count, and the
 * checksum of every result file. Written last (results-folder.ts moves it in after the files it describes), so a
 * folder whose files have no run.json beside them did not come from a finished run.
 *
 * Checksums are sha256: of a file's bytes; of a directory (OME-Zarr), of the lines `<sha256>  <relative path>\n`
 * of its files sorted by path — what `(cd dir && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs sha256sum)
 * | sha256sum` prints.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { packageRoot } from '../paths.js';

export const MANIFEST_FILE = 'run.json';
export const MANIFEST_FORMAT = 1;

export interface Digest {
  bytes: number;
  sha256: string;
}

export interface InputRecord extends Digest {
  /** Absolute path. */
  path: string;
}

/** One image of a batch, in the batch's run.json (each ok image's folder has its own run.json too). */
export interface BatchImageRecord {
  name: string;
  status: 'ok' | 'failed';
  cells?: number;
  seconds: number;
  error?: string;
  /** Its file(s), or for a stack the stack file (and `index`). */
  inputs: string[];
  index?: number;
}

export interface RunManifest {
  format: number;
  scseg: {
    version: string;
    /** `segment` or `demo`. */
    command: string;
    argv: string[];
  };
  workflow: string;
  /** The class that ran: Segmentation (in memory), ShardedSegmentation or MultithreadedSegmentation. */
  segmentation: 'Segmentation' | 'ShardedSegmentation' | 'MultithreadedSegmentation';
  config: { file: string; sha256: string; resolved: unknown };
  /** The kernel backend that ran (not the one asked for). */
  backend: string;
  /** Workers (shards or images in flight; 1 in memory) × kernel threads each. */
  threads: { workers: number; kernelThreads: number };
  inputs: InputRecord[];
  dataset?: string;
  /** The run's output and sharding options as resolved (format, qc, shard size, overlap, cache). */
  options: Record<string, unknown>;
  /** ISO 8601. */
  started: string;
  finished: string;
  /** Wall seconds: `total`, and per stage where the run reports them. */
  seconds: Record<string, number>;
  /** Kept cells: the rows of classes.csv (a batch: summed over its ok images). */
  cells: number;
  masks: string[];
  /** Every result entry beside run.json, by name. */
  files: Record<string, Digest>;
  warnings: string[];
  /** Batches: every image in input order. */
  images?: BatchImageRecord[];
}

export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function fileDigest(file: string): Promise<Digest> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    // 1 MiB reads: with the stream's default 64 KiB, per-chunk overhead made hashing 2–2.5× slower (75 MB of outputs).
    fs.createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => {
        bytes += chunk.length;
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
  });
}

/** sha256 and size of a file, or of a directory's files (see the header for the directory form). */
export async function digest(p: string): Promise<Digest> {
  if (!fs.statSync(p).isDirectory()) return fileDigest(p);
  const files = (fs.readdirSync(p, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(p, path.join(e.parentPath ?? (e as { path: string }).path, e.name)).split(path.sep).join('/'))
    .sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const rel of files) {
    const d = await fileDigest(path.join(p, rel));
    bytes += d.bytes;
    hash.update(`${d.sha256}  ${rel}\n`);
  }
  return { bytes, sha256: hash.digest('hex') };
}

export async function describeInput(file: string): Promise<InputRecord> {
  const abs = path.resolve(file);
  return { path: abs, ...(await digest(abs)) };
}

/**
 * Digests of the visible entries of `dir` except run.json; `started` holds digests already under way (by entry
 * name), e.g. begun as each output was written.
 */
export async function digestEntries(dir: string, started?: ReadonlyMap<string, Promise<Digest>>): Promise<Record<string, Digest>> {
  const files: Record<string, Digest> = {};
  for (const name of fs.readdirSync(dir).filter((n) => !n.startsWith('.') && n !== MANIFEST_FILE).sort()) {
    files[name] = await (started?.get(name) ?? digest(path.join(dir, name)));
  }
  return files;
}

/** Starts each written file's digest at once (for onFileWritten); digestEntries(dir, map) collects them. */
export function digestsAsWritten(): { map: Map<string, Promise<Digest>>; onFileWritten: (file: string) => void } {
  const map = new Map<string, Promise<Digest>>();
  return {
    map,
    onFileWritten: (file) => {
      const pending = digest(file);
      pending.catch(() => undefined); // awaited by digestEntries; a failure surfaces there
      map.set(path.basename(file), pending);
    },
  };
}

export function writeManifest(dir: string, manifest: RunManifest): Promise<void> {
  return writeFileAtomic(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The run.json at `file`, or undefined when there is none or it is not one. */
export function readManifest(file: string): RunManifest | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as RunManifest;
    return typeof m === 'object' && m !== null && typeof m.format === 'number' ? m : undefined;
  } catch {
    return undefined;
  }
}
