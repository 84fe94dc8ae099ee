/**
 * The page's segmentation worker: the same WASM kernels (through emnapi, instantiated asynchronously) and the same
 * workflow code as the CLI, from the environment-neutral core. One run at a time; the page cancels a run by
 * terminating this worker and starting a new one.
 */
import {
  assertFitsInMemory,
  Kernels,
  planesReader,
  registerBackend,
  resolveKernels,
  selectChannels,
  validateConfig,
  wasmBackend,
  workflowFor,
  type WorkflowAlias,
} from '../../lib/core.js';
import type { Image2D } from '../../lib/image.js';
import { renderQcOverlay } from '../../lib/io/qc-render.js';
import { encodeRgbPng } from './files.js';
import type { ModelFile } from './cellpose.js';
import type { FromWorker, RunResult, ToWorker } from './protocol.js';
import { decodeTiff } from './tiff.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

// The workflows yield to the event loop before each step (setImmediate where it exists, else setTimeout(0)); in a
// browser, chained zero timeouts are clamped to 4 ms each after the fifth, ~20 steps × 4 ms per run. A message
// to ourselves is a macrotask without the clamp.
if (typeof (globalThis as { setImmediate?: unknown }).setImmediate !== 'function') {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate = (fn) => {
    queue.push(fn);
    channel.port2.postMessage(null);
  };
}

const wasmUrl = new URL('../../wasm/dist/scseg_kernels.wasm', import.meta.url);
// Bytes rather than a Response: a static server that does not send application/wasm still works.
registerBackend('wasm', wasmBackend(async () => new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer())), 10);

let kernels: Promise<Kernels> | undefined;
const loadKernels = () => (kernels ??= resolveKernels('wasm'));

async function run(id: number, workflowName: string, yaml: string, planes: readonly Image2D[], models: ModelFile[]): Promise<void> {
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    scope.postMessage({ type: 'progress', id, step: name });
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = (performance.now() - t0) / 1000;
    }
  };
  const checked = validateConfig({ text: yaml }, workflowName as WorkflowAlias);
  if (checked.config === null) {
    scope.postMessage({ type: 'config', id, problems: checked.problems, warnings: checked.warnings });
    return;
  }
  const config = checked.config;
  const workflow = workflowFor(workflowName);
  if (workflow.descriptor.family === 'cellpose') {
    const { useModelFiles } = await timed('load onnxruntime-web', () => import('./cellpose.js'));
    useModelFiles(models);
  }
  const k = await timed('load kernels', loadKernels);
  const masks = workflow.descriptor.masks;
  const source = planesReader(planes);
  // An image the workflow's largest kernels cannot hold in WASM's 4 GiB is refused now, not minutes into the run.
  assertFitsInMemory(source, k, undefined, workflow.descriptor);
  const stacks = await timed('read', () => selectChannels(source, config, masks));
  const progress = (step: string) => scope.postMessage({ type: 'progress', id, step });
  const result = await workflow.run({ kernels: k, progress }, stacks, config);
  Object.assign(timings, result.timings);
  const background = stacks[masks[masks.length - 1]]![0];
  const qcPng = await timed('qc_overlay.png', async () => {
    const { width, height, rgba } = renderQcOverlay(background, result.masks, { kernels: k });
    return encodeRgbPng(rgba, width, height);
  });
  const out: RunResult = {
    workflow: result.workflow,
    width: background.width,
    height: background.height,
    maskNames: result.maskNames,
    masks: result.masks,
    classes: result.classes,
    timings,
    qcPng,
    background,
    warnings: checked.warnings,
    chunkSize: config.chunkSize,
  };
  // Masks and the PNG move to the page; the background plane is the page's own input, copied.
  scope.postMessage({ type: 'result', id, result: out }, [...new Set(result.masks.map((m) => m.data.buffer as ArrayBuffer))].concat(qcPng.buffer as ArrayBuffer));
}

scope.onmessage = async ({ data: msg }) => {
  try {
    switch (msg.type) {
      case 'decode': {
        const planes = await decodeTiff(msg.name, msg.bytes);
        scope.postMessage({ type: 'decoded', id: msg.id, image: { name: msg.name, planes } }, planes.map((p) => p.data.buffer as ArrayBuffer));
        break;
      }
      case 'run':
        await run(msg.id, msg.workflow, msg.yaml, msg.planes, msg.models);
        break;
      case 'h5': {
        const { segmentationH5 } = await import('./h5.js');
        const bytes = await segmentationH5(msg.masks, msg.chunkSize);
        scope.postMessage({ type: 'h5', id: msg.id, bytes }, [bytes.buffer as ArrayBuffer]);
        break;
      }
    }
  } catch (err) {
    const e = err as Error;
    scope.postMessage({ type: 'error', id: msg.id, message: e?.message ?? String(err) });
  }
};

// Kernels instantiate while the user picks an image: the first run does not wait for them.
loadKernels().then(
  (k) => scope.postMessage({ type: 'ready', backend: k.backendName }),
  (err: Error) => scope.postMessage({ type: 'error', id: -1, message: err.message }),
);
