/**
 * The kernels' Node entry: registers the native addon (priority 100) and the WASM build read from its file
 * (priority 10) with the environment-neutral core (core.ts), and applies the environment once:
 *
 *   SCSEG_BACKEND=native|wasm|auto   the backend of kernels() without a name (default auto: native, else WASM)
 *   SCSEG_THREADS=n                  the default thread budget (1..64; default: the cores, at most 8)
 *   SCSEG_NATIVE_PATH, SCSEG_WASM_PATH, SCSEG_WASM_RESERVE_MB   where the modules are, WASM's heap reservation
 *
 * Loading is synchronous here, so the same facade works inside worker threads (each loads its own modules).
 * Browsers and other environments import core.ts instead.
 */
import os from 'node:os';
import { BackendError, InputError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';
import { Kernels } from './facade.js';
import { nativeBackend } from './native.js';
import { registerBackend, resolveBackendAsync, resolveBackendSync, type KernelOptions } from './registry.js';
import { wasmFileBackend, wasmPath } from './wasm.js';

export type { Backend, BackendName, KernelBindings, KernelLimits } from './backend.js';
export { Kernels, type CellposeMaskOptions, type FlowField } from './facade.js';
export { registerBackend, registeredBackends, type KernelOptions } from './registry.js';

/** Largest median radius accepted: the module's limits.maxMedianRadius (a test asserts they agree). */
export const MAX_MEDIAN_RADIUS = 4096;

registerBackend('native', nativeBackend(process.env.SCSEG_NATIVE_PATH || undefined), 100);
registerBackend(
  'wasm',
  wasmFileBackend(wasmPath(process.env.SCSEG_WASM_PATH || undefined), {
    reserveHeapMB: Number(process.env.SCSEG_WASM_RESERVE_MB ?? 256),
  }),
  10,
);

/** SCSEG_BACKEND as a backend choice. */
export function backendFromEnv(value: string | undefined): BackendName | 'auto' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (v === 'native' || v === 'wasm') return v;
  throw new BackendError(`SCSEG_BACKEND must be "native", "wasm" or "auto", got "${value}"`);
}

/** SCSEG_THREADS as a thread budget: an integer in [1, maxThreads]; unset, the cores (at most 8). */
export function threadsFromEnv(value: string | undefined, maxThreads: number): number {
  const v = (value ?? '').trim();
  if (v === '') return Math.min(os.availableParallelism(), 8, maxThreads);
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > maxThreads) {
    throw new InputError(`SCSEG_THREADS must be an integer in [1, ${maxThreads}], got "${value}"`, 'ERR_SCSEG_ARGUMENT');
  }
  return n;
}

// Read once, at import; checked where used, so a bad value fails the kernels() call that needs it, not the import.
const environment = { SCSEG_BACKEND: process.env.SCSEG_BACKEND, SCSEG_THREADS: process.env.SCSEG_THREADS };

function requestedBackend(): BackendName | 'auto' {
  return backendFromEnv(environment.SCSEG_BACKEND);
}

function defaultThreads(backend: Backend): number {
  return threadsFromEnv(environment.SCSEG_THREADS, backend.limits.maxThreads);
}

/** The initialised backend `name`: native or WASM, or a BackendError saying why it cannot load. */
export function loadBackend(name: BackendName): Backend {
  return resolveBackendSync(name);
}

/** Resolves the backend for this thread: the forced one, or native with WASM as fallback. */
export function resolveBackend(choice: BackendName | 'auto' = requestedBackend()): Backend {
  return resolveBackendSync(choice);
}

/**
 * Kernels on the requested backend (`name`), or on the one SCSEG_BACKEND / auto-detection selects, with
 * `options.threads` threads per call (default SCSEG_THREADS, else the cores, at most 8). One facade per
 * (backend, budget): facades with different budgets can run side by side in one process.
 */
export function kernels(name: BackendName | 'auto' = requestedBackend(), options: KernelOptions = {}): Kernels {
  const backend = resolveBackendSync(name);
  return Kernels.on(backend, options.threads ?? defaultThreads(backend));
}

/** kernels(), resolved asynchronously (same defaults). */
export async function resolveKernels(name: BackendName | 'auto' = requestedBackend(), options: KernelOptions = {}): Promise<Kernels> {
  const backend = await resolveBackendAsync(name);
  return Kernels.on(backend, options.threads ?? defaultThreads(backend));
}

/** Name of the backend the default facade uses in this thread. */
export function activeBackend(): BackendName {
  return kernels().backendName;
}
