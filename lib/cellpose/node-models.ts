/**
 * Cellpose models from files, on onnxruntime-node: `model_path` is an ONNX file; a built-in name (`nuclei`, `cyto3`,
 * …) is `<name>.onnx` in the models directory (the section's `models_dir`, else SCSEG_MODELS). Nothing is ever
 * downloaded. One session per file and thread count per realm, created on first use and reused by every image and
 * shard this thread segments. Importing this module registers the loader.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CellposeModelRef } from '../config/types.js';
import { InputError } from '../errors.js';
import { createCellposeNetwork, registerCellposeModels, type CellposeNetwork, type OnnxRuntime } from './model.js';

const HOW_TO_CONVERT =
  'convert Cellpose weights with scripts/export-cellpose-onnx.py (needs your own torch + cellpose install), e.g. ' +
  '`python3 scripts/export-cellpose-onnx.py nuclei $SCSEG_MODELS/nuclei.onnx`';

/** The ONNX file a model reference names. */
export function resolveModelFile(ref: CellposeModelRef, modelsDir: string | null): string {
  if (ref.kind === 'custom') {
    const file = path.resolve(ref.path);
    if (!fs.existsSync(file)) {
      throw new InputError(`model_path ${ref.path}: no such file (an ONNX model following the Cellpose model contract; ${HOW_TO_CONVERT})`, 'ERR_SCSEG_MODEL');
    }
    if (!fs.statSync(file).isFile()) throw new InputError(`model_path ${ref.path} is not a file`, 'ERR_SCSEG_MODEL');
    return file;
  }
  const name = ref.name;
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) {
    throw new InputError(`model "${name}" is not a model name (letters, digits, _ . -); for a file use model_path`, 'ERR_SCSEG_MODEL');
  }
  const dir = modelsDir ?? process.env.SCSEG_MODELS ?? null;
  if (!dir) {
    throw new InputError(
      `model "${name}": no models directory — set SCSEG_MODELS (or models_dir in the section, or --models) to a folder ` +
        `holding ${name}.onnx; ${HOW_TO_CONVERT}`,
      'ERR_SCSEG_MODEL',
    );
  }
  const file = path.resolve(dir, `${name}.onnx`);
  if (!fs.existsSync(file)) {
    const have = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).map((f) => f.slice(0, -5)) : null;
    throw new InputError(
      `model "${name}": ${file} not found (${have === null ? `${dir} does not exist` : `models there: ${have.join(', ') || 'none'}`}); ${HOW_TO_CONVERT}`,
      'ERR_SCSEG_MODEL',
    );
  }
  return file;
}

let runtime: OnnxRuntime | null = null;

function onnxRuntime(): OnnxRuntime {
  if (!runtime) {
    try {
      runtime = createRequire(import.meta.url)('onnxruntime-node') as OnnxRuntime;
    } catch (err) {
      throw new InputError(
        `the Cellpose workflows need onnxruntime-node, which did not load: ${(err as Error).message}`,
        'ERR_SCSEG_MODEL',
        { cause: err },
      );
    }
  }
  return runtime;
}

const sessions = new Map<string, Promise<CellposeNetwork>>();

export async function loadCellposeModel(
  ref: CellposeModelRef,
  options: { threads: number; modelsDir: string | null },
): Promise<CellposeNetwork> {
  const file = resolveModelFile(ref, options.modelsDir);
  const stat = fs.statSync(file);
  const key = `${file}\0${stat.size}\0${stat.mtimeMs}\0${options.threads}`;
  let network = sessions.get(key);
  if (!network) {
    const builtin = ref.kind === 'pretrained' ? ref.name : null;
    network = createCellposeNetwork(onnxRuntime(), fs.readFileSync(file), { source: file, builtin, threads: options.threads });
    sessions.set(key, network);
    network.catch(() => sessions.delete(key));
  }
  return network;
}

registerCellposeModels({ load: loadCellposeModel });
