/** scPortrait's classes.csv: the kept cell ids, one decimal integer per line, no header, no trailing newline. */
import fs from 'node:fs';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { IO_CORRUPT, statInput } from './source.js';

/**
 * Writes `ids` in the given order (scPortrait writes the nucleus ids that passed filtering, sorted for a single
 * image). Ids must be non-negative integers (numbers up to 2^53 or bigints up to 2^64-1). Atomic.
 */
export async function writeClassesCsv(file: string, ids: Iterable<number | bigint>): Promise<void> {
  const lines: string[] = [];
  for (const id of ids) {
    const ok = typeof id === 'bigint' ? id >= 0n && id < 1n << 64n : Number.isSafeInteger(id) && id >= 0;
    if (!ok) throw new InputError(`${file}: class id ${String(id)} is not a non-negative integer`, 'ERR_SCSEG_ARGUMENT');
    lines.push(id.toString());
  }
  await writeFileAtomic(file, lines.join('\n'));
}

/** Reads a classes.csv back (blank lines ignored). */
export function readClassesCsv(file: string): number[] {
  statInput(file, 'file');
  const ids: number[] = [];
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '') return;
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) {
      throw new InputError(`${file}:${i + 1}: not a cell id: ${JSON.stringify(t)}`, IO_CORRUPT);
    }
    ids.push(Number(t));
  });
  return ids;
}
