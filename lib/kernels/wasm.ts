import fs from 'node:fs';
import path from 'node:path';
import { instantiateNapiModuleSync } from '@emnapi/core';
import { getDefaultContext } from '@emnapi/runtime';
import { WASI } from '@tybys/wasm-util';
import { BackendError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { Backend, KernelBindings } from './backend.js';

function wasmPath(): string {
  return process.env.SCSEG_WASM_PATH
    ? path.resolve(process.env.SCSEG_WASM_PATH)
    : path.join(packageRoot(), 'wasm', 'dist', 'scseg_kernels.wasm');
}

/**
 * Instantiates the WASM build synchronously (works on the main thread and in worker threads alike; each
 * thread gets its own instance and linear memory). Pure-JS WASI from @tybys/wasm-util avoids node:wasi's
 * experimental warning; the kernels make no system calls beyond memory allocation.
 */
export function loadWasmBackend(): Backend {
  const file = wasmPath();
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new BackendError(`WASM kernels not found at ${file}; run \`npm run build:wasm\``, { cause: err });
  }
  try {
    const { napiModule } = instantiateNapiModuleSync(bytes, {
      wasi: new WASI({ version: 'preview1' }) as never,
      context: getDefaultContext(),
      overwriteImports(imports: WebAssembly.Imports) {
        imports.env = { ...imports.env, ...imports.napi, ...imports.emnapi };
        return imports;
      },
    });
    return { name: 'wasm', path: file, bindings: napiModule.exports as unknown as KernelBindings };
  } catch (err) {
    throw new BackendError(`cannot instantiate WASM kernels from ${file}: ${(err as Error).message}`, { cause: err });
  }
}
