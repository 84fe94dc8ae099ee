/**
 * The environment-neutral core: configs from YAML text or objects, kernels over a WASM module loaded from bytes or
 * a URL, the workflows and channel selection over in-memory planes. Nothing it imports touches `fs`, `process` or
 * `createRequire` at import time, so a browser bundle (and the `default` export condition) can use it as is; the
 * Node entry (index.ts) adds file formats, the native addon and the SCSEG_* environment settings.
 *
 * ```ts
 * import { registerBackend, wasmBackend, resolveKernels, loadConfig, workflowFor, planesReader, selectChannels } from 'scportrait-segmentation';
 * registerBackend('wasm', wasmBackend(fetch(wasmUrl)), 10);
 * const k = await resolveKernels('wasm');
 * const { config } = loadConfig({ text: yamlText }, 'WGASegmentation');
 * const wf = workflowFor('WGASegmentation');
 * const stacks = await selectChannels(planesReader([nuclei, membrane]), config, wf.descriptor.masks);
 * const result = await wf.run({ kernels: k }, stacks, config);
 * ```
 */
export * from './errors.js';
export type { DType, Image2D, PixelArray, PixelWindow } from './image.js';
export * from './kernels/core.js';
export * from './config/index.js';
export { assertFitsInMemory, planesReader, selectChannels, stackReader } from './segmentation/channels.js';
export type { ChannelReader } from './segmentation/channels.js';
export * from './workflows/index.js';
export * from './cellpose/transforms.js';
export * from './cellpose/model.js';
export { cellposeEval, resizeLabelsNearest, type CellposeEvalOptions, type CellposeEvalResult } from './cellpose/eval.js';
