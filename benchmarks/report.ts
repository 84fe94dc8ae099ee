/** Shared benchmark plumbing: timing and the JSON + markdown result files under benchmarks/results/. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/helpers/fixtures.js';

export interface Row {
  case: string;
  /** wall seconds per implementation (best of the repeats) */
  seconds: Record<string, number>;
}

export function bestOf<T>(repeat: number, fn: () => T): { seconds: number; result: T } {
  let best = Infinity;
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    result = fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds: best, result };
}

/** bestOf for an async job (each run awaited before the next starts). */
export async function bestOfAsync<T>(repeat: number, fn: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  let best = Infinity;
  let result!: T;
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    result = await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds: best, result };
}

function fmt(s: number | undefined): string {
  return s === undefined ? '—' : s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`;
}

export function writeResults(name: string, rows: Row[], opts: { reference: string; notes: string[] }): void {
  const impls = [...new Set(rows.flatMap((r) => Object.keys(r.seconds)))];
  const ours = impls.filter((i) => i !== opts.reference);
  const header = [
    'case',
    ...impls,
    ...ours.map((i) => `${opts.reference} / ${i}`),
    ...(ours.includes('wasm') && ours.includes('native') ? ['wasm / native'] : []),
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const ref = r.seconds[opts.reference];
    const cells = [
      r.case,
      ...impls.map((i) => fmt(r.seconds[i])),
      ...ours.map((i) => (ref && r.seconds[i] ? `${(ref / r.seconds[i]).toFixed(1)}×` : '—')),
      ...(header.includes('wasm / native')
        ? [r.seconds.wasm && r.seconds.native ? `${(r.seconds.wasm / r.seconds.native).toFixed(2)}` : '—']
        : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  const md = [`# ${name} benchmark`, '', `${new Date().toISOString()} — ${machine}`, '', ...lines, '', ...opts.notes.map((n) => `- ${n}`), ''].join('\n');
  const dir = path.join(repoRoot, 'benchmarks', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ name, date: new Date().toISOString(), machine, rows, ...opts }, null, 1)}\n`);
  fs.writeFileSync(path.join(dir, `${name}.md`), md);
  console.log(`\n${md}`);
}
