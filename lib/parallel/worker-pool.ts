/**
 * A fixed set of worker threads running named tasks (worker-tasks.ts), one task per worker at a time, queued in
 * submission order. Each worker loads its own kernel backend with its own thread budget, so the calling thread
 * only posts messages and stays responsive. A worker that dies mid-task (a native crash, out of memory) fails that
 * task with a WorkerError naming it and is replaced for the tasks still queued.
 */
import type { Worker } from 'node:worker_threads';
import { InternalError, WorkerError } from '../errors.js';
import { reviveError, serializeError } from './errors.js';
import type { SubtaskRequest, SubtaskResult, SubtasksDone, TaskReply, TaskRequest, WorkerSetup } from './protocol.js';
import { spawnModuleWorker } from './spawn.js';

const ENTRY = new URL(`./task-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export interface TaskOptions {
  /** Names the task in errors ("shard 3 of 16 (x 0–2048, y 0–2048)"). */
  label: string;
  /** Buffers moved (not copied) to the worker. */
  transfer?: ArrayBuffer[];
  /** The worker's step names as it goes. */
  onProgress?: (step: string) => void;
  /** Stops the task (queued: never started; running: between its steps); it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Pending {
  request: TaskRequest;
  options: TaskOptions;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Tasks sent to the worker: one, plus one more for each that waits on subtasks. */
  tasks: Map<number, Pending>;
  waiting: number;
  /** Called when its last task replied (close() waits for that before terminating a busy worker). */
  onIdle?: () => void;
}

/** How long close() lets a busy worker stop its task between native calls before terminating it. */
const STOP_GRACE_MS = 10_000;

const busy = (s: Slot) => s.tasks.size - s.waiting > 0;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  /** The first close()'s termination: every caller of close() waits until the workers are gone. */
  private closing: Promise<void> | undefined;

  /**
   * `size` workers, each with `setup` (backend, kernel threads). `unrefIdle`: idle workers do not keep the process
   * alive (a pool shared for the process's life).
   */
  constructor(
    readonly size: number,
    private readonly setup: WorkerSetup,
    private readonly unrefIdle = false,
  ) {
    if (!Number.isSafeInteger(size) || size < 1) throw new InternalError(`worker pool size must be ≥ 1, got ${size}`);
  }

  /** Runs task `kind` with `args` on the next free worker; resolves with its value. */
  run<T>(kind: string, args: unknown, options: TaskOptions): Promise<T> {
    if (this.closed) return Promise.reject(new InternalError(`${options.label}: the worker pool is closed`));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        request: { type: 'run', id: this.nextId++, kind, args },
        options,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      if (signal) {
        const onAbort = () => {
          const queued = this.queue.indexOf(pending);
          if (queued >= 0) this.queue.splice(queued, 1);
          else this.slots.find((s) => s.tasks.get(pending.request.id) === pending)?.worker.postMessage({ type: 'abort', id: pending.request.id });
          reject(signal.reason); // the worker's own rejection, later, is ignored
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const settle = () => signal.removeEventListener('abort', onAbort);
        pending.resolve = (v) => (settle(), resolve(v as T));
        pending.reject = (e) => (settle(), reject(e));
      }
      this.queue.push(pending);
      this.dispatch();
    });
  }

  /**
   * Stops every worker; queued and running tasks reject with `reason` at once. A worker running a task is first asked
   * to stop it (its task's abort signal) and given up to `graceMs` to reply before it is terminated: terminating a
   * thread inside a native call that then calls back into JavaScript (ONNX Runtime's session run does) aborts the
   * whole process, while a task that checks its signal stops cleanly between such calls. Resolves once the worker
   * threads have stopped — also for a later call, so that a caller cleaning up after an abort knows no worker still
   * writes.
   */
  close(reason: Error = new InternalError('the worker pool was closed'), graceMs = STOP_GRACE_MS): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(reason);
    const slots = this.slots.splice(0);
    const stopped = slots.map(async (s) => {
      const running = [...s.tasks.keys()];
      for (const t of s.tasks.values()) t.reject(reason);
      if (running.length > 0 && graceMs > 0) {
        const idle = new Promise<void>((resolve) => (s.onIdle = resolve));
        for (const id of running) s.worker.postMessage({ type: 'abort', id });
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([idle, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      await s.worker.terminate().catch(() => undefined);
    });
    this.closing = Promise.all(stopped).then(() => undefined);
    return this.closing;
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => !busy(s));
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const task = this.queue.shift()!;
      slot.tasks.set(task.request.id, task);
      if (this.unrefIdle) slot.worker.ref();
      try {
        slot.worker.postMessage(task.request, task.options.transfer ?? []);
      } catch (e) {
        slot.tasks.delete(task.request.id);
        task.reject(new InternalError(`${task.options.label}: cannot send the task to a worker: ${(e as Error).message}`));
      }
    }
  }

  private spawn(): Slot {
    const worker = spawnModuleWorker(ENTRY, { workerData: this.setup, stdout: false, stderr: false });
    const slot: Slot = { worker, tasks: new Map(), waiting: 0 };
    this.slots.push(slot);
    worker.on('message', (reply: TaskReply) => this.onReply(slot, reply));
    const died = (why: string) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return; // closed, or already handled
      this.slots.splice(index, 1);
      const tasks = [...slot.tasks.values()];
      slot.tasks.clear();
      for (const task of tasks) {
        task.reject(new WorkerError(`${task.options.label}: the worker running it died (${why}); finished work is kept, a rerun continues from there`));
      }
      void worker.terminate().catch(() => undefined);
      this.dispatch();
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    return slot;
  }

  private onReply(slot: Slot, reply: TaskReply): void {
    const task = slot.tasks.get(reply.id);
    if (!task) return;
    if (reply.type === 'progress') {
      task.options.onProgress?.(reply.step);
      return;
    }
    if (reply.type === 'subtasks') {
      void this.runSubtasks(slot, task, reply.batch, reply.requests);
      return;
    }
    slot.tasks.delete(reply.id);
    if (slot.tasks.size === 0) slot.onIdle?.();
    if (reply.type === 'done') task.resolve(reply.value);
    else task.reject(reviveError(reply.error, task.options.label));
    this.dispatch();
    if (this.unrefIdle && slot.tasks.size === 0) slot.worker.unref();
  }

  /** A task's subtasks: its worker takes tasks meanwhile (the waiting task needs no thread). */
  private async runSubtasks(slot: Slot, parent: Pending, batch: number, requests: SubtaskRequest[]): Promise<void> {
    slot.waiting++;
    this.dispatch();
    const settled = await Promise.allSettled(
      requests.map((r) => this.run(r.kind, r.args, { label: r.label, signal: parent.options.signal })),
    );
    slot.waiting--;
    if (!slot.tasks.has(parent.request.id)) return; // the parent is gone (its worker died, or the pool closed)
    const results: SubtaskResult[] = settled.map((r) =>
      r.status === 'fulfilled' ? { ok: true, value: r.value } : { ok: false, error: serializeError(r.reason) },
    );
    const done: SubtasksDone = { type: 'subtasks-done', batch, results };
    slot.worker.postMessage(done);
  }
}
