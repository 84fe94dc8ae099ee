/**
 * The results folder as one transaction, as a user meets it: run.json records the run (checksums, config, cell
 * count); a second run into the folder needs --overwrite (without it: exit 2, nothing touched; with it: the
 * earlier results replaced as a whole); SIGTERM mid-run exits 143 with the earlier results as they were; what a
 * killed run leaves is cleaned by the next; batches follow the same rules, with a run.json per image.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOLD_BEFORE_COMMIT_ENV } from '../../lib/cli/run-context.js';
import type { RunManifest } from '../../lib/segmentation/run-manifest.js';
import { cliCommand, scseg, snapshot, tiledExample } from '../helpers/cli.js';
import { DAPI_BBBC039_CONFIG, exampleData, imagesDir, repoRoot } from '../helpers/fixtures.js';
import { readLabelsH5 } from '../helpers/labels.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-results-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const backend = process.env.SCSEG_BACKEND === 'wasm' ? 'wasm' : 'native';
const config3 = path.join(exampleData, 'config_example3.yml');
const inputs = ['Ch1.tif', 'Ch2.tif'].map((f) => path.join(exampleData, f));
const wga = (out: string, ...extra: string[]) => ['segment', '-q', '-c', config3, '-w', 'WGASegmentation', '-i', ...inputs, '-o', out, '-b', backend, ...extra];

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
/** The documented directory checksum: sha256 of `<sha256>  <relative path>\n` of its files sorted by path. */
function treeSha256(dir: string): string {
  const files = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
  return createHash('sha256').update(files.map((f) => `${sha256(path.join(dir, f))}  ${f}\n`).join('')).digest('hex');
}
const manifest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunManifest;
const classRows = (dir: string) => fs.readFileSync(path.join(dir, 'classes.csv'), 'utf8').split('\n').filter((l) => l !== '').length;
const hidden = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('.'));

/** Starts the CLI (stderr piped, not a terminal), sends `signal` once `ready(stderr)` holds; exit code and stderr. */
async function stopWhen(args: string[], ready: (stderr: string) => boolean, signal: NodeJS.Signals, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, cliCommand(args), { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let sent = false;
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!sent && ready(stderr)) {
      sent = true;
      child.kill(signal);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stderr, sent };
}

/** Waits until a run's staging folder in `out` holds run.json (the run is then held before its commit). */
async function stagedManifest(out: string, deadline = Date.now() + 60_000): Promise<boolean> {
  while (Date.now() < deadline) {
    const staging = fs.existsSync(out) ? fs.readdirSync(out).find((f) => f.startsWith('.scseg-staging-')) : undefined;
    if (staging && fs.existsSync(path.join(out, staging, 'run.json'))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe(`scseg segment: the results folder [${backend}]`, () => {
  const out = path.join(tmp, 'example3');

  it('run.json records the run: version, workflow, resolved config, backend, threads, inputs and files with checksums; cells = classes.csv rows', async () => {
    const r = scseg(wga(out, '--format', 'zarr'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'labels.zarr', 'qc_overlay.png', 'run.json', 'segmentation.h5']);
    const m = manifest(out);
    expect(m.format).toBe(1);
    expect(m.scseg.version).toBe(JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
    expect(m.scseg.command).toBe('segment');
    expect(m.scseg.argv).toContain('--format');
    expect(m.workflow).toBe('WGASegmentation');
    expect(m.segmentation).toBe('Segmentation');
    expect(m.config.file).toBe(config3);
    expect(m.config.sha256).toBe(sha256(config3));
    expect(m.config.resolved).toMatchObject({ workflow: 'WGASegmentation', medianFilterSize: 4 });
    expect(m.backend).toBe(backend);
    expect(m.threads.workers).toBe(1);
    expect(m.threads.kernelThreads).toBeGreaterThanOrEqual(1);
    expect(m.inputs).toEqual(inputs.map((f) => ({ path: f, bytes: fs.statSync(f).size, sha256: sha256(f) })));
    expect(m.options).toEqual({ format: 'zarr', qc: true });
    expect(Date.parse(m.finished)).toBeGreaterThanOrEqual(Date.parse(m.started));
    expect(m.seconds.total).toBeGreaterThan(0);
    // What the user waited for, by stage: reading, each workflow step, each output file.
    for (const stage of ['read', 'median', 'cytosol fast marching + watershed', 'write segmentation.h5', 'write classes.csv', 'write labels.zarr', 'write qc_overlay.png']) {
      expect(m.seconds[stage]).toBeGreaterThan(0);
      expect(m.seconds[stage]).toBeLessThan(m.seconds.total);
    }
    expect(m.masks).toEqual(['nucleus', 'cytosol']);
    // The cell count is classes.csv's rows and the nucleus mask's labels.
    expect(m.cells).toBeGreaterThan(20);
    expect(classRows(out)).toBe(m.cells);
    const { masks } = await readLabelsH5(path.join(out, 'segmentation.h5'));
    expect(new Set(masks[0]).size - 1).toBe(m.cells);
    expect(Object.keys(m.files).sort()).toEqual(['classes.csv', 'labels.zarr', 'qc_overlay.png', 'segmentation.h5']);
    for (const f of ['classes.csv', 'qc_overlay.png', 'segmentation.h5']) {
      expect(m.files[f]).toEqual({ bytes: fs.statSync(path.join(out, f)).size, sha256: sha256(path.join(out, f)) });
    }
    expect(m.files['labels.zarr'].sha256).toBe(treeSha256(path.join(out, 'labels.zarr')));
  });

  it('a second run into it without --overwrite exits 2 naming the folder and the flag, and touches nothing', () => {
    const before = snapshot(out);
    const stamp = fs.statSync(out).mtimeMs;
    const r = scseg(wga(out));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^scseg: output directory ${out} already holds the results of a WGASegmentation run finished .*pass --overwrite to replace them`));
    expect(snapshot(out)).toEqual(before);
    expect(fs.statSync(out).mtimeMs).toBe(stamp);
  });

  it('with --overwrite the earlier results go as a whole: the first run\'s OME-Zarr labels and QC overlay are gone', () => {
    const first = manifest(out);
    const r = scseg(wga(out, '--overwrite', '--no-qc'));
    expect(r.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['classes.csv', 'run.json', 'segmentation.h5']);
    const m = manifest(out);
    expect(m.started).not.toBe(first.started);
    expect(Object.keys(m.files).sort()).toEqual(['classes.csv', 'segmentation.h5']);
    expect(m.files['segmentation.h5'].sha256).toBe(sha256(path.join(out, 'segmentation.h5')));
    expect(classRows(out)).toBe(m.cells);
  });

  it('a folder holding results without run.json is named as unfinished; one holding other files is refused even with --overwrite', () => {
    const unfinished = path.join(tmp, 'unfinished');
    fs.mkdirSync(unfinished);
    fs.copyFileSync(path.join(out, 'segmentation.h5'), path.join(unfinished, 'segmentation.h5'));
    const r = scseg(wga(unfinished));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already holds results without a run\.json \(an unfinished run, or one of an older scseg\): segmentation\.h5; pass --overwrite/);

    const mine = path.join(tmp, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'notes.txt'), 'my notes');
    fs.writeFileSync(path.join(mine, 'classes.csv'), '1\n2');
    const before = snapshot(mine);
    const o = scseg(wga(mine, '--overwrite'));
    expect(o.status).toBe(2);
    expect(o.stderr).toMatch(/output directory .*mine holds files scseg did not write \(notes\.txt\)/);
    expect(snapshot(mine)).toEqual(before);
    expect(fs.readdirSync(mine).sort()).toEqual(['classes.csv', 'notes.txt']);
  });

  // SIGHUP: the terminal closed (Node's default would die at once, leaving the staging folder behind).
  it.each([['SIGTERM', 143], ['SIGHUP', 129]] as const)('%s mid-run exits %i; the earlier results are as they were and nothing is left behind', async (name, code) => {
    const big = await tiledExample(path.join(tmp, 'tiled3.npy'), 3);
    const args = ['segment', '-c', config3, '-w', 'WGASegmentation', '-i', big, '-o', out, '-b', backend, '--overwrite', '--format', 'zarr'];
    const before = snapshot(out);
    const r = await stopWhen(args, (s) => /segmenting with/.test(s), name);
    expect(r.sent).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`warning: ${name}: stopping`));
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`scseg: interrupted (${name}); ${out} is as it was`);
    expect(r.code).toBe(code);
    expect(snapshot(out)).toEqual(before);
    expect(hidden(out)).toEqual([]);
  });

  it('a folder another run is writing into is refused (exit 2), and left alone', () => {
    fs.symlinkSync(String(process.pid), path.join(out, '.scseg-lock')); // this (live) process holds it
    const before = snapshot(out);
    const r = scseg(wga(out, '--overwrite'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`scseg: output directory ${out} is being written by another scseg run (process ${process.pid}); wait for it to finish or give another output directory`);
    expect(snapshot(out)).toEqual(before);
    fs.rmSync(path.join(out, '.scseg-lock'));
  });

  it('what a killed run left (staging folder, lock, a writer\'s temporary) is removed by the next run', () => {
    const gone = spawnSync('true').pid!; // a process that has exited
    fs.mkdirSync(path.join(out, `.scseg-staging-${gone}-0badc0de`));
    fs.writeFileSync(path.join(out, `.scseg-staging-${gone}-0badc0de`, 'segmentation.h5'), 'partial');
    fs.symlinkSync(String(gone), path.join(out, '.scseg-lock'));
    fs.writeFileSync(path.join(out, `.classes.csv.tmp-${gone}-12345678`), '1\n');
    const r = scseg(wga(out, '--overwrite'));
    expect(r.status).toBe(0);
    expect(hidden(out)).toEqual([]);
  });
});

describe(`scseg segment --batch: the same rules per image [${backend}]`, () => {
  const config = path.join(tmp, 'dapi.yml');
  fs.writeFileSync(config, DAPI_BBBC039_CONFIG);
  const dsb = path.join(imagesDir, 'dsb_nuclei', 'dsb_256_image.tif');
  const ch1 = path.join(exampleData, 'Ch1.tif');
  const plate = (name: string, rows: string[][]) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, ['name,file', ...rows.map((r) => r.join(','))].join('\n') + '\n');
    return file;
  };
  const out = path.join(tmp, 'plate');
  const batch = (list: string, ...extra: string[]) => ['segment', '-q', '--batch', list, '-o', out, '-c', config, '-w', 'DAPISegmentation', '-b', backend, ...extra];

  it('each image\'s folder has its run.json; the batch\'s lists every image; a rerun needs --overwrite and then replaces the whole batch', () => {
    const list = plate('two.csv', [['dsb', dsb], ['ex3', ch1], ['missing', 'missing.tif']]);
    const r = scseg(batch(list, '--threads', '2'));
    expect(r.status).toBe(2); // one image failed on bad input; the others' results are written
    expect(fs.readdirSync(out).sort()).toEqual(['batch.csv', 'dsb', 'ex3', 'run.json']);
    const m = manifest(out);
    expect(m.segmentation).toBe('MultithreadedSegmentation');
    expect(m.images!.map((i) => [i.name, i.status])).toEqual([['dsb', 'ok'], ['ex3', 'ok'], ['missing', 'failed']]);
    expect(m.images![2].error).toMatch(/missing\.tif: no such file/);
    expect(m.inputs.map((i) => i.path)).toEqual([list, dsb, ch1]);
    expect(Object.keys(m.files).sort()).toEqual(['batch.csv', 'dsb', 'ex3']);
    let cells = 0;
    for (const [name, file] of [['dsb', dsb], ['ex3', ch1]]) {
      const dir = path.join(out, name);
      expect(fs.readdirSync(dir).sort()).toEqual(['classes.csv', 'qc_overlay.png', 'run.json', 'segmentation.h5']);
      const image = manifest(dir);
      expect(image.inputs).toEqual([{ path: file, bytes: fs.statSync(file).size, sha256: sha256(file) }]);
      expect(image.cells).toBe(classRows(dir));
      expect(image.files['segmentation.h5'].sha256).toBe(sha256(path.join(dir, 'segmentation.h5')));
      expect(m.images!.find((i) => i.name === name)!.cells).toBe(image.cells);
      cells += image.cells;
    }
    expect(m.cells).toBe(cells);

    const before = snapshot(out);
    const again = scseg(batch(plate('one.csv', [['dsb', dsb]])));
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds the results of a DAPISegmentation run .*--overwrite/);
    expect(snapshot(out)).toEqual(before);
    const replaced = scseg(batch(plate('one.csv', [['dsb', dsb]]), '--overwrite'));
    expect(replaced.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['batch.csv', 'dsb', 'run.json']);
    expect(hidden(out)).toEqual([]);
  });

  it('stopped with everything staged (SIGTERM): exit 143, the earlier batch as it was, no staging left', async () => {
    const before = snapshot(out);
    const args = batch(plate('again.csv', [['ex3', ch1]]), '--overwrite');
    const child = spawn(process.execPath, cliCommand(args), {
      cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '', [HOLD_BEFORE_COMMIT_ENV]: '1' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(await stagedManifest(out)).toBe(true);
    child.kill('SIGTERM');
    expect(await exit).toBe(143);
    expect(stderr).toContain(`interrupted (SIGTERM); ${out} is as it was`);
    expect(snapshot(out)).toEqual(before);
    expect(hidden(out)).toEqual([]);
  });
});
