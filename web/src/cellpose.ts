/**
 * Cellpose in the page: the core's Cellpose workflows with the models the user picked, on onnxruntime-web's WASM
 * backend (bundled beside the page by Vite — no CDN), through the same model contract as the Node path
 * (lib/cellpose/model.ts). Loaded by the worker only when a Cellpose workflow runs.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { CellposeModelRef } from '../../lib/config/types.js';
import { InputError } from '../../lib/errors.js';
import { createCellposeNetwork, registerCellposeModels, type CellposeNetwork, type OnnxRuntime } from '../../lib/cellpose/model.js';

ort.env.wasm.wasmPaths = { wasm: ortWasm };
// Threads need SharedArrayBuffer, i.e. a cross-origin-isolated page, which a plain static server does not give;
// one thread also keeps ORT from starting helper workers of its own.
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;

export interface ModelFile {
  name: string;
  bytes: Uint8Array;
}

const sessions = new Map<string, Promise<CellposeNetwork>>();

/** The picked file a model reference means: `<name>.onnx` for a built-in name, the file name of a model_path; else the only file. */
function pick(ref: CellposeModelRef, files: readonly ModelFile[]): ModelFile {
  const wanted = ref.kind === 'pretrained' ? `${ref.name}.onnx` : ref.path.split(/[\\/]/).pop()!;
  const what = ref.kind === 'pretrained' ? `model "${ref.name}"` : `model_path ${ref.path}`;
  const match = files.find((f) => f.name === wanted) ?? (files.length === 1 ? files[0] : undefined);
  if (match) return match;
  throw new InputError(
    files.length === 0
      ? `${what}: choose its .onnx file (a Cellpose model converted with scripts/export-cellpose-onnx.py)`
      : `${what}: none of the chosen files is ${wanted} (chosen: ${files.map((f) => f.name).join(', ')})`,
    'ERR_SCSEG_MODEL',
  );
}

/** Makes the Cellpose workflows of this worker load their models from `files`. */
export function useModelFiles(files: readonly ModelFile[]): void {
  registerCellposeModels({
    load(ref) {
      const file = pick(ref, files);
      const builtin = ref.kind === 'pretrained' ? ref.name : null;
      const key = `${file.name}\0${file.bytes.length}\0${builtin}`;
      let network = sessions.get(key);
      if (!network) {
        network = createCellposeNetwork(ort as unknown as OnnxRuntime, file.bytes, { source: file.name, builtin, threads: 1 });
        network.catch(() => sessions.delete(key));
        sessions.set(key, network);
      }
      return network;
    },
  });
}
