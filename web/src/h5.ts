/**
 * segmentation.h5 in the browser: dataset `labels`, uint64 (n_masks, H, W), chunks (1, chunk_size, chunk_size), no
 * compression — the layout the CLI writes for an in-memory run — built by h5wasm in its in-memory file system. Loaded only when asked for (h5wasm
 * carries HDF5 as ~4 MB of inlined WebAssembly).
 */
import h5wasm from 'h5wasm';
import type { Image2D } from '../../lib/image.js';

export async function segmentationH5(masks: readonly Image2D<Uint32Array>[], chunkSize: number): Promise<Uint8Array> {
  const module = await h5wasm.ready;
  const { width, height } = masks[0];
  const data = new BigUint64Array(masks.length * width * height);
  let o = 0;
  for (const m of masks) for (const v of m.data) data[o++] = BigInt(v);
  const name = `segmentation-${Date.now()}.h5`;
  const file = new h5wasm.File(name, 'w');
  try {
    file.create_dataset({
      name: 'labels',
      data,
      shape: [masks.length, height, width],
      dtype: '<Q',
      chunks: [1, Math.min(chunkSize, height), Math.min(chunkSize, width)],
    });
  } finally {
    file.close();
  }
  const bytes = module.FS.readFile(name);
  module.FS.unlink(name);
  return bytes;
}
