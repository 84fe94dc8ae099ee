/**
 * Starts a worker thread on one of this package's modules, from the compiled output (`.js`, as installed) or from
 * the TypeScript sources (`.ts`: tests, `tsx`), where the worker first registers tsx's loader (Node does not pass
 * a parent's loader hooks on to worker threads).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function spawnModuleWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // `npm test` builds lib/ into dist/ first and says so: the worker starts from that build of the same sources
  // instead of compiling them again through tsx (seconds per worker, dozens of workers per test run).
  const built = builtModule(entry);
  if (built) return new Worker(built, options);
  // tsx's ESM entry (require.resolve would give its CommonJS one).
  const root = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsx = pathToFileURL(path.join(root, 'dist', 'esm', 'api', 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** The compiled twin of a lib/ source module when SCSEG_TEST_BUILD names the build root (dist/) and it exists. */
function builtModule(entry: URL): URL | null {
  const root = process.env.SCSEG_TEST_BUILD;
  if (!root) return null;
  const source = path.resolve(path.dirname(entry.pathname), '..', '..'); // lib/<dir>/<module>.ts → repository root
  const rel = path.relative(source, entry.pathname).replace(/\.ts$/, '.js');
  const file = path.join(root, rel);
  return existsSync(file) ? pathToFileURL(file) : null;
}
