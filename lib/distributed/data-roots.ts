/**
 * A worker reads and writes only under its data roots (`scseg worker --data-root DIR …`): a job names paths, and a
 * job comes from Redis, which anyone who can reach it may write. Paths are compared after resolving `..` and
 * symbolic links (of the part that exists), so neither `../../etc` nor a link out of a root gets through.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

/** The real path of `p`: its deepest existing ancestor resolved through links, the rest appended. */
function realPath(p: string): string {
  const abs = path.resolve(p);
  const missing: string[] = [];
  for (let dir = abs; ; dir = path.dirname(dir)) {
    try {
      return path.join(fs.realpathSync(dir), ...missing.reverse());
    } catch {
      if (path.dirname(dir) === dir) return abs;
      missing.push(path.basename(dir));
    }
  }
}

export function resolveDataRoots(roots: readonly string[]): string[] {
  return roots.map((r) => {
    if (!fs.statSync(r, { throwIfNoEntry: false })?.isDirectory()) throw new InputError(`--data-root ${r}: not a directory`, 'ERR_SCSEG_ARGUMENT');
    return realPath(r);
  });
}

/** Throws (InputError ERR_SCSEG_DATA_ROOT) unless every path lies inside one of `roots` (already resolved). */
export function checkInsideRoots(paths: readonly string[], roots: readonly string[], what: string): void {
  for (const p of paths) {
    if (typeof p !== 'string' || !path.isAbsolute(p)) {
      throw new InputError(`${what}: path ${JSON.stringify(p)} is not absolute; refused`, 'ERR_SCSEG_DATA_ROOT');
    }
    const real = realPath(p);
    if (!roots.some((r) => real === r || real.startsWith(r.endsWith(path.sep) ? r : r + path.sep))) {
      throw new InputError(`${what}: ${p} is outside this worker's data roots (${roots.join(', ')}); refused`, 'ERR_SCSEG_DATA_ROOT');
    }
  }
}
