/**
 * The browser page: a static build (web/dist) with relative asset paths, so any static server — or a sub-folder of
 * one — serves it; the kernels' .wasm, the worker and the example image are emitted beside index.html, nothing is
 * fetched from elsewhere.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // the kernels (~650 kB of WASM) and h5wasm's lazy chunk are big on purpose
    chunkSizeWarningLimit: 5000,
  },
  worker: { format: 'es' },
  // lib/ and data/ live beside web/: the dev server may read them
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
