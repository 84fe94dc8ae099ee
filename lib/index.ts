export * from './errors.js';
export type { DType, Image2D, PixelArray } from './image.js';
export { activeBackend, kernels, Kernels, loadBackend, resolveBackend, MAX_MEDIAN_RADIUS } from './kernels/index.js';
export type { Backend, BackendName } from './kernels/index.js';
export * from './config/index.js';
