/** `scseg segment`: one run from flags to a results directory, with progress and Ctrl-C handling. */
import type { WorkflowAlias } from '../config/types.js';
import { InputError, ScsegError } from '../errors.js';
import type { BackendName } from '../kernels/index.js';
import { Segmentation } from '../segmentation/segmentation.js';
import { resolveWorkflow, WORKFLOW_NAMES } from '../workflows/registry.js';
import { createProgress, type Progress } from './progress.js';

export function workflowName(value: string): WorkflowAlias {
  if (!resolveWorkflow(value)) {
    throw new InputError(`unknown workflow "${value}"; available: ${WORKFLOW_NAMES.join(', ')}`, 'ERR_SCSEG_WORKFLOW');
  }
  return value as WorkflowAlias;
}

export interface SegmentFlags {
  config: string;
  workflow: string;
  input: string[];
  output: string;
  /** Undefined unless given: SCSEG_BACKEND then decides, else auto. */
  backend?: BackendName | 'auto';
  threads?: number;
  format: 'h5' | 'zarr';
  qc: boolean;
  quiet: boolean;
}

/** Ctrl-C aborts the run between steps; nothing is left half-written (outputs are renamed into place). */
function interruptible(progress: Progress): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C: stop at once
    progress.warn(`${name}: stopping after the current step (press Ctrl-C again to stop now)`);
    controller.abort(new InterruptedError());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export class InterruptedError extends ScsegError {
  constructor() {
    super('ERR_SCSEG_INTERRUPTED', 'interrupted; no result was written (files already in the output directory are unchanged)');
  }
}

export async function segment(flags: SegmentFlags): Promise<void> {
  const progress = createProgress({ quiet: flags.quiet, stages: 4 });
  const { signal, dispose } = interruptible(progress);
  const started = performance.now();
  try {
    progress.stage('loading config');
    const segmentation = await Segmentation.create({
      config: { path: flags.config },
      workflow: workflowName(flags.workflow),
      backend: flags.backend,
      threads: flags.threads,
      log: (m) => (m.startsWith('segmenting with') ? progress.info(m) : progress.stage(m)),
    });
    for (const w of segmentation.warnings) progress.warn(w);
    const result = await segmentation.run({
      input: flags.input,
      output: flags.output,
      zarr: flags.format === 'zarr',
      qc: flags.qc,
      signal,
    });
    const seconds = (performance.now() - started) / 1000;
    progress.done(`${result.classes.length} cells, ${result.masks.length} mask(s) → ${flags.output} (${seconds.toFixed(2)} s)`);
  } finally {
    progress.close();
    dispose();
  }
}

