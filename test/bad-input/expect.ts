/** What a failed run must leave behind: the output directory as it was (absent, empty, or its previous files). */
import fs from 'node:fs';
import path from 'node:path';

/** The key of `previous` / `outputState` for a file standing where the output directory should be. */
export const OUTPUT_FILE = '<the output path itself>';

/** Writes the previous run's files (name → content) into `output` before a case runs. */
export function seedPrevious(output: string, previous: Record<string, string> | undefined): void {
  if (!previous) return;
  if (OUTPUT_FILE in previous) {
    fs.writeFileSync(output, previous[OUTPUT_FILE]);
    return;
  }
  fs.mkdirSync(output, { recursive: true });
  for (const [name, text] of Object.entries(previous)) fs.writeFileSync(path.join(output, name), text);
}

/**
 * Every file under `output` (hidden temporaries included) with its content as text; {} when the directory is
 * absent or empty. A file where the directory should be is reported as such.
 */
export function outputState(output: string): Record<string, string> {
  if (!fs.existsSync(output)) return {};
  if (!fs.statSync(output).isDirectory()) return { [OUTPUT_FILE]: fs.readFileSync(output, 'latin1') };
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(output, p)] = fs.readFileSync(p, 'latin1');
    }
  };
  walk(output);
  return out;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Each fragment as a RegExp (strings literally). */
export function fragments(list: readonly (string | RegExp)[]): RegExp[] {
  return list.map((f) => (f instanceof RegExp ? f : new RegExp(escapeRegExp(f))));
}
