/**
 * Starts a worker thread on one of this package's modules, from the compiled output (`.js`, as installed) or from
 * the TypeScript sources (`.ts`: tests, `tsx`), where the worker first registers tsx's loader (Node does not pass
 * a parent's loader hooks on to worker threads).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function spawnModuleWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // tsx's ESM entry (require.resolve would give its CommonJS one).
  const root = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsx = pathToFileURL(path.join(root, 'dist', 'esm', 'api', 'index.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
