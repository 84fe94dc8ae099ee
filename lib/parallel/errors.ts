/** Errors cross the thread boundary as plain data and come back as the package's own classes (same code, message). */
import { BackendError, ConfigError, InputError, InternalError, ScsegError, WorkerError } from '../errors.js';

export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  stack?: string;
  problems?: readonly { path: string; message: string }[];
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const { code, problems } = e as { code?: unknown; problems?: SerializedError['problems'] };
    return { name: e.name, code: typeof code === 'string' ? code : undefined, message: e.message, stack: e.stack, problems };
  }
  return { name: 'Error', message: String(e) };
}

/** The error as the worker threw it; `where` (e.g. "shard 3 of 16") is prefixed to unexpected errors only. */
export function reviveError(s: SerializedError, where: string): Error {
  let e: Error;
  switch (s.name) {
    case 'InputError': e = new InputError(s.message, s.code); break;
    case 'ConfigError': e = new ConfigError(s.problems ?? [{ path: '', message: s.message }]); break;
    case 'BackendError': e = new BackendError(s.message); break;
    case 'WorkerError': e = new WorkerError(s.message); break;
    case 'InternalError': e = new InternalError(`${where}: ${s.message}`); break;
    case 'AbortError': e = new DOMException(s.message, 'AbortError'); break;
    default:
      e = s.code && s.name !== 'Error' && s.name !== 'TypeError' && s.name !== 'RangeError'
        ? new ScsegError(s.code, s.message)
        : new InternalError(`${where}: ${s.name}: ${s.message}`);
  }
  if (s.stack) e.stack = `${e.stack}\n--- in the worker:\n${s.stack}`;
  return e;
}
