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
 * Every growth of WASM linear memory costs V8 a full garbage collection, and malloc grows it piecemeal. One
 * large malloc + free at start-up grows it once; malloc then serves later requests from that free block.
 * Pages are only committed when touched, so the reservation costs address space, not memory.
 */
function reserveHeap(instance: WebAssembly.Instance): void {
  const mb = Number(process.env.SCSEG_WASM_RESERVE_MB ?? 256);
  const { malloc, free } = instance.exports as { malloc?: (n: number) => number; free?: (p: number) => void };
  if (!malloc || !free || !(mb > 0)) return;
  const p = malloc(Math.min(mb, 2048) * 2 ** 20);
  if (p) free(p);
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
    const { instance, napiModule } = instantiateNapiModuleSync(bytes, {
      wasi: new WASI({ version: 'preview1' }) as never,
      context: getDefaultContext(),
      overwriteImports(imports: WebAssembly.Imports) {
        imports.env = { ...imports.env, ...imports.napi, ...imports.emnapi };
        return imports;
      },
    });
    reserveHeap(instance);
    return { name: 'wasm', path: file, bindings: napiModule.exports as unknown as KernelBindings };
  } catch (err) {
    throw new BackendError(`cannot instantiate WASM kernels from ${file}: ${(err as Error).message}`, { cause: err });
  }
}
