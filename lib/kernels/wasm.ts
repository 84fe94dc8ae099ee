import fs from 'node:fs';
import path from 'node:path';
import { BackendError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { moduleBackend, type Backend } from './backend.js';
import { instantiateWasmKernels, instantiateWasmKernelsSync, type WasmOptions } from './wasm-loader.js';

/** The shipped WASM build, or `file` (SCSEG_WASM_PATH). */
export function wasmPath(file?: string): string {
  return file ? path.resolve(file) : path.join(packageRoot(), 'wasm', 'dist', 'scseg_kernels.wasm');
}

/**
 * The WASM build read from a file: synchronously (main thread and worker threads alike; each thread gets its own
 * instance and linear memory) or asynchronously.
 */
export function wasmFileBackend(file: string, options: WasmOptions = {}): Backend {
  const notFound = (err: unknown) =>
    new BackendError(`WASM kernels not found at ${file}; run \`npm run build:wasm\``, { cause: err });
  const cannot = (err: unknown) =>
    new BackendError(`cannot instantiate WASM kernels from ${file}: ${(err as Error).message}`, { cause: err });
  return moduleBackend(
    'wasm',
    async () => {
      const bytes = await fs.promises.readFile(file).catch((err: unknown) => {
        throw notFound(err);
      });
      try {
        return { path: file, bindings: await instantiateWasmKernels(bytes, options) };
      } catch (err) {
        throw cannot(err);
      }
    },
    () => {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(file);
      } catch (err) {
        throw notFound(err);
      }
      try {
        return { path: file, bindings: instantiateWasmKernelsSync(bytes, options) };
      } catch (err) {
        throw cannot(err);
      }
    },
  );
}
