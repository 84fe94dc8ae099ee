/**
 * h5wasm, loaded on first use: instantiating its WebAssembly module costs ~70 ms of the loading thread, which a
 * process that never touches HDF5 (or a coordinating thread) should not pay at import.
 *
 * HDF5's default error handler prints its whole error stack ("HDF5-DIAG: Error detected …", ~20 lines) to
 * stderr whenever a call fails — a truncated file, a probe for a missing name — even under `--quiet`. We switch
 * on h5wasm's throwing handler instead (H5Eset_auto2 with a handler that raises the printed stack as a JS
 * Error), so failures reach our code as exceptions and `hdf5Cause` turns the stack into one line.
 */
import type h5wasm from 'h5wasm/node';

export type H5Lib = typeof h5wasm;
export type H5Module = Awaited<H5Lib['ready']>;

let loading: Promise<{ lib: H5Lib; module: H5Module }> | undefined;

export function loadH5wasm(): Promise<{ lib: H5Lib; module: H5Module }> {
  loading ??= import('h5wasm/node').then(async (m) => {
    const module = await m.default.ready;
    module.activate_throwing_error_handler();
    return { lib: m.default, module };
  });
  return loading;
}

/**
 * The innermost cause of an HDF5 error stack ("truncated file: eof = 1792, … stored_eof = 3584"; for a failed
 * system call the OS's message), or the error's message when it is not one.
 */
export function hdf5Cause(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (!message.includes('HDF5-DIAG')) return message;
  // a failed system call: the OS's own words (e.g. 'No space left on device')
  const system = [...message.matchAll(/error message = '([^']*)'/g)].map((m) => m[1]);
  if (system.length > 0) return system[system.length - 1];
  const causes = [...message.matchAll(/ in [\w.]+\(\): (.+)$/gm)].map((m) => m[1].trim());
  return causes.length > 0 ? causes[causes.length - 1] : message.split('\n')[0];
}
