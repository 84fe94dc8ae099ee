/**
 * The page: pick an image and a workflow, edit the config (checked as you type, with the CLI's messages), segment
 * in the worker, look at the outlines, download the results. Everything stays in this tab.
 */
import { validateConfig } from '../../lib/config/index.js';
import type { ConfigProblem, WorkflowAlias } from '../../lib/config/types.js';
import type { Image2D } from '../../lib/image.js';
import exampleConfig from '../../data/example3/config_example3.yml?raw';
import { Cancelled, WorkerClient } from './client.js';
import { classesCsv, labelsNpy } from './files.js';
import type { DecodedImage, RunResult } from './protocol.js';
import { Viewer } from './viewer.js';

// scPortrait's example 3: the two channels WGA and DAPI read (Ch3, a Golgi marker, would add 320 kB for nothing).
const EXAMPLE = [new URL('../../data/example3/Ch1.tif', import.meta.url).href, new URL('../../data/example3/Ch2.tif', import.meta.url).href];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  file: $<HTMLInputElement>('file'),
  example: $<HTMLButtonElement>('load-example'),
  imageInfo: $('image-info'),
  workflow: $<HTMLSelectElement>('workflow'),
  modelsRow: $('models-row'),
  models: $<HTMLInputElement>('models'),
  modelsInfo: $('models-info'),
  config: $<HTMLTextAreaElement>('config'),
  messages: $('config-messages'),
  run: $<HTMLButtonElement>('run'),
  cancel: $<HTMLButtonElement>('cancel'),
  status: $('status'),
  timings: $<HTMLTableElement>('timings'),
  cells: $('cells'),
  backend: $('backend'),
  downloads: { npy: $<HTMLButtonElement>('dl-npy'), csv: $<HTMLButtonElement>('dl-csv'), png: $<HTMLButtonElement>('dl-png'), h5: $<HTMLButtonElement>('dl-h5') },
};

/** Page state, also read by the end-to-end test (body[data-state]). */
type State = 'starting' | 'idle' | 'decoding' | 'running' | 'done' | 'cancelled' | 'error' | 'config-error';
function setState(state: State, status: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = status;
  ui.status.className = state === 'error' || state === 'config-error' ? 'error' : '';
}

const viewer = new Viewer($<HTMLCanvasElement>('view'));
let image: DecodedImage | undefined;
let result: RunResult | undefined;
/** The Cellpose models picked (a built-in name in the config means <name>.onnx among them; one file serves any). */
let models: { name: string; bytes: Uint8Array }[] = [];
let kernelsReady = false;

const client = new WorkerClient(
  (backend) => {
    kernelsReady = true;
    ui.backend.textContent = `kernels: ${backend} (WebAssembly, in a worker)`;
    if (document.body.dataset.state === 'starting') setState('idle', 'ready');
    refreshButtons();
  },
  (message) => setState('error', message),
);

function refreshButtons(): void {
  const running = document.body.dataset.state === 'running' || document.body.dataset.state === 'decoding';
  ui.run.disabled = running || !image;
  ui.cancel.disabled = !running;
  for (const b of Object.values(ui.downloads)) b.disabled = running || !result;
  // While a run or a decode is under way the image, the workflow and the models stay as they are: a new image
  // opened meanwhile would be shown beside the old image's result (and its downloads).
  for (const input of [ui.file, ui.example, ui.workflow, ui.models]) input.disabled = running;
}

// ── config: checked as typed, with the CLI's wording (`path: message`, `warning: …`) ──
function showConfigMessages(problems: readonly ConfigProblem[], warnings: readonly string[]): void {
  ui.messages.replaceChildren(
    // The core names a config given as text "<text>" (the CLI, its file name).
    ...problems.map((p) => line(p.path ? `${p.path}: ${p.message}` : p.message.replace(/^<text>: /, 'config: '), 'problem')),
    ...warnings.map((w) => line(`warning: ${w}`, 'warning')),
    ...(problems.length === 0 ? [line(`${ui.workflow.value}: ok`, 'ok')] : []),
  );
}
function line(text: string, cls: string): HTMLElement {
  const div = document.createElement('div');
  div.className = cls;
  div.textContent = text;
  return div;
}
function checkConfig(): boolean {
  const r = validateConfig({ text: ui.config.value }, ui.workflow.value as WorkflowAlias);
  showConfigMessages(r.problems, r.warnings);
  return r.problems.length === 0;
}
let typing: ReturnType<typeof setTimeout> | undefined;
ui.config.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(checkConfig, 250);
});
ui.workflow.addEventListener('change', () => {
  ui.modelsRow.hidden = !ui.workflow.value.includes('Cellpose');
  checkConfig();
});
async function useModels(files: readonly File[]): Promise<void> {
  models = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  ui.modelsInfo.textContent = models.map((m) => `${m.name} (${(m.bytes.length / 1024).toFixed(0)} kB)`).join(', ') || 'none chosen';
}
ui.models.addEventListener('change', async () => {
  const files = [...(ui.models.files ?? [])];
  ui.models.value = '';
  await useModels(files);
});

// ── input ──
const dtypeOf = (plane: Image2D) => plane.data.constructor.name.replace('Array', '').toLowerCase();
const describe = (plane: Image2D) => `${plane.width}×${plane.height} ${dtypeOf(plane)}`;

async function openFiles(files: { name: string; bytes: ArrayBuffer }[]): Promise<void> {
  setState('decoding', `decoding ${files.map((f) => f.name).join(', ')}…`);
  refreshButtons();
  try {
    const planes: Image2D[] = [];
    // Each file's pixels as the CLI's FileListSource checks them: one shape and one dtype for all channels (a uint8
    // and a uint16 file side by side would be normalised as if they were alike).
    let first: { name: string; kind: string } | undefined;
    for (const f of files) {
      const reply = await client.request({ type: 'decode', name: f.name, bytes: f.bytes }, [f.bytes]);
      if (reply.type !== 'decoded') continue;
      const kind = describe(reply.image.planes[0]);
      first ??= { name: f.name, kind };
      if (kind !== first.kind) throw new Error(`${f.name}: ${kind} does not match ${first.name}: ${first.kind}; all channel files must have one shape and dtype`);
      planes.push(...reply.image.planes);
    }
    const { width, height } = planes[0];
    image = { name: files.map((f) => f.name).join(' + '), planes };
    result = undefined;
    const dtype = dtypeOf(planes[0]);
    ui.imageInfo.textContent = `${image.name}: ${planes.length} channel(s), ${width}×${height} ${dtype}`;
    ui.cells.textContent = '—';
    ui.timings.replaceChildren();
    viewer.show(planes[0]);
    setState('idle', 'image loaded');
  } catch (err) {
    setState(err instanceof Cancelled ? 'cancelled' : 'error', (err as Error).message);
  }
  refreshButtons();
}
/** Several files are channels in the order of their names (Ch1 before Ch2 before Ch10): a file dialog's order is the platform's. */
const byName = new Intl.Collator(undefined, { numeric: true }).compare;
async function openPicked(picked: readonly File[]): Promise<void> {
  const files = [...picked].sort((a, b) => byName(a.name, b.name));
  if (files.length === 0) return;
  setState('decoding', `reading ${files.map((f) => f.name).join(', ')}…`);
  refreshButtons();
  const read = await reading(() => Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))));
  if (read) await openFiles(read);
}
/** Bytes to decode, or undefined after saying why they could not be had (a file gone since it was picked, the example not served): the page is not left 'decoding'. */
async function reading<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    setState('error', (err as Error).message);
    refreshButtons();
    return undefined;
  }
}
ui.file.addEventListener('change', async () => {
  const files = [...(ui.file.files ?? [])];
  ui.file.value = '';
  await openPicked(files);
});
// Files dropped anywhere on the page are opened as if picked (.onnx files as the Cellpose models); left to the
// browser, a dropped TIFF would replace the page (and its results) with the file itself.
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', async (e) => {
  e.preventDefault();
  const dropped = [...(e.dataTransfer?.files ?? [])];
  if (dropped.length === 0 || ui.file.disabled) return;
  const onnx = dropped.filter((f) => f.name.toLowerCase().endsWith('.onnx'));
  if (onnx.length > 0) await useModels(onnx);
  await openPicked(dropped.filter((f) => !onnx.includes(f)));
});
ui.example.addEventListener('click', async () => {
  setState('decoding', 'loading the example…');
  refreshButtons();
  const files = await reading(() =>
    Promise.all(
      EXAMPLE.map(async (url) => {
        const name = url.split('/').pop()!.replace(/-[\w-]{8}\.tif$/, '.tif');
        const response = await fetch(url).catch((err: Error) => Promise.reject(new Error(`example ${name}: ${err.message}`)));
        if (!response.ok) throw new Error(`example ${name}: ${response.status} ${response.statusText} from the server`);
        return { name, bytes: await response.arrayBuffer() };
      }),
    ),
  );
  if (!files) return;
  ui.config.value = exampleConfig;
  checkConfig();
  await openFiles(files);
});

// ── run ──
ui.run.addEventListener('click', async () => {
  if (!image) return;
  if (!checkConfig()) {
    setState('config-error', 'the config has problems (see above)');
    return;
  }
  result = undefined;
  ui.cells.textContent = '—';
  ui.timings.replaceChildren();
  viewer.clearMasks();
  const started = performance.now();
  setState('running', kernelsReady ? 'starting…' : 'loading kernels…');
  refreshButtons();
  try {
    const reply = await client.request({ type: 'run', workflow: ui.workflow.value, yaml: ui.config.value, planes: image.planes, models }, [], (step) =>
      setState('running', `${step}…`),
    );
    if (reply.type === 'config') {
      showConfigMessages(reply.problems, reply.warnings);
      setState('config-error', 'the config has problems (see above)');
    } else if (reply.type === 'result') {
      result = reply.result;
      const wall = (performance.now() - started) / 1000;
      showResult(result, wall);
      setState('done', `done in ${wall.toFixed(2)} s`);
    }
  } catch (err) {
    setState(err instanceof Cancelled ? 'cancelled' : 'error', err instanceof Cancelled ? 'cancelled' : (err as Error).message);
  }
  refreshButtons();
});
ui.cancel.addEventListener('click', () => {
  kernelsReady = false;
  client.cancel();
});

function showResult(r: RunResult, wall: number): void {
  ui.cells.textContent = `${r.classes.length} cells · masks: ${r.maskNames.join(', ')}`;
  const rows = Object.entries(r.timings).map(([step, s]) => [step, `${s.toFixed(3)} s`]);
  rows.push(['total (page)', `${wall.toFixed(3)} s`]);
  ui.timings.replaceChildren(
    ...rows.map(([a, b]) => {
      const tr = document.createElement('tr');
      for (const text of [a, b]) tr.appendChild(document.createElement('td')).textContent = text;
      return tr;
    }),
  );
  viewer.show(r.background, r.masks.map((mask, i) => ({ name: r.maskNames[i], mask })));
}

for (const name of ['nucleus', 'cytosol']) {
  $<HTMLInputElement>(`show-${name}`).addEventListener('change', (e) => viewer.setVisible(name, (e.target as HTMLInputElement).checked));
}
$('fit').addEventListener('click', () => viewer.fit());

// ── downloads ──
function save(name: string, bytes: BlobPart, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
ui.downloads.npy.addEventListener('click', () => result && save('labels.npy', labelsNpy(result.masks) as BlobPart, 'application/octet-stream'));
ui.downloads.csv.addEventListener('click', () => result && save('classes.csv', classesCsv(result.classes), 'text/csv'));
ui.downloads.png.addEventListener('click', () => result && save('qc_overlay.png', result.qcPng as BlobPart, 'image/png'));
ui.downloads.h5.addEventListener('click', async () => {
  if (!result) return;
  ui.downloads.h5.disabled = true;
  try {
    const reply = await client.request({ type: 'h5', masks: result.masks, chunkSize: result.chunkSize });
    if (reply.type === 'h5') save('segmentation.h5', reply.bytes as BlobPart, 'application/x-hdf5');
  } catch (err) {
    ui.status.textContent = `segmentation.h5: ${(err as Error).message}`;
  }
  refreshButtons(); // a run started meanwhile keeps the downloads off
});

// A config to start from (scPortrait's example: sections for every workflow of the page), rather than an empty one
// that the check would greet with a problem before anything was done.
ui.config.value = exampleConfig;
checkConfig();
