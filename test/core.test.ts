/**
 * The environment-neutral core (lib/core.ts, the `default` export condition) imports nothing from Node and reads
 * no environment at import time: walked statically over its whole import graph, the way a bundler would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers/fixtures.js';

const ALLOWED_PACKAGES = ['yaml', '@emnapi/core', '@emnapi/runtime', '@tybys/wasm-util'];

/** Every module reachable from `entry` through value imports/exports (type-only ones are erased). */
function importGraph(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const pending = [entry];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    const text = fs.readFileSync(file, 'utf8');
    const re = /^\s*(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms;
    for (const m of text.matchAll(re)) {
      if (m[2]) continue;
      const spec = m[3];
      if (spec.startsWith('.')) pending.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
    for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) packages.add(m[1]);
  }
  return { files, packages };
}

describe('lib/core.ts is environment-neutral', () => {
  const { files, packages } = importGraph(path.join(repoRoot, 'lib', 'core.ts'));

  it('reaches the config, kernels and workflows modules', () => {
    const rel = files.map((f) => path.relative(repoRoot, f));
    for (const m of ['lib/config/load.ts', 'lib/kernels/facade.ts', 'lib/workflows/wga.ts', 'lib/workflows/dapi.ts']) {
      expect(rel).toContain(m);
    }
  });

  it('imports no Node module and only browser-safe packages', () => {
    expect([...packages].filter((p) => !ALLOWED_PACKAGES.includes(p))).toEqual([]);
  });

  it('uses no fs, process or createRequire in any module it reaches', () => {
    const code = (f: string) => fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const offenders = files.filter((f) => /\bcreateRequire\b|(?<![.\w])process\.|\bfs\./.test(code(f)));
    expect(offenders.map((f) => path.relative(repoRoot, f))).toEqual([]);
  });
});
