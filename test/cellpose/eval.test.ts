/**
 * Cellpose on ONNX Runtime against Cellpose 3.1.1.3 itself (fixtures by scripts/fixtures/make_cellpose_onnx_fixtures.py,
 * test/fixtures/cellpose-onnx/README.md):
 * 1. a Cellpose-architecture network (CPnet, random weights) on onnxruntime-node equals PyTorch within 1e-4;
 * 2. the whole eval — channels, normalisation (percentiles or scPortrait's min–max), resize, tiling and blending,
 *    dynamics, flow-error step, resample or not, size-model diameter estimate — with a fixed-convolution stand-in
 *    model gives Cellpose's own `eval` masks (same model as a torch module) on real crops: ARI ≥ 0.999 (we ask for
 *    identical labels), on the backend under test; and its F1@IoU0.5 against the human ground truth.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { adjustedRandIndex, f1AtIoU } from '../../benchmarks/python-original/metrics.js';
import { cellposeEval } from '../../lib/cellpose/eval.js';
import { createCellposeNetwork, type CellposeNetwork, type OnnxRuntime } from '../../lib/cellpose/model.js';
import { minMaxScale, runTiled, type CellposeChannels } from '../../lib/cellpose/transforms.js';
import type { Image2D, PixelArray } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { fixturesDir } from '../helpers/fixtures.js';

const dir = path.join(fixturesDir, 'cellpose-onnx');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const ort = createRequire(import.meta.url)('onnxruntime-node') as OnnxRuntime;
const k = kernels();

interface Ref {
  file: string;
  dtype: 'float32' | 'uint16';
  shape: number[];
}
function readRef(ref: Ref): Float32Array | Uint16Array {
  const raw = gunzipSync(fs.readFileSync(path.join(dir, ref.file)));
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  const a = ref.dtype === 'float32' ? new Float32Array(buf) : new Uint16Array(buf);
  expect(a.length).toBe(ref.shape.reduce((x, y) => x * y, 1));
  return a;
}

const networks = new Map<string, Promise<CellposeNetwork>>();
function network(file: string, builtin: string | null = null): Promise<CellposeNetwork> {
  const key = `${file}:${builtin}`;
  if (!networks.has(key)) {
    networks.set(key, createCellposeNetwork(ort, fs.readFileSync(path.join(dir, file)), { source: file, builtin, threads: 2 }));
  }
  return networks.get(key)!;
}

function planesOf(input: { file: string; dtype: 'uint16'; shape: number[] }): Image2D<PixelArray>[] {
  const data = readRef(input) as Uint16Array;
  const [h, w] = input.shape.slice(-2);
  const count = input.shape.length === 3 ? input.shape[0] : 1;
  return Array.from({ length: count }, (_, c) => ({ data: data.slice(c * h * w, (c + 1) * h * w), width: w, height: h }));
}

describe('tiny CPnet (random weights) on onnxruntime-node vs PyTorch', () => {
  it('the model follows the contract; its metadata is read', async () => {
    const net = await network('tiny_cpnet.onnx');
    expect(net.info.diamMean).toBe(17);
    expect(net.info.diamLabels).toBe(17.5);
    expect(net.info.sizeModel).toBeNull();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the manifest's JSON
  const tinyCases: [string, any][] = manifest.tiny.cases.map((c: { name: string }) => [c.name, c]);
  it.each(tinyCases)('%s: outputs and styles within 1e-4', async (_n, c) => {
    const net = await network('tiny_cpnet.onnx');
    const input = readRef(c.input) as Float32Array;
    const [n, , h, w] = c.input.shape;
    const { output, style } = (await net.run(input, n, h, w)) as { output: Float32Array; style: Float32Array };
    expect(output.length).toBe(n * 3 * h * w);
    const expected = readRef(c.output) as Float32Array;
    const [, , sh, sw] = c.output.shape;
    const s = c.outputStride as number;
    let maxDiff = 0;
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < 3; ch++) {
        for (let y = 0; y < sh; y++) {
          for (let x = 0; x < sw; x++) {
            const ours = output[((b * 3 + ch) * h + y * s) * w + x * s];
            maxDiff = Math.max(maxDiff, Math.abs(ours - expected[((b * 3 + ch) * sh + y) * sw + x]));
          }
        }
      }
    }
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    const styles = readRef(c.style) as Float32Array;
    expect(style.length).toBe(styles.length);
    expect(Math.max(...styles.map((v, i) => Math.abs(v - style[i])))).toBeLessThanOrEqual(1e-4);
  });
});

interface EvalCase {
  name: string;
  input: string;
  model: string;
  call: string;
  kwargs: { channels: number[]; diameter?: number | null; rescale?: number; resample?: boolean; normalize?: boolean; flow_threshold?: number; cellprob_threshold?: number };
  rescale: number;
  niterUsed: number;
  masks: Ref;
  maskCount: number;
  flows: Ref;
  flowsShape: number[];
  style: Ref;
  styleAllNaN: boolean;
  groundTruthF1?: { f1: number };
  sizeModel?: { diam: number };
}

const f1s: [string, number, number][] = [];
afterAll(() => {
  if (f1s.length) console.log(`F1@IoU0.5 vs ground truth (ours / Cellpose's): ${f1s.map(([n, a, b]) => `${n} ${a.toFixed(3)}/${b.toFixed(3)}`).join(', ')}`);
});

describe(`the Cellpose eval with a stand-in model vs Cellpose 3.1.1.3's eval (${k.backendName})`, () => {
  const cases = manifest.cases as EvalCase[];

  it('the cases cover resize, no resample, rescale, flow threshold 0, cellprob, min–max, two channels, tiling, size model, zero style', () => {
    const has = (p: (c: EvalCase) => boolean) => cases.some(p);
    expect(has((c) => c.rescale !== 1 && c.kwargs.resample === false)).toBe(true);
    expect(has((c) => c.rescale !== 1 && c.kwargs.resample !== false)).toBe(true);
    expect(has((c) => c.kwargs.rescale !== undefined)).toBe(true);
    expect(has((c) => c.kwargs.flow_threshold === 0) && has((c) => c.kwargs.cellprob_threshold === -1)).toBe(true);
    expect(has((c) => c.kwargs.normalize === false) && has((c) => c.kwargs.channels[0] === 2)).toBe(true);
    expect(has((c) => c.flowsShape[1] > 224 && c.flowsShape[2] > 224)).toBe(true);
    expect(has((c) => c.sizeModel !== undefined) && has((c) => c.styleAllNaN)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c]))('%s: same masks as Cellpose', async (_name, c) => {
    const input = manifest.inputs[c.input];
    let planes = planesOf(input);
    if (c.kwargs.normalize === false) planes = minMaxScale(planes); // scPortrait's scaling before eval
    const builtin = c.sizeModel ? 'stand_in' : null; // models.Cellpose: a built-in name with its size model
    const net = await network(c.model, builtin);
    const result = await cellposeEval(k, planes, net, {
      channels: c.kwargs.channels as unknown as CellposeChannels,
      normalize: c.kwargs.normalize ?? true,
      diameter: c.kwargs.diameter ?? null,
      rescale: c.kwargs.rescale ?? null,
      resample: c.kwargs.resample ?? true,
      flowThreshold: c.kwargs.flow_threshold ?? 0.4,
      cellprobThreshold: c.kwargs.cellprob_threshold ?? 0,
    });
    expect(result.rescale).toBeCloseTo(c.rescale, 12);
    expect(result.niter).toBe(c.niterUsed);
    if (c.sizeModel) expect(result.diameter).toBeCloseTo(c.sizeModel.diam, 9);

    // the network's outputs at the dynamics' scale (every 4th row and column). The stand-in's flows are a
    // normalised gradient, which magnifies ONNX Runtime's and torch's rounding where the gradient is tiny (up to
    // 2.2e-4 of ±5 on background pixels); its cell probability matches to 1e-4.
    const flows = readRef(c.flows) as Float32Array;
    const [, fh, fw] = c.flows.shape;
    const out = result.outputs;
    expect([out.height, out.width]).toEqual(c.flowsShape.slice(1));
    const maxDiff = [0, 0, 0];
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < fh; y++) {
        for (let x = 0; x < fw; x++) {
          const ours = out.planes[(ch * out.height + y * 4) * out.width + x * 4];
          maxDiff[ch] = Math.max(maxDiff[ch], Math.abs(ours - flows[(ch * fh + y) * fw + x]));
        }
      }
    }
    expect(Math.max(maxDiff[0], maxDiff[1])).toBeLessThanOrEqual(1e-3);
    expect(maxDiff[2]).toBeLessThanOrEqual(1e-4);

    const expected = Uint32Array.from(readRef(c.masks) as Uint16Array);
    const ari = adjustedRandIndex(expected, result.masks.data);
    expect(ari).toBeGreaterThanOrEqual(0.999);
    expect(result.masks.data.reduce((m, v) => (v > m ? v : m), 0)).toBe(c.maskCount);
    expect(Array.from(result.masks.data)).toEqual(Array.from(expected)); // label for label

    if (input.groundTruth && c.groundTruthF1) {
      const gt = Uint32Array.from(readRef(input.groundTruth) as Uint16Array);
      const f1 = f1AtIoU(gt, result.masks.data, 0.5).f1;
      f1s.push([c.name, f1, c.groundTruthF1.f1]);
      expect(f1).toBeCloseTo(c.groundTruthF1.f1, 3);
      expect(f1).toBeGreaterThan(0.8);
    }
  });

  it('an all-zero style vector (NaN in Cellpose) gives zeros here, and the same masks', async () => {
    const c = cases.find((x) => x.styleAllNaN)!;
    const net = await network(c.model);
    const y = await runTiled({ data: new Float32Array(2 * 300 * 300).fill(0.5), width: 300, height: 300, channels: 2 }, net.run);
    expect(y.style!.every((v) => v === 0)).toBe(true);
  });
});
