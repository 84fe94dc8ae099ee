/**
 * `scseg segment` over many images, as a user runs it: `--batch plate.csv` (bad images reported, the rest
 * finished, exit 2; a dying worker exit 1), a Multithreaded workflow, CSV errors naming file:line, and a 4-D
 * `--input` written as one segmentation.h5 (images, masks, Y, X).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FAULT_EXIT_ENV } from '../../lib/segmentation/batch-tasks.js';
import { crops, readStackLabelsH5, stackData, writeNpy } from '../helpers/batch.js';
import { scseg } from '../helpers/cli.js';
import { DAPI_BBBC039_CONFIG, exampleData, imagesDir } from '../helpers/fixtures.js';
import { readLabelsH5 } from '../helpers/labels.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-batch-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';

const config = path.join(tmp, 'dapi.yml');
fs.writeFileSync(config, `${DAPI_BBBC039_CONFIG}${DAPI_BBBC039_CONFIG.replace('DAPISegmentation:', 'MultithreadedDAPISegmentation:\n  threads: 2')}`);
const bbbc = path.join(imagesDir, 'bbbc039', 'IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif');
const dsb = path.join(imagesDir, 'dsb_nuclei', 'dsb_256_image.tif');
const ch1 = path.join(exampleData, 'Ch1.tif');

function plate(name: string, rows: string[][]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, rows.map((r) => r.join(',')).join('\n') + '\n');
  return file;
}

const summary = (out: string) =>
  fs.readFileSync(path.join(out, 'batch.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 3).join(','));

describe(`scseg segment --batch [${backend}]`, () => {
  it('a missing and a corrupt image are reported in batch.csv, the others finish, exit code 2', async () => {
    fs.writeFileSync(path.join(tmp, 'corrupt.tif'), Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(64, 7)]));
    const list = plate('plate.csv', [['name', 'file'], ['bbbc', bbbc], ['missing', 'missing.tif'], ['corrupt', 'corrupt.tif'], ['dsb', dsb]]);
    const out = path.join(tmp, 'plate');
    const r = scseg(['segment', '--batch', list, '-o', out, '-c', config, '-w', 'DAPISegmentation', '--threads', '2', '-b', backend]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DAPISegmentation, batch: 4 images; 2 workers/);
    expect(r.stderr).toMatch(/\[\d\/4\] bbbc: \d+ cells/);
    expect(r.stderr).toMatch(/warning: \[\d\/4\] missing failed: .*missing\.tif: no such file/);
    expect(r.stderr).toMatch(/warning: \[\d\/4\] corrupt failed: .*corrupt\.tif/);
    expect(r.stderr).toMatch(/2 of 4 images ok, 2 failed/);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/^scseg: 2 of 4 images failed \(2 on bad input\).*batch\.csv$/);
    const rows = summary(out);
    expect(rows.map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      'name,status', 'bbbc,ok', 'missing,failed', 'corrupt,failed', 'dsb,ok',
    ]);
    expect(fs.readdirSync(out).sort()).toEqual(['batch.csv', 'bbbc', 'dsb', 'run.json']);
    for (const name of ['bbbc', 'dsb']) {
      expect(fs.readdirSync(path.join(out, name)).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'run.json', 'segmentation.h5']);
    }
    // The same image segmented alone: the same labels and classes.
    const single = path.join(tmp, 'single-bbbc');
    expect(scseg(['segment', '-q', '-i', bbbc, '-o', single, '-c', config, '-w', 'DAPISegmentation', '-b', backend]).status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'bbbc', 'classes.csv'), 'utf8')).toBe(fs.readFileSync(path.join(single, 'classes.csv'), 'utf8'));
    const [a, b] = await Promise.all([readLabelsH5(path.join(out, 'bbbc', 'segmentation.h5')), readLabelsH5(path.join(single, 'segmentation.h5'))]);
    expect(Buffer.compare(Buffer.from(a.masks[0].buffer), Buffer.from(b.masks[0].buffer))).toBe(0);
  });

  it('a worker that dies fails its image only; exit code 1', () => {
    const list = plate('dies.csv', [['name', 'file'], ['dies', dsb], ['lives', dsb]]);
    const out = path.join(tmp, 'dies');
    const r = scseg(['segment', '-q', '--batch', list, '-o', out, '-c', config, '-w', 'DAPISegmentation', '--threads', '1', '-b', backend],
      { [FAULT_EXIT_ENV]: 'dies' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^scseg: 1 of 2 images failed; the others' results are written/);
    expect(summary(out).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['name,status', 'dies,failed', 'lives,ok']);
    expect(fs.readFileSync(path.join(out, 'batch.csv'), 'utf8')).toMatch(/image 1 of 2 \(dies\): the worker running it died/);
  });

  it('Multithreaded<Workflow> takes its workers from the config; all ok exits 0 and the summary says 0 failed', () => {
    const list = plate('ok.csv', [['name', 'file'], ['a', dsb], ['b', ch1]]);
    const out = path.join(tmp, 'ok');
    const r = scseg(['segment', '--batch', list, '-o', out, '-c', config, '-w', 'MultithreadedDAPISegmentation', '--no-qc', '-b', backend]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/batch: 2 images; 2 workers/);
    expect(r.stderr).toMatch(/2 of 2 images ok, 0 failed/);
    expect(fs.readdirSync(path.join(out, 'a')).sort()).toEqual(['classes.csv', 'run.json', 'segmentation.h5']);
  });

  it.each([
    ['a CSV error names file:line', () => ['--batch', plate('broken.csv', [['name', 'file'], ['x', 'a.tif'], ['x', 'b.tif']])],
      /broken\.csv:3: name "x" is used twice/],
    ['a missing plate file', () => ['--batch', path.join(tmp, 'absent.csv')], /absent\.csv: no such file/],
    ['neither --input nor --batch', () => [], /no input: give the image with --input, or a plate CSV with --batch/],
    ['both --input and --batch', () => ['-i', dsb, '--batch', path.join(tmp, 'plate.csv')], /either --batch .* or --input, not both/],
  ])('%s: exit 2, one line, nothing written', (_what, args, message) => {
    const out = path.join(tmp, 'never');
    const r = scseg(['segment', '-q', ...args(), '-o', out, '-c', config, '-w', 'DAPISegmentation']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('Multithreaded<Workflow> on one 3-D image asks for --batch or a 4-D input', () => {
    const r = scseg(['segment', '-q', '-i', dsb, '-o', path.join(tmp, 'never'), '-c', config, '-w', 'MultithreadedDAPISegmentation']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/MultithreadedDAPISegmentation segments many images: give a plate CSV with --batch, or a 4-D/);
  });
});

describe(`scseg segment -i <4-D .npy> [${backend}]`, () => {
  it('segments every image into one segmentation.h5 (images, masks, Y, X) and a batch.csv of image_0000…', async () => {
    const images = [...await crops([bbbc], 200, [[0, 0], [300, 200]]), ...await crops([ch1], 200, [[100, 100]])];
    const { data, shape } = stackData(images);
    const npy = writeNpy(path.join(tmp, 'stack.npy'), data, shape);
    const out = path.join(tmp, 'stack');
    const r = scseg(['segment', '-i', npy, '-o', out, '-c', config, '-w', 'DAPISegmentation', '-b', backend]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/batch: 3 images of a 3×1×200×200 uint16 stack/);
    expect(fs.readdirSync(out).sort()).toEqual(['batch.csv', 'run.json', 'segmentation.h5']);
    const labels = await readStackLabelsH5(path.join(out, 'segmentation.h5'));
    expect(labels.shape).toEqual([3, 1, 200, 200]);
    expect(labels.dtype).toBe('<Q');
    const rows = summary(out);
    expect(rows.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['image_0000,ok', 'image_0001,ok', 'image_0002,ok']);
    // Image 2 alone (as a 3-D .npy): the same labels.
    const one = writeNpy(path.join(tmp, 'one.npy'), data.subarray(2 * 200 * 200), [1, 200, 200]);
    const single = path.join(tmp, 'stack-single');
    expect(scseg(['segment', '-q', '-i', one, '-o', single, '-c', config, '-w', 'DAPISegmentation', '-b', backend]).status).toBe(0);
    const { masks } = await readLabelsH5(path.join(single, 'segmentation.h5'));
    expect(Buffer.compare(Buffer.from(labels.images[2][0].buffer), Buffer.from(masks[0].buffer))).toBe(0);
    expect(rows[3].split(',')[2]).toBe(String(new Set(masks[0]).size - 1));
  });
});
