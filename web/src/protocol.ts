/** The messages between the page and its segmentation worker (structured-cloned; pixel buffers transferred). */
import type { ConfigProblem } from '../../lib/config/types.js';
import type { Image2D } from '../../lib/image.js';

/** One decoded input: channels first (C, Y, X), as the core's planesReader takes them. */
export interface DecodedImage {
  name: string;
  planes: Image2D[];
}

export type ToWorker =
  | { type: 'decode'; id: number; name: string; bytes: ArrayBuffer }
  | { type: 'run'; id: number; workflow: string; yaml: string; planes: Image2D[]; models: { name: string; bytes: Uint8Array }[] }
  | { type: 'h5'; id: number; masks: Image2D<Uint32Array>[]; chunkSize: number };

export interface RunResult {
  workflow: string;
  width: number;
  height: number;
  maskNames: string[];
  masks: Image2D<Uint32Array>[];
  classes: Uint32Array;
  /** Seconds per step: kernels' start-up, channel selection, each workflow step, the QC PNG. */
  timings: Record<string, number>;
  /** The QC overlay as PNG bytes (the CLI's qc_overlay.png). */
  qcPng: Uint8Array;
  /** The plane the overlay is drawn on, as the CLI's: the last mask's first channel after selection. */
  background: Image2D;
  warnings: string[];
  /** The config's chunk_size, for segmentation.h5's chunks (the config as it was when the run started). */
  chunkSize: number;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; id: number; step: string }
  | { type: 'decoded'; id: number; image: DecodedImage }
  | { type: 'config'; id: number; problems: ConfigProblem[]; warnings: string[] }
  | { type: 'result'; id: number; result: RunResult }
  | { type: 'h5'; id: number; bytes: Uint8Array }
  | { type: 'error'; id: number; message: string };
