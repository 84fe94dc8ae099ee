/**
 * h5wasm, loaded on first use: instantiating its WebAssembly module costs ~70 ms of the loading thread, which a
 * process that never touches HDF5 (or a coordinating thread) should not pay at import.
 */
import type h5wasm from 'h5wasm/node';

export type H5Lib = typeof h5wasm;
export type H5Module = Awaited<H5Lib['ready']>;

let loading: Promise<{ lib: H5Lib; module: H5Module }> | undefined;

export function loadH5wasm(): Promise<{ lib: H5Lib; module: H5Module }> {
  loading ??= import('h5wasm/node').then(async (m) => ({ lib: m.default, module: await m.default.ready }));
  return loading;
}
