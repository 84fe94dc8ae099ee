/**
 * A WorkerPool's worker: loads its kernel backend once (workerData: WorkerSetup), then runs the tasks it is sent
 * one at a time and replies with the value, the error (as data), or progress.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { kernels, type Kernels } from '../kernels/index.js';
import { serializeError } from './errors.js';
import type { TaskAbort, TaskReply, TaskRequest, WorkerSetup } from './protocol.js';
import { TASKS, type TaskOutput } from './worker-tasks.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
let loaded: Kernels | undefined;
const running = new Map<number, AbortController>();

function post(reply: TaskReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer);
}

port.on('message', (request: TaskRequest | TaskAbort) => {
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
      });
      post({ id: request.id, type: 'done', value: out.value }, out.transfer);
    } catch (e) {
      post({ id: request.id, type: 'error', error: serializeError(e) });
    } finally {
      running.delete(request.id);
    }
  })();
});
