/** The scseg CLI as a new user meets it: help, listings, config validation and every bad-input exit path. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scseg } from '../helpers/cli.js';
import { writeNpy } from '../helpers/batch.js';
import { exampleData as example3, readPlanes } from '../helpers/fixtures.js';
import { PYTHON, pythonHas } from '../helpers/python.js';
import { spawnSync } from 'node:child_process';
import h5wasm from 'h5wasm/node';
import { openImage } from '../../lib/io/index.js';
import { itIfNative, nativeAvailable } from '../helpers/backends.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-'));
const config3 = path.join(example3, 'config_example3.yml');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('scseg basics', () => {
  it('--version prints the package version', () => {
    const r = scseg(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
  });

  it('--help lists the commands', () => {
    const r = scseg(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['segment', 'workflows', 'validate-config']) expect(r.stdout).toContain(c);
  });

  it('workflows lists required channels and output masks', () => {
    const r = scseg(['workflows']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/WGASegmentation\n\s+input channels: nucleus, cytosol\n\s+output masks:\s+nucleus, cytosol/);
    expect(r.stdout).toMatch(/DAPISegmentation\n\s+input channels: nucleus\n\s+output masks:\s+nucleus/);
  });

  it('validate-config accepts scPortrait example 3 and reports each problem of a broken config', () => {
    expect(scseg(['validate-config', config3]).stdout).toMatch(/WGASegmentation: ok/);
    const bad = path.join(tmp, 'bad.yml');
    fs.writeFileSync(
      bad,
      'WGASegmentation:\n  median_filter_size: 4\n  nucleus_segmentaton: {}\n  cytosol_segmentation:\n    threshold: 2\n',
    );
    const r = scseg(['validate-config', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nucleus_segmentaton.*did you mean .*nucleus_segmentation/s);
    expect(r.stderr).toMatch(/cytosol_segmentation\.threshold/);
    expect(r.stderr).toMatch(/cytosol_segmentation\.erosion/);
  });
});

describe('scseg segment: bad input exits 2 with one clear message and writes nothing', () => {
  const out = path.join(tmp, 'out');
  const cases: [string, () => string[], RegExp][] = [
    ['missing input file', () => ['-i', path.join(tmp, 'nope.tif')], /nope\.tif: no such file/],
    ['unknown workflow', () => ['-w', 'FooSegmentation'], /unknown workflow "FooSegmentation"/],
    ['missing config file', () => ['-c', path.join(tmp, 'missing.yml')], /missing\.yml/],
    ['corrupt TIFF', () => {
      const f = path.join(tmp, 'corrupt.tif');
      fs.writeFileSync(f, Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(64, 7)]));
      return ['-i', f];
    }, /corrupt\.tif/],
    ['truncated TIFF', () => {
      const f = path.join(tmp, 'truncated.tif');
      const full = fs.readFileSync(path.join(example3, 'Ch1.tif'));
      fs.writeFileSync(f, full.subarray(0, Math.floor(full.length / 3)));
      return ['-i', f, path.join(example3, 'Ch2.tif')];
    }, /truncated\.tif/],
    ['too few channels for WGA', () => ['-i', path.join(example3, 'Ch1.tif')], /channel 1 .* out of range: the input has 1 channel/],
  ];
  it.each(cases)('%s', (_name, override, message) => {
    const args = { '-c': config3, '-w': 'WGASegmentation', '-i': [path.join(example3, 'Ch1.tif'), path.join(example3, 'Ch2.tif')], '-o': out } as Record<string, string | string[]>;
    const extra = override();
    for (let i = 0; i < extra.length; ) {
      const key = extra[i++];
      const vals: string[] = [];
      while (i < extra.length && !extra[i].startsWith('-')) vals.push(extra[i++]);
      args[key] = vals.length === 1 && key !== '-i' ? vals[0] : vals;
    }
    const argv = ['segment', '-q', ...Object.entries(args).flatMap(([k, v]) => [k, ...(Array.isArray(v) ? v : [v])])];
    const r = scseg(argv);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(out, 'segmentation.h5'))).toBe(false);
  });

  it('an output path that is a file, or runs through one, is named as such (exit 2)', () => {
    const blocker = path.join(tmp, 'file-not-dir');
    fs.writeFileSync(blocker, '');
    const inputs = ['-i', path.join(example3, 'Ch1.tif'), path.join(example3, 'Ch2.tif')];
    const through = scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', ...inputs, '-o', path.join(blocker, 'out')]);
    expect(through.status).toBe(2);
    expect(through.stderr.trim()).toBe(`scseg: output directory ${path.join(blocker, 'out')}: ${blocker} is a file, not a directory`);
    const itself = scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', ...inputs, '-o', blocker]);
    expect(itself.status).toBe(2);
    expect(itself.stderr).toMatch(/output directory .*file-not-dir is a file; pass a directory/);
  });

  it('a channels-last array (Y, X, C) is flagged: a warning that says how to transpose it, and the no-cells warning', async () => {
    const planes = await readPlanes([path.join(example3, 'Ch1.tif'), path.join(example3, 'Ch2.tif')]);
    const [h, w] = [planes[0].height, planes[0].width];
    const yxc = new Uint16Array(h * w * 2);
    for (let i = 0; i < h * w; i++) for (let c = 0; c < 2; c++) yxc[i * 2 + c] = planes[c].data[i];
    const npy = writeNpy(path.join(tmp, 'channels-last.npy'), yxc, [h, w, 2]);
    const r = scseg(['segment', '-c', config3, '-w', 'WGASegmentation', '-i', npy, '-o', path.join(tmp, 'channels-last')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: the input looks channels-last: read as C×Y×X it is 400 channels of 2×400 pixels; .*numpy\.moveaxis/);
    expect(r.stderr).toMatch(/warning: no cells were found/);
  });

  it.each([
    [['segment', '-w', 'WGASegmentation', '-i', 'x.tif', '-o', 'out'], /required option '-c, --config <file>' not specified/],
    [['segment', '-c', 'c.yml', '-w', 'WGASegmentation', '-i', 'x.tif', '-o', 'out', '--threads', '0'], /--threads <n>' argument '0' is invalid/],
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
  ])('usage error %j exits 2 (commander prints the usage)', (args, message) => {
    const r = scseg(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});


/** Writes channels as a minimal OME-Zarr (NGFF 0.4) image: axes c, y, x, one uncompressed chunk per channel. */
async function writeOmeZarrImage(dir: string, files: string[]): Promise<void> {
  const src = await openImage(files);
  const planes = await Promise.all(files.map((_, i) => src.readChannel(i)));
  await src.close();
  const { width: w, height: h } = planes[0];
  fs.mkdirSync(path.join(dir, '0'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
  fs.writeFileSync(path.join(dir, '.zattrs'), JSON.stringify({
    multiscales: [{ version: '0.4', axes: [{ name: 'c', type: 'channel' }, { name: 'y', type: 'space' }, { name: 'x', type: 'space' }],
      datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [1, 1, 1] }] }] }],
  }));
  fs.writeFileSync(path.join(dir, '0', '.zarray'), JSON.stringify({
    zarr_format: 2, shape: [planes.length, h, w], chunks: [1, h, w], dtype: '<u2', compressor: null, fill_value: 0,
    order: 'C', filters: null, dimension_separator: '/',
  }));
  planes.forEach((p, c) => {
    fs.mkdirSync(path.join(dir, '0', String(c), '0'), { recursive: true });
    fs.writeFileSync(path.join(dir, '0', String(c), '0', '0'), Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  });
}

describe('scseg segment on scPortrait example 3 (as a new user would)', () => {
  const inputs = ['Ch1.tif', 'Ch2.tif', 'Ch3.tif'].map((f) => path.join(example3, f));
  let classes = '';

  function checkResults(out: string, r: { status: number | null; stderr: string }): void {
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'run.json', 'segmentation.h5']);
    const ids = fs.readFileSync(path.join(out, 'classes.csv'), 'utf8').split('\n').map(Number);
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.every((v) => Number.isInteger(v) && v > 0)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'qc_overlay.png')).subarray(1, 4).toString()).toBe('PNG');
    if (pythonHas('h5py', 'numpy')) {
      const py = spawnSync(PYTHON, ['-c', [
        'import sys, h5py, numpy as np',
        'd = h5py.File(sys.argv[1], "r")["labels"]',
        'print(d.shape, d.dtype, sorted(set(np.unique(d[0])) - {0}) == sorted(set(np.unique(d[1])) - {0}), len(set(np.unique(d[0])) - {0}))',
      ].join('\n'), path.join(out, 'segmentation.h5')], { encoding: 'utf8' });
      expect(py.stdout.trim()).toBe(`(2, 400, 400) uint64 True ${ids.length}`);
    }
  }

  it('from TIFF files (one per channel)', () => {
    const out = path.join(tmp, 'tiff-out');
    const r = scseg(['segment', '-c', config3, '-w', 'WGASegmentation', '-i', ...inputs, '-o', out]);
    checkResults(out, r);
    expect(r.stderr).toMatch(/cells/);
    classes = fs.readFileSync(path.join(out, 'classes.csv'), 'utf8');
  });

  it('from OME-Zarr gives the same cells', async () => {
    const zarr = path.join(tmp, 'example3.ome.zarr');
    await writeOmeZarrImage(zarr, inputs);
    const out = path.join(tmp, 'zarr-out');
    const r = scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', '-i', zarr, '-o', out]);
    checkResults(out, r);
    expect(fs.readFileSync(path.join(out, 'classes.csv'), 'utf8')).toBe(classes);
  });
});

describe('scseg segment --dataset: the HDF5 dataset to read', () => {
  it('reads the named dataset (in memory and sharded), not the first one the file holds', async () => {
    const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(example3, f));
    const planes = await Promise.all(inputs.map(async (f) => {
      const src = await openImage(f);
      try {
        return (await src.readChannel(0)).data as Uint16Array;
      } finally {
        await src.close();
      }
    }));
    const data = new Uint16Array(2 * 400 * 400);
    planes.forEach((p, c) => data.set(p, c * 400 * 400));
    await h5wasm.ready;
    const file = path.join(tmp, 'two-datasets.h5');
    const f = new h5wasm.File(file, 'w');
    f.create_dataset({ name: 'blank', data: new Uint16Array(2 * 400 * 400), shape: [2, 400, 400], dtype: '<H' });
    f.create_group('zz');
    f.create_dataset({ name: 'zz/raw', data, shape: [2, 400, 400], dtype: '<H' });
    f.close();
    // Without the option the first 3-D dataset is read: the blank one, no cells.
    const blank = path.join(tmp, 'dataset-default');
    expect(scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', '-i', file, '-o', blank]).status).toBe(0);
    expect(fs.readFileSync(path.join(blank, 'classes.csv'), 'utf8')).toBe('');
    for (const extra of [[], ['--shard-size', '40000', '--threads', '2']]) {
      const out = path.join(tmp, `dataset-${extra.length}`);
      const r = scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', '-i', file, '--dataset', 'zz/raw', ...extra, '-o', out]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(fs.readFileSync(path.join(out, 'classes.csv'), 'utf8').split('\n').length).toBeGreaterThan(20);
    }
  });
});

describe('scseg segment: settings and capabilities as a user asks for them', () => {
  const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(example3, f));
  const run = (out: string, extra: string[], env: NodeJS.ProcessEnv = {}) =>
    scseg(['segment', '-c', config3, '-w', 'WGASegmentation', '-i', ...inputs, '-o', out, ...extra], env);

  it('SCSEG_BACKEND=wasm runs on WASM when --backend is not given; --backend wins over it', () => {
    const wasm = run(path.join(tmp, 'env-wasm'), [], { SCSEG_BACKEND: 'wasm' });
    expect(wasm.status).toBe(0);
    expect(wasm.stderr).toMatch(/on the wasm backend, 1 kernel thread\b/);
    if (nativeAvailable) {
      const flag = run(path.join(tmp, 'flag-native'), ['--backend', 'native'], { SCSEG_BACKEND: 'wasm' });
      expect(flag.stderr).toMatch(/on the native backend/);
    }
  });

  itIfNative('--threads 1 and --threads 2 give identical masks, and the log says how many threads ran', async () => {
    const masks: Uint8Array[] = [];
    for (const t of [1, 2]) {
      const out = path.join(tmp, `threads-${t}`);
      const r = run(out, ['--backend', 'native', '--threads', String(t)]);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`on the native backend, ${t} kernel threads?\\b`));
      await h5wasm.ready;
      const file = new h5wasm.File(path.join(out, 'segmentation.h5'), 'r');
      const labels = (file.get('labels') as InstanceType<typeof h5wasm.Dataset>).value as BigUint64Array;
      masks.push(new Uint8Array(labels.buffer.slice(0)));
      file.close();
    }
    expect(masks[0].length).toBe(2 * 400 * 400 * 8);
    expect(Buffer.compare(masks[0], masks[1])).toBe(0);
  });

  it.each([
    ['CytosolSegmentationCellpose', /nucleus_segmentation: model "nuclei": no models directory — set SCSEG_MODELS .*export-cellpose-onnx\.py/],
    ['ShardedCytosolSegmentationCellpose', /nucleus_segmentation: model "nuclei": no models directory — set SCSEG_MODELS .*export-cellpose-onnx\.py/],
  ])('%s without its model exits 2 saying why, and writes nothing', (workflow, message) => {
    const out = path.join(tmp, `unavailable-${workflow}`);
    const r = scseg(['segment', '-q', '-c', config3, '-w', workflow, '-i', ...inputs, '-o', out], { SCSEG_MODELS: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('MultithreadedWGASegmentation is available; without `threads` in its config section it exits 2 naming the key', () => {
    const out = path.join(tmp, 'multithreaded-no-threads');
    const r = scseg(['segment', '-q', '-c', config3, '-w', 'MultithreadedWGASegmentation', '-i', ...inputs, '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/threads.*required by MultithreadedSegmentation/);
    expect(r.stderr).not.toMatch(/not available/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('scseg demo', () => {
  it('segments the shipped example 3 into the folder, twice in a row (a demo replaces an earlier demo), and says where each file went', () => {
    const out = path.join(tmp, 'demo');
    for (let i = 0; i < 2; i++) {
      const r = scseg(['demo', '-q', '-o', out]);
      expect(r.status).toBe(0);
      expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'run.json', 'segmentation.h5']);
      for (const f of ['segmentation.h5', 'classes.csv', 'qc_overlay.png', 'run.json']) expect(r.stdout).toContain(f);
    }
    expect(fs.readFileSync(path.join(out, 'classes.csv'), 'utf8').trim().split('\n').length).toBeGreaterThan(20);
  });

  it('does not replace results another command wrote, unless --overwrite', () => {
    const out = path.join(tmp, 'demo-over-results');
    const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(example3, f));
    expect(scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', '-i', ...inputs, '-o', out, '--no-qc']).status).toBe(0);
    const r = scseg(['demo', '-q', '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already holds the results of a WGASegmentation run .*pass --overwrite/);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'run.json', 'segmentation.h5']);
    expect(scseg(['demo', '-q', '-o', out, '--overwrite']).status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'run.json', 'segmentation.h5']);
  });
});
