/** The Node entry: everything in the environment-neutral core, plus file formats, native kernels and the CLI's API. */
export * from './errors.js';
export type { DType, Image2D, PixelArray, PixelWindow } from './image.js';
export { activeBackend, kernels, Kernels, loadBackend, resolveBackend, MAX_MEDIAN_RADIUS } from './kernels/index.js';
export type { Backend, BackendName } from './kernels/index.js';
export * from './config/index.js';
export * from './io/index.js';
export { Segmentation } from './segmentation/segmentation.js';
export type { SegmentationOptions, RunOptions, RunResult } from './segmentation/segmentation.js';
export { ShardedSegmentation, DEFAULT_OVERLAP_PX } from './segmentation/sharded-segmentation.js';
export type {
  ShardedSegmentationOptions, ShardedRunOptions, ShardedRunResult, ShardedProgress,
} from './segmentation/sharded-segmentation.js';
export { planShards } from './segmentation/sharding.js';
export { MultithreadedSegmentation } from './segmentation/batch.js';
export type {
  BatchInput, BatchRunOptions, BatchRunResult, BatchImageResult, BatchProgress, MultithreadedSegmentationOptions,
} from './segmentation/batch.js';
export type { Shard, ShardPlanOptions } from './segmentation/sharding.js';
export { planesReader, selectChannels, stackReader } from './segmentation/channels.js';
export type { ChannelReader } from './segmentation/channels.js';
export { writeOutputs } from './segmentation/outputs.js';
export type { OutputOptions, WrittenFiles } from './segmentation/outputs.js';
export * from './workflows/index.js';
export * from './cellpose/transforms.js';
export * from './cellpose/model.js';
export { cellposeEval, resizeLabelsNearest, type CellposeEvalOptions, type CellposeEvalResult } from './cellpose/eval.js';
export { loadCellposeModel, resolveModelFile } from './cellpose/node-models.js';
