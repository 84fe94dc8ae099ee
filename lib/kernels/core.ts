/**
 * The environment-neutral kernel API (browser, workers, Node alike): the backend registry, the Kernels facade,
 * argument validation and the WASM loader. Nothing here imports a Node module or reads the environment; the
 * Node entry (index.ts) registers the native addon and the WASM file and applies SCSEG_* settings.
 *
 *   registerBackend('wasm', wasmBackend(fetch(new URL('scseg_kernels.wasm', import.meta.url))), 10);
 *   const k = await resolveKernels('auto', { threads: 1 });
 */
export type { Backend, BackendName, KernelBindings, KernelLimits, LoadedModule } from './backend.js';
export { moduleBackend } from './backend.js';
export { Kernels, type CellposeMaskOptions, type FlowField } from './facade.js';
export {
  kernelsSync,
  registerBackend,
  registeredBackends,
  resolveBackendAsync,
  resolveBackendSync,
  resolveKernels,
  type KernelOptions,
} from './registry.js';
export { kernelChecks, type KernelName } from './validate.js';
export { instantiateWasmKernels, instantiateWasmKernelsSync, wasmBackend, type WasmOptions, type WasmSource } from './wasm-loader.js';
