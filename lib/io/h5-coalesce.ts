/**
 * Fewer, larger writes for h5wasm. Its Node build reaches the disk through Emscripten's NODERAWFS, one
 * `fs.writeSync` per HDF5 write: a 2048² segmentation.h5 is 3,400 chunk writes of 20 kB, which cost ~70 ms of
 * system calls (h5py makes the same calls natively for a fraction of that). HDF5 allocates a dataset's chunks one
 * after the other, so while a band of labels is written the chunk writes are consecutive: they are gathered here in
 * one buffer and written together (~145 writes instead). Active only for the duration of one `run` (one h5wasm
 * call): every other file-system operation on the buffered file first writes out what is buffered, and so does the
 * end of the call. A write that HDF5 makes elsewhere (metadata) simply writes out the buffer first.
 */
import fs from 'node:fs';
import util from 'node:util';
import type { H5Module } from './h5wasm.js';

/** The part of Emscripten's FS object used here (h5wasm exports it as `FS`). */
interface EmscriptenFS {
  write(stream: Stream, buffer: Uint8Array, offset: number, length: number, position?: number, canOwn?: boolean): number;
  [op: string]: unknown;
}
interface Stream {
  nfd?: number;
  fd?: number;
  path?: string;
}

/** FS operations that must see what is buffered (reads, seeks, size changes, closing). */
const FLUSHING_OPS = ['read', 'llseek', 'close', 'ftruncate', 'fsync', 'fstat', 'stat'] as const;
const CAPACITY = 8 << 20;

/** A write's byte count, which must move on (a regular file takes at least one byte, or the call fails). */
function wrote(bytes: number): number {
  if (!(bytes > 0)) throw new Error(`a write made no progress (${bytes} bytes)`);
  return bytes;
}

/** "No space left on device" for ENOSPC, as HDF5 (strerror) words it. */
function systemMessage(err: unknown): string {
  const errno = (err as { errno?: number })?.errno;
  const entry = typeof errno === 'number' ? util.getSystemErrorMap().get(errno) : undefined;
  const text = entry?.[1] ?? (err as Error)?.message ?? String(err);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class H5WriteCoalescer {
  private readonly buffer = Buffer.allocUnsafe(CAPACITY);
  private stream: Stream | undefined;
  private start = 0;
  private length = 0;

  private constructor(private readonly fsObject: EmscriptenFS) {}

  /** A coalescer for `module`, or undefined when its FS is not the NODERAWFS shape this relies on. */
  static for(module: H5Module): H5WriteCoalescer | undefined {
    const fsObject = (module as unknown as { FS?: EmscriptenFS }).FS;
    if (!fsObject || typeof fsObject.write !== 'function') return undefined;
    return new H5WriteCoalescer(fsObject);
  }

  /** Runs `call` with HDF5's writes coalesced; everything is on disk (or an error thrown) when it returns. */
  run<T>(call: () => T): T {
    const FS = this.fsObject;
    const original = new Map<string, unknown>([['write', FS.write], ...FLUSHING_OPS.map((op) => [op, FS[op]] as const)]);
    const write = FS.write;
    // Buffered data is written with the original write, inside the HDF5 call that needs it out: a failure then
    // reaches HDF5 as the errno of a failed write, which reports it as for any other write.
    // After a failed write nothing more is buffered: HDF5 goes on as it does after any failed write (it tries the
    // other chunks, then reads its error stack back from a temporary file), meeting every failure itself.
    let failed = false;
    const flushInside = () => {
      if (this.length === 0 || !this.stream) return;
      const [stream, length] = [this.stream, this.length];
      this.length = 0;
      try {
        for (let done = 0; done < length; ) done += wrote(write.call(FS, stream, this.buffer, done, length - done, this.start + done));
      } catch (err) {
        failed = true;
        throw err;
      }
    };
    const ours = (target: unknown) => {
      const s = this.stream;
      return s !== undefined && this.length > 0 && (target === s || (target === s.fd && s.fd !== undefined) || (target === s.path && s.path !== undefined));
    };
    FS.write = (stream, buffer, offset, length, position, canOwn) => {
      if (failed || typeof position !== 'number' || typeof stream.nfd !== 'number' || length > CAPACITY) {
        if (stream === this.stream) flushInside();
        return write.call(FS, stream, buffer, offset, length, position, canOwn);
      }
      if (stream !== this.stream || position !== this.start + this.length || this.length + length > CAPACITY) {
        flushInside();
        this.stream = stream;
        this.start = position;
      }
      this.buffer.set(buffer.subarray(offset, offset + length), this.length);
      this.length += length;
      return length;
    };
    for (const op of FLUSHING_OPS) {
      const fn = FS[op];
      if (typeof fn !== 'function') continue;
      // The buffered file's stream, descriptor or path (stat takes a path, fstat a descriptor).
      FS[op] = (...args: unknown[]) => {
        if (ours(args[0])) flushInside();
        return (fn as (...a: unknown[]) => unknown).apply(FS, args);
      };
    }
    let result: T;
    try {
      result = call();
    } catch (err) {
      this.length = 0; // the write failed: its file is discarded, and this error is the one to report
      this.stream = undefined;
      throw err;
    } finally {
      for (const [op, fn] of original) FS[op] = fn;
    }
    this.flushOutside();
    return result;
  }

  /** After the call: writes out the rest directly (an error is worded like HDF5's, e.g. "No space left on device"). */
  private flushOutside(): void {
    const { stream, length, start } = this;
    this.length = 0;
    this.stream = undefined;
    if (length === 0 || typeof stream?.nfd !== 'number') return;
    try {
      for (let done = 0; done < length; ) done += wrote(fs.writeSync(stream.nfd, this.buffer, done, length - done, start + done));
    } catch (err) {
      throw new Error(systemMessage(err), { cause: err });
    }
  }
}
