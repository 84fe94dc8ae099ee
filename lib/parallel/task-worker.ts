/**
 * A WorkerPool's worker: loads its kernel backend once (workerData: WorkerSetup), then runs the tasks it is sent
 * and replies with the value, the error (as data), or progress. The pool sends one task at a time, and another
 * only while a task waits for its subtasks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { kernels, type Kernels } from '../kernels/index.js';
import { reviveError, serializeError } from './errors.js';
import type { SubtaskRequest, SubtasksDone, TaskAbort, TaskReply, TaskRequest, WorkerSetup } from './protocol.js';
import { TASKS, type TaskOutput } from './worker-tasks.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
let loaded: Kernels | undefined;
const running = new Map<number, AbortController>();
const batches = new Map<number, { labels: string[]; resolve: (values: unknown[]) => void; reject: (e: Error) => void }>();
let nextBatch = 1;

function subtasks(parent: number, requests: SubtaskRequest[]): Promise<unknown[]> {
  if (requests.length === 0) return Promise.resolve([]);
  const batch = nextBatch++;
  return new Promise((resolve, reject) => {
    batches.set(batch, { labels: requests.map((r) => r.label), resolve, reject });
    post({ id: parent, type: 'subtasks', batch, requests });
  });
}

function subtasksDone(done: SubtasksDone): void {
  const b = batches.get(done.batch);
  if (!b) return;
  batches.delete(done.batch);
  const failed = done.results.findIndex((r) => !r.ok);
  if (failed < 0) b.resolve(done.results.map((r) => (r as { value: unknown }).value));
  else b.reject(reviveError((done.results[failed] as { error: Parameters<typeof reviveError>[0] }).error, b.labels[failed]));
}

function post(reply: TaskReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer);
}

port.on('message', (request: TaskRequest | TaskAbort | SubtasksDone) => {
  if (request.type === 'subtasks-done') {
    subtasksDone(request);
    return;
  }
  if (request.type === 'abort') {
    running.get(request.id)?.abort(new DOMException('the task was stopped', 'AbortError'));
    return;
  }
  const controller = new AbortController();
  running.set(request.id, controller);
  void (async () => {
    try {
      const handler = Object.hasOwn(TASKS, request.kind) ? TASKS[request.kind] : undefined;
      if (!handler) throw new Error(`unknown task kind ${request.kind}`);
      loaded ??= kernels(setup.backend, { threads: setup.threads });
      const out: TaskOutput = await handler(request.args, {
        kernels: loaded,
        signal: controller.signal,
        progress: (step) => post({ id: request.id, type: 'progress', step }),
        subtasks: (requests) => subtasks(request.id, requests),
      });
      post({ id: request.id, type: 'done', value: out.value }, out.transfer);
    } catch (e) {
      post({ id: request.id, type: 'error', error: serializeError(e) });
    } finally {
      running.delete(request.id);
    }
  })();
});
