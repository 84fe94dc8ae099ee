/**
 * The Cellpose workflows from the command line, as a new user runs them: a built-in model name looked up with
 * --models (or SCSEG_MODELS), the same command twice into the same folder, a batch, and the exit-2 paths (no
 * models folder, a model that breaks the contract, a sharded Cellpose run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { scseg, scsegPty, terminalRestored, tiledExample } from '../helpers/cli.js';
import { fixturesDir, imagesDir } from '../helpers/fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-cellpose-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const models = path.join(tmp, 'models');
fs.mkdirSync(models);
fs.copyFileSync(path.join(fixturesDir, 'cellpose-onnx', 'stand_in.onnx'), path.join(models, 'nuclei.onnx'));
const images = fs.readdirSync(path.join(imagesDir, 'bbbc039')).filter((f) => f.endsWith('.tif')).map((f) => path.join(imagesDir, 'bbbc039', f));
const config = path.join(tmp, 'cellpose.yml');
fs.writeFileSync(config, 'DAPISegmentationCellpose:\n  threads: 2\n  nucleus_segmentation:\n    model: nuclei\n    flow_threshold: 0.4\n');

async function labelsOf(dir: string): Promise<Uint8Array> {
  await h5wasm.ready;
  const file = new h5wasm.File(path.join(dir, 'segmentation.h5'), 'r');
  try {
    const v = (file.get('labels') as InstanceType<typeof h5wasm.Dataset>).value as BigUint64Array;
    return new Uint8Array(v.buffer.slice(0));
  } finally {
    file.close();
  }
}

describe('scseg segment with a Cellpose workflow', () => {
  it('runs with --models, twice into the same folder (the second with --overwrite): the same masks, classes.csv and QC overlay', async () => {
    const out = path.join(tmp, 'dapi');
    const args = ['segment', '-c', config, '-w', 'DAPISegmentationCellpose', '-i', images[0], '-o', out, '--models', models];
    const first = scseg(args, { SCSEG_MODELS: '' });
    expect(first.stderr).toMatch(/DAPISegmentationCellpose on the (native|wasm) backend/);
    expect(first.status).toBe(0);
    const cells = Number(/(\d+) cells, 1 mask\(s\)/.exec(first.stderr)?.[1]);
    expect(cells).toBeGreaterThan(40);
    const labels = await labelsOf(out);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'run.json', 'segmentation.h5']);
    expect(scseg(args, { SCSEG_MODELS: '' }).status).toBe(2); // the folder holds results: --overwrite replaces them
    const second = scseg([...args, '--overwrite'], { SCSEG_MODELS: '' });
    expect(second.status).toBe(0);
    expect(Buffer.compare(await labelsOf(out), labels)).toBe(0);
    expect(fs.readFileSync(path.join(out, 'classes.csv'), 'utf8').trim().split('\n')).toHaveLength(cells);
  });

  it('zero cells is a success with a warning that says where to look', () => {
    const zero = path.join(tmp, 'zero.yml');
    fs.writeFileSync(zero, `DAPISegmentationCellpose:\n  nucleus_segmentation:\n    model: nuclei\n    cellprob_threshold: 50\n`);
    const r = scseg(['segment', '-c', zero, '-w', 'DAPISegmentationCellpose', '-i', images[0], '-o', path.join(tmp, 'zero'), '--models', models]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: no cells were found; check the channel selection .*, diameter and cellprob_threshold/);
    expect(r.stderr).toMatch(/0 cells, 1 mask\(s\)/);
  });

  it('a batch of two images (MultithreadedSegmentation) over two workers, with SCSEG_MODELS', () => {
    const plate = path.join(tmp, 'plate.csv');
    fs.writeFileSync(plate, `name,file\n${images.map((f, i) => `img${i},${f}`).join('\n')}\n`);
    const out = path.join(tmp, 'batch');
    const r = scseg(['segment', '--batch', plate, '-c', config, '-w', 'DAPISegmentationCellpose', '-o', out, '--threads', '2'], { SCSEG_MODELS: models });
    expect(r.status).toBe(0);
    const summary = fs.readFileSync(path.join(out, 'batch.csv'), 'utf8').trim().split('\n');
    expect(summary).toHaveLength(3);
    expect(summary.slice(1).every((line) => /^img\d,ok,\d+,/.test(line))).toBe(true);
  });

  it.each([
    ['no models folder', [], { SCSEG_MODELS: '' }, /nucleus_segmentation: model "nuclei": no models directory — set SCSEG_MODELS/],
    ['a folder without the model', ['--models', tmp], {}, /nuclei\.onnx not found \(models there: none\)/],
  ])('exits 2 before writing anything: %s', (_what, extra, env, message) => {
    const out = path.join(tmp, `missing-${extra.length}`);
    const r = scseg(['segment', '-q', '-c', config, '-w', 'DAPISegmentationCellpose', '-i', images[0], '-o', out, ...(extra as string[])], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/export-cellpose-onnx\.py/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a model that breaks the contract exits 2 naming it, and leaves no results behind', () => {
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'nuclei.onnx'), Buffer.from('not an onnx model at all'));
    const out = path.join(tmp, 'bad-out');
    const r = scseg(['segment', '-q', '-c', config, '-w', 'DAPISegmentationCellpose', '-i', images[0], '-o', out, '--models', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nuclei\.onnx (is not a valid ONNX model|: ONNX Runtime cannot load it)/);
    expect(fs.existsSync(path.join(out, 'segmentation.h5'))).toBe(false);
  });
});

describe('Ctrl-C during a Cellpose run (on a terminal)', () => {
  // A worker thread stopped inside an ONNX Runtime call used to take the whole process down (abort, exit 134,
  // staging folder and lock left behind): a stop now lands between network calls.
  const input = path.join(tmp, 'tiled.npy');
  const sharded = path.join(tmp, 'sharded.yml');
  beforeAll(async () => {
    await tiledExample(input, 3);
    fs.writeFileSync(sharded, 'DAPISegmentationCellpose:\n  nucleus_segmentation:\n    model: nuclei\n    diameter: 17\n');
  });

  it.each([
    ['in memory', config, [] as string[], /segmenting with/],
    ['sharded, 2 workers', sharded, ['--shard-size', String(400 * 400), '--overlap', '250', '--threads', '2'], /shards 0\//],
  ])('%s: exit 130, no crash, nothing left, the terminal restored', async (_name, cfg, extra, started) => {
    const out = path.join(tmp, `stopped-${_name.split(' ')[0]}`);
    let sent = false;
    const r = await scsegPty(['segment', '-c', cfg, '-w', 'DAPISegmentationCellpose', '-i', input, '-o', out, '--models', models, ...extra], {
      env: { SCSEG_MODELS: '' },
      watch: (output, type) => {
        if (!sent && started.test(output)) {
          sent = true;
          setTimeout(() => type('\x03'), 300);
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.output).not.toMatch(/terminate called|Napi::Error|Aborted/);
    expect(r.status).toBe(130);
    expect(terminalRestored(r.output)).toBe(true);
    const left = fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f !== '.scseg-cache') : [];
    expect(left).toEqual([]);
  });
});

