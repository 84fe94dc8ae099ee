/**
 * Backends registered by name with a priority (onnxruntime-js's pattern). An explicit name gives that backend
 * or a BackendError saying why not; 'auto' gives the highest-priority backend that initialises. Resolution is
 * asynchronous (`resolveKernels`, any environment) or synchronous (`kernelsSync`, where every candidate has
 * `initSync`, as in Node). Each realm (main thread, worker) has its own registry and its own module instances.
 * Environment-neutral: no Node import here.
 */
import { BackendError } from '../errors.js';
import type { Backend, BackendName } from './backend.js';
import { Kernels } from './facade.js';

const registry = new Map<BackendName, { backend: Backend; priority: number }>();

/** Registers `backend` under `name` (replacing an earlier one of that name); 'auto' tries higher priorities first. */
export function registerBackend(name: BackendName, backend: Backend, priority: number): void {
  if (backend.name !== name) throw new BackendError(`registerBackend: backend "${backend.name}" registered as "${name}"`);
  if (!Number.isFinite(priority)) throw new BackendError(`registerBackend: priority of "${name}" must be a finite number`);
  registry.set(name, { backend, priority });
}

/** Registered backend names, highest priority first. */
export function registeredBackends(): BackendName[] {
  return [...registry.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([name]) => name);
}

function registered(name: BackendName): Backend {
  const entry = registry.get(name);
  if (!entry) {
    const known = registeredBackends();
    throw new BackendError(`no kernel backend "${name}" is registered (registered: ${known.length ? known.join(', ') : 'none'})`);
  }
  return entry.backend;
}

function noneLoaded(errors: [BackendName, unknown][]): BackendError {
  if (errors.length === 0) return new BackendError('no kernel backend is registered');
  const lines = errors.map(([name, err]) => `${name}: ${(err as Error)?.message ?? String(err)}`);
  return new BackendError(`no kernel backend could be loaded.\n${lines.join('\n')}`);
}

function initSync(backend: Backend): void {
  if (backend.initialized) return;
  if (!backend.initSync) {
    throw new BackendError(`the ${backend.name} backend initialises asynchronously only: use await resolveKernels()`);
  }
  backend.initSync();
}

/** The initialised backend `name` ('auto': the highest-priority one that initialises), synchronously. */
export function resolveBackendSync(name: BackendName | 'auto'): Backend {
  if (name !== 'auto') {
    const backend = registered(name);
    initSync(backend);
    return backend;
  }
  const errors: [BackendName, unknown][] = [];
  for (const candidate of registeredBackends()) {
    try {
      return resolveBackendSync(candidate);
    } catch (err) {
      errors.push([candidate, err]);
    }
  }
  throw noneLoaded(errors);
}

/** The same, asynchronously (works for backends without a synchronous path, e.g. WASM fetched in a browser). */
export async function resolveBackendAsync(name: BackendName | 'auto'): Promise<Backend> {
  if (name !== 'auto') {
    const backend = registered(name);
    await backend.init();
    return backend;
  }
  const errors: [BackendName, unknown][] = [];
  for (const candidate of registeredBackends()) {
    try {
      return await resolveBackendAsync(candidate);
    } catch (err) {
      errors.push([candidate, err]);
    }
  }
  throw noneLoaded(errors);
}

export interface KernelOptions {
  /** Thread budget of every kernel call (1..limits.maxThreads; WASM runs 1 whatever it is). Default 1 here. */
  threads?: number;
}

/** Kernels on backend `name` ('auto' by default) with `options.threads` threads per call, synchronously. */
export function kernelsSync(name: BackendName | 'auto' = 'auto', options: KernelOptions = {}): Kernels {
  return Kernels.on(resolveBackendSync(name), options.threads ?? 1);
}

/** Kernels on backend `name` ('auto' by default) with `options.threads` threads per call, in any environment. */
export async function resolveKernels(name: BackendName | 'auto' = 'auto', options: KernelOptions = {}): Promise<Kernels> {
  return Kernels.on(await resolveBackendAsync(name), options.threads ?? 1);
}
