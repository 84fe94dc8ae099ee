/**
 * The life of an output written piece by piece (label writers): calls run one after another, in call order; the
 * first failure aborts the whole output (its temporaries are deleted) and is rethrown as a write error; `finish()`
 * commits, `abort()` discards, each once.
 */
import { InputError } from '../errors.js';
import { writeError } from './atomic.js';

export abstract class SerialOutput {
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private queue: Promise<unknown> = Promise.resolve();

  protected constructor(protected readonly target: string) {}

  /** Moves the finished output into place. */
  protected abstract commit(): Promise<void>;
  /** Must not throw, and must tolerate being called after a partial commit. */
  protected abstract discard(): Promise<void>;
  /** Throws when the output is not complete yet (checked by `finish`). */
  protected checkComplete(): void {}

  /** Runs `op` once earlier calls have settled, on an open output; a failure aborts the output. */
  protected operation(what: string, op: () => Promise<void>): Promise<void> {
    return this.serial(async () => {
      if (this.state !== 'open') {
        throw new InputError(`${this.target}: ${what} on a writer that is already ${this.state}`, 'ERR_SCSEG_ARGUMENT');
      }
      try {
        await op();
      } catch (e) {
        this.state = 'aborted';
        await this.discard();
        throw writeError(this.target, e);
      }
    });
  }

  finish(): Promise<void> {
    return this.operation('finish', async () => {
      this.checkComplete();
      await this.commit();
      this.state = 'finished';
    });
  }

  /** Deletes the temporaries. Idempotent; a no-op after `finish()` or after a failure (which aborted already). */
  abort(): Promise<void> {
    return this.serial(async () => {
      if (this.state !== 'open') return;
      this.state = 'aborted';
      await this.discard();
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
