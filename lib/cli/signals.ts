/**
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP (the terminal closed) while a command runs. The first aborts the run's
 * AbortSignal: the run stops its workers, discards what it staged (results-folder.ts) and the command exits
 * 130 / 143 / 129 with the results folder as it was (Node's default for SIGHUP would die at once, leaving the
 * staging folder behind). A second one stops at once: process.exit, whose 'exit' handlers still remove the staging folder and
 * restore the terminal.
 */
import { ScsegError } from '../errors.js';

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof SIGNALS;

/** The run was stopped by a signal; the process exits 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), as shells do. */
export class InterruptedError extends ScsegError {
  readonly exitCode: number;
  constructor(
    readonly signalName: StopSignal = 'SIGINT',
    message = `interrupted (${signalName})`,
  ) {
    super('ERR_SCSEG_INTERRUPTED', message);
    this.exitCode = 128 + SIGNALS[signalName];
  }
}

export interface Interruption {
  /** Aborted (reason: an InterruptedError) by the first signal. */
  readonly signal: AbortSignal;
  dispose(): void;
}

/** Handles SIGINT, SIGTERM and SIGHUP until dispose(); `onFirst` / `onSecond` say what happens now (a warning line). */
export function interruptible(onFirst: (name: StopSignal) => void, onSecond: (name: StopSignal) => void): Interruption {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    const error = new InterruptedError(name as StopSignal);
    // After a hang-up the terminal may be gone: a failed write to it must not become an uncaught 'error' event.
    if (name === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    if (controller.signal.aborted) {
      onSecond(error.signalName);
      process.exit(error.exitCode);
    }
    onFirst(error.signalName);
    controller.abort(error);
  };
  for (const name of Object.keys(SIGNALS)) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of Object.keys(SIGNALS)) process.off(name, onSignal);
    },
  };
}
