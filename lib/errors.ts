/**
 * One error hierarchy for the whole package. Every error a user can cause is a `ScsegError` with a stable
 * `code`; the CLI maps `InputError`/`ConfigError` to exit code 2 and anything else to 1.
 */
export class ScsegError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The caller passed data that cannot be processed: wrong dtype or shape, NaN, bad parameter. */
export class InputError extends ScsegError {
  constructor(message: string, code = 'ERR_SCSEG_INPUT', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A configuration problem; `problems` lists each one with its key path (e.g. `nucleus_segmentation.threshold`). */
export class ConfigError extends ScsegError {
  readonly problems: readonly { path: string; message: string }[];
  constructor(problems: readonly { path: string; message: string }[]) {
    super('ERR_SCSEG_CONFIG', problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('\n'));
    this.problems = problems;
  }
}

/** A kernel backend could not be loaded (native addon missing, WASM file absent or stale). */
export class BackendError extends ScsegError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SCSEG_BACKEND', message, options);
  }
}

/** A bug or an unexpected failure inside the kernels. */
export class InternalError extends ScsegError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SCSEG_INTERNAL', message, options);
  }
}

/** A worker thread died (a crash in native code, out of memory) while it ran `task`; other tasks are unaffected. */
export class WorkerError extends ScsegError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SCSEG_WORKER', message, options);
  }
}
