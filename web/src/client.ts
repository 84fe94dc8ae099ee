/**
 * The page's handle on its worker: requests with ids, progress callbacks, and cancel = terminate the worker (a WASM
 * kernel call cannot be interrupted from outside) and start a fresh one, whose kernels load again meanwhile.
 */
import type { FromWorker, ToWorker } from './protocol.js';

type Reply = Exclude<FromWorker, { type: 'ready' | 'progress' | 'error' }>;

interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
  progress?(step: string): void;
}

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** A request without its id (the client numbers them). */
type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class WorkerClient {
  private worker!: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly onReady: (backend: string) => void, private readonly onFatal: (message: string) => void) {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'scseg' });
    this.worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
      if (data.type === 'ready') return this.onReady(data.backend);
      const p = this.pending.get(data.id);
      if (data.type === 'progress') return p?.progress?.(data.step);
      if (data.type === 'error' && data.id === -1) return this.onFatal(data.message);
      if (!p) return;
      this.pending.delete(data.id);
      if (data.type === 'error') p.reject(new Error(data.message));
      else p.resolve(data);
    };
    this.worker.onerror = (e) => {
      this.onFatal(e.message || 'the worker failed to start (a module worker needs http(s):// — see the README)');
    };
  }

  request(message: Request, transfer: Transferable[] = [], progress?: (step: string) => void): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      this.worker.postMessage({ ...message, id } as ToWorker, transfer);
    });
  }

  /** Stops whatever runs: pending requests reject with Cancelled; a new worker takes over. */
  cancel(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Cancelled());
    this.pending.clear();
    this.start();
  }
}
