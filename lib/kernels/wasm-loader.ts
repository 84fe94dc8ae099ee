/**
 * Instantiates the WASM kernels (wasm/dist/scseg_kernels.wasm) in any JavaScript environment: asynchronously from
 * bytes, a compiled module, a `Response` (fetch) or a URL, or synchronously from bytes / a module. Environment-
 * neutral: emnapi's runtime and the pure-JS WASI of @tybys/wasm-util (the kernels make no system calls beyond
 * memory allocation) need neither Node nor a browser.
 */
import * as emnapiCore from '@emnapi/core';
import * as emnapiRuntime from '@emnapi/runtime';
import * as wasmUtil from '@tybys/wasm-util';
import { BackendError } from '../errors.js';
import { moduleBackend, type Backend, type KernelBindings } from './backend.js';
import { wasmInstantiators, type WasmOptions } from './wasm-instantiate.js';

export type { WasmOptions } from './wasm-instantiate.js';

/** Where WASM kernels can come from. */
export type WasmSource = BufferSource | WebAssembly.Module | Response | URL | string;

const { instantiate, instantiateSync } = wasmInstantiators({ core: emnapiCore, runtime: emnapiRuntime, wasi: wasmUtil });

/** The kernels of one new WASM instance (its own linear memory), asynchronously from any source. */
export function instantiateWasmKernels(source: WasmSource | Promise<WasmSource>, options: WasmOptions = {}): Promise<KernelBindings> {
  return instantiate(source, options);
}

/** The same, synchronously, from bytes or a compiled module (works on the main thread and in workers alike). */
export function instantiateWasmKernelsSync(source: BufferSource | WebAssembly.Module, options: WasmOptions = {}): KernelBindings {
  return instantiateSync(source, options);
}

function describe(source: unknown): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (typeof Response !== 'undefined' && source instanceof Response) return source.url || 'a Response';
  if (source instanceof WebAssembly.Module) return 'a WebAssembly.Module';
  return 'bytes';
}

/**
 * A 'wasm' Backend over `source` (or a function giving it, called once at initialisation). Synchronous
 * initialisation exists when the source is bytes or a compiled module.
 */
export function wasmBackend(source: WasmSource | (() => WasmSource | Promise<WasmSource>), options: WasmOptions = {}): Backend {
  let resolved: WasmSource | Promise<WasmSource> | undefined;
  const get = () => (resolved ??= typeof source === 'function' ? source() : source);
  const fail = (err: unknown): never => {
    throw new BackendError(`cannot instantiate WASM kernels from ${describe(resolved)}: ${(err as Error).message}`, { cause: err });
  };
  const load = async () => {
    const s = await get();
    try {
      return { bindings: await instantiateWasmKernels(s, options), path: describe(s) };
    } catch (err) {
      return fail(err);
    }
  };
  const loadSync = () => {
    const s = get();
    if (!(ArrayBuffer.isView(s) || s instanceof ArrayBuffer || s instanceof WebAssembly.Module)) {
      throw new BackendError(`WASM kernels from ${describe(s)} load asynchronously only: use await resolveKernels()`);
    }
    try {
      return { bindings: instantiateWasmKernelsSync(s, options), path: describe(s) };
    } catch (err) {
      return fail(err);
    }
  };
  return moduleBackend('wasm', load, loadSync);
}
