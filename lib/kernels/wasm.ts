import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BackendError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { moduleBackend, type Backend } from './backend.js';
import { wasmInstantiators, type EmnapiModules, type WasmOptions } from './wasm-instantiate.js';

let instantiators: ReturnType<typeof wasmInstantiators> | undefined;
/** emnapi's CommonJS builds, required on first use (synchronously: kernels() resolves backends synchronously). */
function emnapi(): ReturnType<typeof wasmInstantiators> {
  if (!instantiators) {
    const require = createRequire(import.meta.url);
    const modules: EmnapiModules = {
      core: require('@emnapi/core') as EmnapiModules['core'],
      runtime: require('@emnapi/runtime') as EmnapiModules['runtime'],
      wasi: require('@tybys/wasm-util') as EmnapiModules['wasi'],
    };
    instantiators = wasmInstantiators(modules);
  }
  return instantiators;
}

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
        return { path: file, bindings: await emnapi().instantiate(bytes, options) };
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
        return { path: file, bindings: emnapi().instantiateSync(bytes, options) };
      } catch (err) {
        throw cannot(err);
      }
    },
  );
}
