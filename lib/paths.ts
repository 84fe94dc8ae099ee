import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package's root directory, from sources (lib/) or from the compiled output (dist/lib/). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const name = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === 'scportrait-segmentation') return (cached = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('scportrait-segmentation: cannot locate the package root');
    dir = parent;
  }
}
