/** The scseg CLI as a new user meets it: help, listings, config validation and every bad-input exit path. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scseg } from '../helpers/cli.js';
import { fixturesDir, sharedData } from '../helpers/fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cli-'));
const example3 = path.join(sharedData, 'scportrait_example3');
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

  it('unwritable output directory', () => {
    const blocker = path.join(tmp, 'file-not-dir');
    fs.writeFileSync(blocker, '');
    const r = scseg(['segment', '-q', '-c', config3, '-w', 'WGASegmentation', '-i', path.join(example3, 'Ch1.tif'), path.join(example3, 'Ch2.tif'), '-o', path.join(blocker, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/output directory .* is not writable/);
  });
});

export { fixturesDir };
