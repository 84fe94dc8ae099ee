/**
 * Instantiating the WASM kernels through emnapi, given emnapi's modules: wasm-loader.ts passes their ES modules
 * (any environment); the Node file backend (wasm.ts) requires their CommonJS builds only when it first loads the
 * kernels — synchronously where needed — so a process on the native backend never loads them (~45 ms a thread).
 */
import type * as EmnapiCore from '@emnapi/core';
import type * as EmnapiRuntime from '@emnapi/runtime';
import type * as WasmUtil from '@tybys/wasm-util';
import type { KernelBindings } from './backend.js';

export interface EmnapiModules {
  core: Pick<typeof EmnapiCore, 'instantiateNapiModule' | 'instantiateNapiModuleSync'>;
  runtime: Pick<typeof EmnapiRuntime, 'getDefaultContext'>;
  wasi: Pick<typeof WasmUtil, 'WASI'>;
}

export interface WasmOptions {
  /**
   * MiB of linear memory to reserve at start-up (default 256, at most 2048, 0 = none). Every growth of WASM memory
   * costs V8 a full garbage collection and malloc grows it piecemeal; one large malloc + free grows it once, and
   * malloc serves later requests from that block. Pages are committed only when touched.
   */
  reserveHeapMB?: number;
}

type Source = Parameters<typeof EmnapiCore.instantiateNapiModule>[0];
type SyncSource = Parameters<typeof EmnapiCore.instantiateNapiModuleSync>[0];

function reserveHeap(instance: WebAssembly.Instance, options: WasmOptions): void {
  const mb = options.reserveHeapMB ?? 256;
  const { malloc, free } = instance.exports as { malloc?: (n: number) => number; free?: (p: number) => void };
  if (!malloc || !free || !(mb > 0)) return;
  const p = malloc(Math.min(mb, 2048) * 2 ** 20);
  if (p) free(p);
}

export function wasmInstantiators({ core, runtime, wasi }: EmnapiModules) {
  const options = () => ({
    wasi: new wasi.WASI({ version: 'preview1' }) as never,
    context: runtime.getDefaultContext(),
    overwriteImports(imports: WebAssembly.Imports) {
      imports.env = { ...imports.env, ...imports.napi, ...imports.emnapi };
      return imports;
    },
  });
  return {
    async instantiate(source: unknown, opts: WasmOptions = {}): Promise<KernelBindings> {
      const { instance, napiModule } = await core.instantiateNapiModule(source as Source, options());
      reserveHeap(instance, opts);
      return napiModule.exports as unknown as KernelBindings;
    },
    instantiateSync(source: BufferSource | WebAssembly.Module, opts: WasmOptions = {}): KernelBindings {
      const { instance, napiModule } = core.instantiateNapiModuleSync(source as SyncSource, options());
      reserveHeap(instance, opts);
      return napiModule.exports as unknown as KernelBindings;
    },
  };
}
