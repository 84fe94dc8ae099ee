/** Errors that carry their own exit code (kept apart from batch.ts so that `scseg --version` need not load it). */
import { ScsegError } from '../errors.js';

/** A batch with failed images: exit 2 when every failure was bad input, else 1. */
export class BatchFailedError extends ScsegError {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super('ERR_SCSEG_BATCH', message);
  }
}
