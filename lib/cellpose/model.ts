/**
 * A Cellpose network behind the model contract (README "Cellpose models"), on any ONNX Runtime build
 * (onnxruntime-node, onnxruntime-web): one input `input` float32 [N, 2, H, W]; outputs `output` [N, 3, H, W]
 * (dY, dX, cell-probability logit) and `style` [N, S]; metadata `diam_mean`, `diam_labels`, optional `size_model`.
 * Environment-neutral: the runtime and the model's bytes are handed in; where models come from is a registered
 * loader (`registerCellposeModels`; the Node entry registers one that reads files).
 */
import type { CellposeModelRef } from '../config/types.js';
import { InputError } from '../errors.js';
import { readOnnxMetadata } from './onnx-metadata.js';
import type { TileNetwork, TileOutputs } from './transforms.js';

/** Cellpose's size model (`SizeModel.params`): diameter from style, `exp(A·(style − smean) + log(diam_mean) + ymean)`. */
export interface SizeModelParams {
  readonly A: Float64Array;
  readonly smean: Float64Array;
  readonly ymean: number;
  readonly diamMean: number;
}

export interface CellposeModelInfo {
  /** Where the model came from (a file path, a URL, a name). */
  readonly source: string;
  /** The built-in model name (`nuclei`, `cyto3`, …) or null for a custom model. */
  readonly builtin: string | null;
  /** Cell diameter the network was trained at (metadata `diam_mean`; Cellpose's default when absent). */
  readonly diamMean: number;
  /** Mean diameter of the training ROIs (metadata `diam_labels`; diam_mean when absent). */
  readonly diamLabels: number;
  readonly sizeModel: SizeModelParams | null;
}

export interface CellposeNetwork {
  readonly info: CellposeModelInfo;
  /** Tiles [n, 2, h, w] → outputs [n, 3, h, w] and styles [n, S]. */
  readonly run: TileNetwork;
}

/** What the Cellpose workflows need of ONNX Runtime's JavaScript API (onnxruntime-node and -web both have it). */
export interface OnnxRuntime {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OnnxSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OnnxTensor;
}
export interface OnnxTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
  readonly type: string;
}
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly { name: string; isTensor: boolean; shape?: readonly (number | string)[] }[];
  readonly outputMetadata?: readonly { name: string; isTensor: boolean; shape?: readonly (number | string)[] }[];
  run(feeds: Record<string, OnnxTensor>): Promise<Record<string, OnnxTensor>>;
  release?(): Promise<void>;
}

/** Where models come from: a built-in name or a custom file → a ready network (sessions created once, reused). */
export interface CellposeModelLoader {
  load(ref: CellposeModelRef, options: { threads: number; modelsDir: string | null }): Promise<CellposeNetwork>;
}

let loader: CellposeModelLoader | null = null;

/** Sets where Cellpose models come from in this realm (main thread or worker). */
export function registerCellposeModels(l: CellposeModelLoader | null): void {
  loader = l;
}

export function cellposeModels(): CellposeModelLoader {
  if (!loader) {
    throw new InputError(
      'no Cellpose model loader is registered: in Node import the package entry; elsewhere call registerCellposeModels() ' +
        'with one that creates sessions on your ONNX Runtime (see createCellposeNetwork)',
      'ERR_SCSEG_MODEL',
    );
  }
  return loader;
}

/** Cellpose's diam_mean for a model without metadata: 17 for nucleus models, 30 for the others. */
function defaultDiamMean(builtin: string | null): number {
  return builtin?.includes('nuclei') ? 17 : 30;
}

function positiveMeta(meta: Record<string, string>, key: string, source: string): number | null {
  if (!(key in meta)) return null;
  const v = Number(meta[key]);
  if (!Number.isFinite(v) || v <= 0) {
    throw new InputError(`${source}: metadata ${key} must be a positive number, got "${meta[key]}"`, 'ERR_SCSEG_MODEL');
  }
  return v;
}

function readSizeModel(meta: Record<string, string>, source: string, diamMean: number): SizeModelParams | null {
  if (!meta.size_model) return null;
  const bad = (why: string): never => {
    throw new InputError(`${source}: metadata size_model ${why} (expected JSON {"A": [...], "smean": [...], "ymean": n, "diam_mean": n})`, 'ERR_SCSEG_MODEL');
  };
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(meta.size_model) as Record<string, unknown>;
  } catch {
    return bad('is not JSON');
  }
  const vec = (k: string) => {
    const v = p[k];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`.${k} is not a list of numbers`);
    return Float64Array.from(v as number[]);
  };
  const A = vec('A');
  const smean = vec('smean');
  if (A.length !== smean.length) bad(`.A has ${A.length} values but .smean ${smean.length}`);
  const ymean = Number(p.ymean);
  if (!Number.isFinite(ymean)) bad('.ymean is not a number');
  const dm = p.diam_mean === undefined ? diamMean : Number(p.diam_mean);
  if (!(dm > 0)) bad('.diam_mean is not a positive number');
  return { A, smean, ymean, diamMean: dm };
}

function dimsOk(shape: readonly (number | string)[] | undefined, rank: number, fixed: Record<number, number>): boolean {
  if (!shape) return true; // runtimes without value metadata: checked on the first run
  if (shape.length !== rank) return false;
  return Object.entries(fixed).every(([i, v]) => typeof shape[+i] !== 'number' || shape[+i] === v);
}

function contractError(source: string, why: string): InputError {
  return new InputError(
    `${source} does not follow the Cellpose model contract (${why}): expected input "input" float32 [N, 2, H, W] and ` +
      'outputs "output" [N, 3, H, W] and "style" [N, S]; convert Cellpose weights with scripts/export-cellpose-onnx.py',
    'ERR_SCSEG_MODEL',
  );
}

export interface CreateNetworkOptions {
  source: string;
  builtin: string | null;
  /** ONNX Runtime intra-op threads (the run's thread budget). */
  threads: number;
}

/** A session on `ort` for the model's bytes, checked against the contract, wrapped as a tile network. */
export async function createCellposeNetwork(ort: OnnxRuntime, bytes: Uint8Array, o: CreateNetworkOptions): Promise<CellposeNetwork> {
  const meta = readOnnxMetadata(bytes, o.source);
  const diamMean = positiveMeta(meta, 'diam_mean', o.source) ?? defaultDiamMean(o.builtin);
  const diamLabels = positiveMeta(meta, 'diam_labels', o.source) ?? diamMean;
  const sizeModel = readSizeModel(meta, o.source, diamMean);
  let session: OnnxSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: Math.max(1, o.threads),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
      // ORT's pool threads otherwise spin after each run, taking the cores from the JavaScript that blends the tiles
      // between runs (at 2048² on 2 cores: the blending took 4× its time, the whole network step 1.3 s instead of 0.9)
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  } catch (err) {
    throw new InputError(`${o.source}: ONNX Runtime cannot load it: ${(err as Error).message}`, 'ERR_SCSEG_MODEL', { cause: err });
  }
  if (!session.inputNames.includes('input')) throw contractError(o.source, `inputs are ${JSON.stringify(session.inputNames)}`);
  for (const name of ['output', 'style']) {
    if (!session.outputNames.includes(name)) throw contractError(o.source, `outputs are ${JSON.stringify(session.outputNames)}`);
  }
  const shapeOf = (list: OnnxSession['inputMetadata'], name: string) => list?.find((m) => m.name === name)?.shape;
  if (!dimsOk(shapeOf(session.inputMetadata, 'input'), 4, { 1: 2 })) throw contractError(o.source, 'input is not [N, 2, H, W]');
  if (!dimsOk(shapeOf(session.outputMetadata, 'output'), 4, { 1: 3 })) throw contractError(o.source, 'output is not [N, 3, H, W]');
  if (!dimsOk(shapeOf(session.outputMetadata, 'style'), 2, {})) throw contractError(o.source, 'style is not [N, S]');

  const run = async (tiles: Float32Array, count: number, height: number, width: number): Promise<TileOutputs> => {
    // A copy: the runtime may not honour a view's offset into the batch buffer.
    const input = new ort.Tensor('float32', tiles.slice(), [count, 2, height, width]);
    let result: Record<string, OnnxTensor>;
    try {
      result = await session.run({ input });
    } catch (err) {
      throw new InputError(`${o.source}: inference failed: ${(err as Error).message}`, 'ERR_SCSEG_MODEL', { cause: err });
    }
    const out = result.output;
    const style = result.style;
    const want = [count, 3, height, width];
    if (out.type !== 'float32' || out.dims.length !== 4 || out.dims.some((d, i) => d !== want[i])) {
      throw contractError(o.source, `output came back ${out.type} [${out.dims.join(', ')}] for [${want.join(', ')}]`);
    }
    if (style.type !== 'float32' || style.dims.length !== 2 || style.dims[0] !== count) {
      throw contractError(o.source, `style came back ${style.type} [${style.dims.join(', ')}] for ${count} tiles`);
    }
    return { output: out.data as Float32Array, style: style.data as Float32Array };
  };
  return { info: { source: o.source, builtin: o.builtin, diamMean, diamLabels, sizeModel }, run };
}
