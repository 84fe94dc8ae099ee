/**
 * Starts an in-memory run's worker thread as soon as the command line is parsed, so that its start-up (a Node
 * isolate, the workflow modules, the kernels: ~0.1–0.15 s) overlaps the main thread's own (segment.js, the config,
 * the results folder) instead of following it. The run later asks for the same shared worker — same backend,
 * same thread budget, from the same kernels() call — and finds it started. Anything odd (a batch, a sharded run,
 * a backend that does not load) is left to the run itself to handle and report.
 */
import { resolveWorkflow } from '../workflows/registry.js';
import type { SegmentFlags } from './segment.js';

export async function warmSegmentWorker(flags: SegmentFlags): Promise<void> {
  if (flags.batch !== undefined || flags.shardSize !== undefined || (flags.input?.length ?? 0) === 0) return;
  if (resolveWorkflow(flags.workflow)?.segmentationClass !== 'Segmentation') return;
  try {
    const { kernels } = await import('../kernels/index.js');
    const { sharedWorker } = await import('../parallel/shared-pool.js');
    const k = kernels(flags.backend, { threads: flags.threads });
    sharedWorker({ backend: k.backendName, threads: k.threads });
  } catch {
    // the run itself fails with the proper message
  }
}
