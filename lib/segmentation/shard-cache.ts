/**
 * The cache of a sharded run: its plan and arguments (`plan.json`), the global values (`globals.v8`) and one file
 * per finished shard (shard-store.ts). A run started again with the same arguments reuses what is there; with
 * different arguments it refuses (or, with `overwrite`, starts afresh) — never a result mixed from two runs.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { InputError } from '../errors.js';
import { processAlive, tempOwner, writeFileAtomic } from '../io/atomic.js';
import type { Shard } from './sharding.js';

export const CACHE_FORMAT = 1;
/** What a cache directory may hold (a run killed before its plan was written leaves only these). */
const OWN_FILE = /^(shard-\d+\.bin|globals\.v8|plan\.json|\..*)$/;

/** What a run's result depends on; a cache is reused only when this is equal. */
export interface CacheKey {
  inputs: { path: string; size: number; mtimeMs: number }[];
  workflow: string;
  /** The resolved configuration. */
  config: unknown;
  shardSize: number;
  overlap: number;
  width: number;
  height: number;
}

interface Manifest {
  format: number;
  key: CacheKey;
  shards: Shard[];
}

/** The inputs' identity: absolute paths with size and modification time (a directory: its newest file). */
export function describeInputs(paths: readonly string[]): CacheKey['inputs'] {
  return paths.map((p) => {
    const abs = path.resolve(p);
    const st = fs.statSync(abs);
    let { size, mtimeMs } = st;
    if (st.isDirectory()) {
      for (const entry of fs.readdirSync(abs, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const f = fs.statSync(path.join(entry.parentPath ?? (entry as { path: string }).path, entry.name));
        size += f.size;
        mtimeMs = Math.max(mtimeMs, f.mtimeMs);
      }
    }
    return { path: abs, size, mtimeMs };
  });
}

function differences(a: CacheKey, b: CacheKey): string[] {
  const keys = Object.keys(a) as (keyof CacheKey)[];
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

export class ShardCache {
  private constructor(
    readonly dir: string,
    /** Shards already finished when the cache was opened. */
    readonly finished: ReadonlySet<number>,
  ) {}

  /**
   * Opens `dir` for a run with `key` and plan `shards`: creates it, or reuses a cache of the same key. A cache of
   * another key is an error naming what differs, unless `overwrite` (then it is emptied).
   */
  static async open(dir: string, key: CacheKey, shards: Shard[], overwrite: boolean): Promise<ShardCache> {
    const manifestFile = path.join(dir, 'plan.json');
    let manifest: Manifest | undefined;
    if (fs.existsSync(manifestFile)) {
      try {
        manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
      } catch {
        manifest = undefined; // unreadable: treated as a cache of another run
      }
      const same = manifest?.format === CACHE_FORMAT && differences(manifest.key, key).length === 0;
      if (!same && !overwrite) {
        const what = manifest?.format === CACHE_FORMAT ? differences(manifest.key, key).join(', ') : 'an unreadable plan';
        throw new InputError(
          `cache ${dir} holds an unfinished run with other arguments (differs in: ${what}); ` +
            'rerun with --overwrite to discard it, or give another output directory or cache',
          'ERR_SCSEG_CACHE',
        );
      }
      if (!same) manifest = undefined;
    } else if (fs.existsSync(dir) && !fs.readdirSync(dir).every((f) => OWN_FILE.test(f)) && !overwrite) {
      throw new InputError(`cache ${dir} exists and is not a scseg cache; rerun with --overwrite to empty it`, 'ERR_SCSEG_CACHE');
    }
    if (!manifest) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      await writeFileAtomic(manifestFile, JSON.stringify({ format: CACHE_FORMAT, key, shards }, null, 1));
    }
    removeCacheTemporaries(dir);
    const finished = new Set<number>();
    shards.forEach((_, i) => {
      if (fs.existsSync(shardPath(dir, i))) finished.add(i);
    });
    return new ShardCache(dir, finished);
  }

  shardFile(index: number): string {
    return shardPath(this.dir, index);
  }

  get globalsFile(): string {
    return path.join(this.dir, 'globals.v8');
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Writes the global values (structured-clone types, typed arrays included) next to the plan. */
export function saveGlobals(file: string, globals: unknown): Promise<void> {
  return writeFileAtomic(file, v8.serialize(globals));
}

function shardPath(dir: string, index: number): string {
  return path.join(dir, `shard-${String(index).padStart(6, '0')}.bin`);
}

/**
 * Where the cache of a run into results folder `output` lives: `cache` when given; else under the config's
 * `cache` (a subfolder per results folder) unless that is the working directory (scPortrait's default, and its
 * example configs' `cache: "."`: caches then land beside the results, not wherever the command was started); else
 * `<output>/.scseg-cache` — hidden, so never part of the results (results-folder.ts leaves it alone).
 */
export function shardCacheDir(output: string, config: { cache: string; cacheGiven: boolean }, cache?: string): string {
  if (cache) return path.resolve(cache);
  if (config.cacheGiven && path.resolve(config.cache) !== process.cwd()) return path.join(path.resolve(config.cache), `scseg-${pathTag(output)}`);
  return path.join(path.resolve(output), '.scseg-cache');
}

/**
 * Deletes the writers' temporaries (`.shard-000003.bin.tmp-<pid>-…`) that the processes `pids` left in a cache
 * (default: any process that is gone) — a worker stopped mid-write leaves one. Synchronous: also runs on exit.
 */
export function removeCacheTemporaries(dir: string, pids?: readonly number[]): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = tempOwner(name);
    if (pid !== undefined && (pids ? pids.includes(pid) : !processAlive(pid))) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/** A short stable name for a path (a cache under a shared `cache` directory per output directory). */
export function pathTag(p: string): string {
  return createHash('sha256').update(path.resolve(p)).digest('hex').slice(0, 12);
}
