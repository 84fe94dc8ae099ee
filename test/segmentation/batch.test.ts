/**
 * MultithreadedSegmentation on real fields: a plate of images gives, per image, exactly the files a single
 * Segmentation run writes (same label bytes, same classes.csv) with 1 and 2 workers; bad images fail alone; a 4-D
 * stack (.npy, HDF5, OME-Zarr) gives labels (images, masks, Y, X) equal to single runs; plate CSVs are parsed
 * strictly, with file:line in every error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowAlias } from '../../lib/config/types.js';
import { ConfigError, InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { formatBatchSummary, parseCsv, readBatchCsv } from '../../lib/io/batch-csv.js';
import { isImageStack, openImageStack } from '../../lib/io/stack.js';
import { kernels } from '../../lib/kernels/index.js';
import { MultithreadedSegmentation } from '../../lib/segmentation/batch.js';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { crops, readStackLabelsH5, stackData, writeH5Stack, writeNpy, writeZarrStack } from '../helpers/batch.js';
import { DAPI_BBBC039_CONFIG, exampleData, fixturesDir, imagesDir } from '../helpers/fixtures.js';
import { readLabelsH5 } from '../helpers/labels.js';

const backend = kernels().backendName;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-batch-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const dapiConfig = { text: DAPI_BBBC039_CONFIG };
const wgaConfig = { path: path.join(exampleData, 'config_example3.yml') };
const example3 = ['Ch1.tif', 'Ch2.tif', 'Ch3.tif'].map((f) => path.join(exampleData, f));
const bbbc = [
  'IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif',
  'IXMtest_C07_s5_w12C9F2926-A017-4962-8660-72C9C20C86E4.tif',
].map((f) => path.join(imagesDir, 'bbbc039', f));
const dsb = ['dsb_256_image.tif', 'dsb_512_image.tif'].map((f) => path.join(imagesDir, 'dsb_nuclei', f));

/** The DAPI plate: example 3 (three channel files), two BBBC039 fields, two DSB fields (uint8 and uint16). */
const plate: [string, string[]][] = [
  ['example3', example3],
  ['bbbc039_A02', [bbbc[0]]],
  ['bbbc039_C07', [bbbc[1]]],
  ['dsb_256', [dsb[0]]],
  ['dsb_512', [dsb[1]]],
];

function csv(file: string, rows: string[][]): string {
  fs.writeFileSync(file, rows.map((r) => r.join(',')).join('\r\n') + '\r\n');
  return file;
}

/** Label bytes of segmentation.h5 (uint32 views of the uint64 ids) and classes.csv of one results directory. */
async function results(dir: string): Promise<{ labels: Buffer[]; classes: string }> {
  const { masks } = await readLabelsH5(path.join(dir, 'segmentation.h5'));
  return { labels: masks.map((m) => Buffer.from(m.buffer)), classes: fs.readFileSync(path.join(dir, 'classes.csv'), 'utf8') };
}

async function singleRun(alias: WorkflowAlias, config: object, input: string[] | Image2D[], out?: string) {
  const seg = await Segmentation.create({ config: config as { text: string }, workflow: alias, backend });
  return seg.run({ input: input as string[], output: out, qc: false });
}

describe(`MultithreadedSegmentation: a plate of real fields [${backend}]`, () => {
  const single = new Map<string, { labels: Buffer[]; classes: string }>();
  beforeAll(async () => {
    for (const [name, files] of plate) {
      const out = path.join(tmp, 'single', name);
      await singleRun('DAPISegmentation', dapiConfig, files, out);
      single.set(name, await results(out));
    }
  }, 120_000);

  it.each([1, 2])('%d worker(s): every image gives the single run\'s labels and classes.csv', async (threads) => {
    const list = csv(path.join(tmp, `plate-${threads}.csv`), [['name', 'c0', 'c1', 'c2'], ...plate.map(([n, f]) => [n, ...f])]);
    const out = path.join(tmp, `plate-${threads}`);
    const events: string[] = [];
    const batch = await MultithreadedSegmentation.create({
      config: dapiConfig, workflow: 'DAPISegmentation', backend, threads,
      progress: (e) => events.push(`${e.done}/${e.total} ${e.image.name} ${e.image.status}`),
    });
    const r = await batch.run({ input: { csv: list }, output: out, qc: false });
    expect(r.workers).toBe(threads);
    expect(r.failed).toBe(0);
    expect(r.images.map((i) => i.name)).toEqual(plate.map(([n]) => n));
    expect(events).toHaveLength(plate.length);
    for (const [name] of plate) {
      const got = await results(path.join(out, name));
      const want = single.get(name)!;
      expect(got.classes).toBe(want.classes);
      expect(got.labels.length).toBe(want.labels.length);
      got.labels.forEach((b, m) => expect(Buffer.compare(b, want.labels[m])).toBe(0));
      expect(r.images.find((i) => i.name === name)!.cells).toBe(want.classes.split('\n').length);
    }
    const summary = fs.readFileSync(r.summary, 'utf8').trim().split('\n');
    expect(summary[0]).toBe('name,status,cells,seconds,error');
    expect(summary.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(
      plate.map(([n]) => `${n},ok,${single.get(n)!.classes.split('\n').length}`),
    );
  }, 240_000);
});

describe(`MultithreadedSegmentation: bad images fail alone [${backend}]`, () => {
  // A dying worker is tested through the CLI (test/cli/batch.test.ts): the fault-injection variable must be in the
  // workers' environment, which jest's sandboxed process.env does not reach.
  it('a missing file, a corrupt file and too few channels are reported; the rest finish', async () => {
    const corrupt = path.join(tmp, 'corrupt.tif');
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(64, 7)]));
    const list = csv(path.join(tmp, 'bad.csv'), [
      ['name', 'nucleus', 'wga'],
      ['good_files', example3[0], example3[1]],
      ['missing', 'no-such.tif', example3[1]],
      ['corrupt', corrupt, example3[1]],
      ['one_channel', bbbc[0]],
      ['good_multichannel', writeNpy(path.join(tmp, 'example3.npy'), stackData([await crops(example3, 400, [[0, 0]]).then((c) => c[0])]).data, [3, 400, 400])],
    ]);
    const out = path.join(tmp, 'bad');
    const batch = await MultithreadedSegmentation.create({ config: wgaConfig, workflow: 'WGASegmentation', backend, threads: 2 });
    const r = await batch.run({ input: list, output: out, qc: false });
    expect(r.images.map((i) => `${i.name} ${i.status}`)).toEqual([
      'good_files ok', 'missing failed', 'corrupt failed', 'one_channel failed', 'good_multichannel ok',
    ]);
    expect(r.failed).toBe(3);
    expect(r.failedOnInput).toBe(3);
    const [, missing, bad, one] = r.images;
    expect(missing.error).toBeInstanceOf(InputError);
    expect(missing.error!.message).toMatch(/no-such\.tif: no such file/);
    expect(bad.error).toBeInstanceOf(InputError);
    expect(bad.error!.message).toMatch(/corrupt\.tif/);
    expect(one.error).toBeInstanceOf(InputError);
    expect(one.error!.message).toMatch(/channel 1 .*out of range: the input has 1 channel/);
    // Both good images equal the single run, whichever worker (first or replacement) ran them.
    const want = await results(await singleRun('WGASegmentation', wgaConfig, example3.slice(0, 2), path.join(tmp, 'single-wga')).then((x) => path.dirname(x.files!.segmentation)));
    for (const name of ['good_files', 'good_multichannel']) {
      const got = await results(path.join(out, name));
      expect(got.classes).toBe(want.classes);
      got.labels.forEach((b, m) => expect(Buffer.compare(b, want.labels[m])).toBe(0));
    }
    expect(fs.readdirSync(out).sort()).toEqual(['batch.csv', 'good_files', 'good_multichannel']);
    const rows = parseCsv(fs.readFileSync(path.join(out, 'batch.csv'), 'utf8'), 'batch.csv').map((x) => x.fields);
    expect(rows.map((f) => f.slice(0, 2).join(' '))).toEqual([
      'name status', 'good_files ok', 'missing failed', 'corrupt failed', 'one_channel failed', 'good_multichannel ok',
    ]);
    expect(rows[2][4]).toMatch(/no-such\.tif: no such file/);
    expect(rows[4][4]).toMatch(/out of range/);
    expect(rows[1][4]).toBe('');
  }, 240_000);

  it('creating: Multithreaded* needs `threads` in its config; Sharded* is refused; Segmentation refuses Multithreaded*', async () => {
    await expect(MultithreadedSegmentation.create({ config: wgaConfig, workflow: 'MultithreadedWGASegmentation' })).rejects.toThrow(ConfigError);
    await expect(MultithreadedSegmentation.create({ config: wgaConfig, workflow: 'MultithreadedWGASegmentation' }))
      .rejects.toThrow(/threads.*required by MultithreadedSegmentation/);
    const withThreads = { text: DAPI_BBBC039_CONFIG.replace('DAPISegmentation:', 'MultithreadedDAPISegmentation:\n  threads: 3') };
    const batch = await MultithreadedSegmentation.create({ config: withThreads, workflow: 'MultithreadedDAPISegmentation' });
    expect(batch.config.sharding.threads).toBe(3);
    await expect(Segmentation.create({ config: withThreads, workflow: 'MultithreadedDAPISegmentation' }))
      .rejects.toThrow(/driven by MultithreadedSegmentation .*use MultithreadedSegmentation\.create\(\)/);
    const sharded = { text: DAPI_BBBC039_CONFIG.replace('DAPISegmentation:', 'ShardedDAPISegmentation:\n  threads: 1\n  shard_size: 9000\n  overlap_px: 100') };
    await expect(MultithreadedSegmentation.create({ config: sharded, workflow: 'ShardedDAPISegmentation' })).rejects.toThrow(/ShardedSegmentation/);
    await expect(MultithreadedSegmentation.create({ config: dapiConfig, workflow: 'DAPISegmentation', threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });
});

describe(`MultithreadedSegmentation: a 4-D stack gives labels (images, masks, Y, X) equal to single runs [${backend}]`, () => {
  it('DAPI on crops of four real fields, as .npy and as OME-Zarr (t axis)', async () => {
    // 256² crops of uint16 fields: two BBBC039 fields, the DSB 512² field, example 3's nucleus channel.
    const images = [
      ...(await crops([bbbc[0]], 256, [[100, 50]])),
      ...(await crops([bbbc[1]], 256, [[300, 200]])),
      ...(await crops([dsb[1]], 256, [[128, 64]])),
      ...(await crops([example3[0]], 256, [[72, 100]])),
    ];
    const { data, shape } = stackData(images);
    const want: Uint32Array[][] = [];
    for (const planes of images) want.push((await singleRun('DAPISegmentation', dapiConfig, planes)).masks.map((m) => m.data));
    const npy = writeNpy(path.join(tmp, 'stack.npy'), data, shape);
    const zarr = writeZarrStack(path.join(tmp, 'stack.ome.zarr'), data, shape);
    for (const [input, threads] of [[npy, 2], [{ stack: zarr }, 1]] as const) {
      const stack = await openImageStack(typeof input === 'string' ? input : input.stack);
      expect([stack.imageCount, stack.channelCount, stack.height, stack.width]).toEqual([4, 1, 256, 256]);
      const out = path.join(tmp, `stack-out-${threads}`);
      const batch = await MultithreadedSegmentation.create({ config: dapiConfig, workflow: 'DAPISegmentation', backend, threads });
      const r = await batch.run({ input, output: out });
      expect(r.failed).toBe(0);
      expect(r.segmentation).toBe(path.join(out, 'segmentation.h5'));
      expect(fs.readdirSync(out).sort()).toEqual(['batch.csv', 'segmentation.h5']);
      const got = await readStackLabelsH5(r.segmentation!);
      expect(got.shape).toEqual([4, 1, 256, 256]);
      expect(got.chunks).toEqual([1, 1, 50, 50]);
      got.images.forEach((masks, i) => {
        expect(masks).toHaveLength(1);
        expect(Buffer.compare(Buffer.from(masks[0].buffer), Buffer.from(want[i][0].buffer, want[i][0].byteOffset, want[i][0].byteLength))).toBe(0);
      });
      const rows = fs.readFileSync(r.summary, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 3).join(','));
      expect(rows).toEqual(want.map((m, i) => `image_000${i},ok,${new Set(m[0]).size - 1}`));
    }
  }, 240_000);

  it('WGA on four crops of example 3 as an HDF5 `input_images` dataset (two masks per image)', async () => {
    const images = await crops(example3, 240, [[0, 0], [160, 0], [0, 160], [160, 160]]);
    const { data, shape } = stackData(images);
    const h5 = await writeH5Stack(path.join(tmp, 'stack.h5'), 'input_images', data, shape);
    const out = path.join(tmp, 'stack-wga');
    const batch = await MultithreadedSegmentation.create({ config: wgaConfig, workflow: 'WGASegmentation', backend, threads: 2 });
    const r = await batch.run({ input: { stack: h5 }, output: out });
    expect(r.failed).toBe(0);
    const got = await readStackLabelsH5(r.segmentation!);
    expect(got.shape).toEqual([4, 2, 240, 240]);
    for (let i = 0; i < images.length; i++) {
      const single = await singleRun('WGASegmentation', wgaConfig, images[i]);
      expect(single.classes.length).toBeGreaterThan(3);
      expect(r.images[i].cells).toBe(single.classes.length);
      single.masks.forEach((m, k) => expect(Buffer.compare(Buffer.from(got.images[i][k].buffer), Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))).toBe(0));
    }
  }, 240_000);

  it('a 3-D file is not a stack; a stack whose channels do not fit the config fails before any worker starts', async () => {
    await expect(openImageStack(example3[0])).rejects.toThrow(InputError);
    const io = path.join(fixturesDir, 'io');
    // What the single-image reader reads stays a single image (an OME-Zarr t axis of size 1 included).
    expect(await isImageStack(path.join(io, 'tczyx_u8_v04.ome.zarr'))).toBe(false);
    expect((await openImageStack(path.join(io, 'tczyx_u8_v04.ome.zarr'))).imageCount).toBe(1);
    expect(await isImageStack(path.join(io, 'cyx_u16.npy'))).toBe(false);
    expect(await isImageStack(path.join(io, 'channels_u16.h5'))).toBe(false);
    expect(await isImageStack(path.join(io, 'rank4.h5'))).toBe(true);
    expect(await isImageStack(path.join(tmp, 'no-such.npy'))).toBe(false);
    const one = writeNpy(path.join(tmp, 'one-channel-stack.npy'), new Uint16Array(2 * 64 * 64), [2, 1, 64, 64]);
    const batch = await MultithreadedSegmentation.create({ config: wgaConfig, workflow: 'WGASegmentation', backend });
    await expect(batch.run({ input: one, output: path.join(tmp, 'never') })).rejects.toThrow(/channel 1 .*out of range/);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });
});

describe('plate CSV', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'csv-'));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it('quoted fields (commas, quotes, line breaks), CRLF, BOM, blank lines, relative and absolute paths, trailing empty cells', () => {
    const f = write('ok.csv', '\ufeffname,nucleus,cytosol\r\n"A01, field 1",a.tif,"sub ""dir""/b.tif"\r\n\r\nB02,/abs/c.tif,\r\n  C03 , "multi\nline.tif" ,\r\n');
    expect(readBatchCsv(f)).toEqual([
      { name: 'A01, field 1', files: [path.join(dir, 'a.tif'), path.join(dir, 'sub "dir"/b.tif')], line: 2 },
      { name: 'B02', files: ['/abs/c.tif'], line: 4 },
      { name: 'C03', files: [path.join(dir, 'multi\nline.tif')], line: 5 },
    ]);
    expect(parseCsv('a,b\n"x\ny",z\nlast', 'f').map((r) => r.line)).toEqual([1, 2, 4]);
    // The name column may be anywhere; the other columns keep their order.
    expect(readBatchCsv(write('middle.csv', 'c0,Name,c1\nx.tif,n1,y.tif\n'))[0].files).toEqual([path.join(dir, 'x.tif'), path.join(dir, 'y.tif')]);
  });

  it.each([
    ['no name column', 'file,other\na.tif,b.tif\n', /nocol\.csv:1: the header row \(file, other\) has no "name" column/],
    ['duplicate names (ignoring case)', 'name,f\nA1,a.tif\nb,b.tif\na1,c.tif\n', /nocol\.csv:4: name "a1" is used twice \(also at .*nocol\.csv:2\)/],
    ['a path as a name', 'name,f\nok,a.tif\nx/../../etc,b.tif\n', /nocol\.csv:3: name "x\/\.\.\/\.\.\/etc" holds "\/"/],
    ['".." as a name', 'name,f\n..,a.tif\n', /nocol\.csv:2: name "\.\." starts with "\."/],
    ['an empty name', 'name,f\n,a.tif\n', /nocol\.csv:2: name "" is empty/],
    ['the summary\'s name', 'name,f\nBatch.csv,a.tif\n', /nocol\.csv:2: name "Batch\.csv" is the summary file's name/],
    ['a row without files', 'name,f,g\nx,,\n', /nocol\.csv:2: image "x" lists no file/],
    ['an empty cell before a file', 'name,f,g\nx,,b.tif\n', /nocol\.csv:2: empty cell in column "f" before further files/],
    ['more cells than columns', 'name,f\nx,a.tif,b.tif\n', /nocol\.csv:2: 3 cells, but the header has 2 columns/],
    ['an unterminated quote', 'name,f\nx,a.tif\ny,"b.tif\nz,c.tif\n', /nocol\.csv:3: unterminated quoted field/],
    ['a stray quote', 'name,f\nx,a"b.tif\n', /nocol\.csv:2: a quote inside an unquoted field/],
    ['text after a closing quote', 'name,f\r\nx,"a.tif"b\r\n', /nocol\.csv:2: unexpected "b" after a closing quote/],
    ['only a header', 'name,f\n', /nocol\.csv: lists no image/],
    ['an empty file', '', /nocol\.csv: empty/],
  ])('%s: an InputError naming file:line', (_what, text, message) => {
    const f = write('nocol.csv', text);
    expect(() => readBatchCsv(f)).toThrow(InputError);
    expect(() => readBatchCsv(f)).toThrow(message);
  });

  it('a missing plate file is an InputError naming it', () => {
    expect(() => readBatchCsv(path.join(dir, 'absent.csv'))).toThrow(/absent\.csv: no such file/);
  });

  it('the summary quotes what needs quoting and keeps errors on one line', () => {
    expect(formatBatchSummary([
      { name: 'a, b', status: 'failed', seconds: 1.23456, error: 'x\n  y "z"' },
      { name: 'c', status: 'ok', cells: 7, seconds: 0.5 },
    ])).toBe('name,status,cells,seconds,error\n"a, b",failed,,1.235,"x; y ""z"""\nc,ok,7,0.500,\n');
  });
});
