/**
 * scPortrait's other Cellpose workflows (lib/workflows/cellpose-variants.ts): the steps they add around Cellpose
 * against references made with scikit-image / scikit-fmm / numpy / xarray following upstream's code
 * (scripts/fixtures/make_cellpose_variant_fixtures.py, test/fixtures/cellpose-variants/README.md), label for label:
 * the nuclear expansion on real nucleus labels and the corner cases, the downsampling of real images, the mask
 * upscaling with its smoothing fallback; the whole NuclearExpansionSegmentationCellpose through the API with the
 * stand-in ONNX model (Cellpose's own masks expanded in Python); the downsampling workflows' wiring; their config
 * keys (defaults, bad values, warnings). On the backend under test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import '../../lib/cellpose/node-models.js'; // registers the Node model loader the workflows use
import { validateConfig } from '../../lib/config/index.js';
import type { Image2D } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import { cytosolOnlyCellposeWorkflow } from '../../lib/workflows/cellpose.js';
import {
  cytosolOnlyDownsamplingCellposeWorkflow,
  downsamplePlan,
  downsampleStack,
  expandNuclei,
  upsampleMask,
} from '../../lib/workflows/cellpose-variants.js';
import { workflowFor } from '../../lib/workflows/index.js';
import { dilateLabels, erodeLabels } from '../../lib/workflows/label-morphology.js';
import type { LabelImage } from '../../lib/workflows/types.js';
import { expectInputError } from '../helpers/errors.js';
import { exampleData, fixturesDir, imagesDir, readPlanes, rng } from '../helpers/fixtures.js';

const dir = path.join(fixturesDir, 'cellpose-variants');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const standIn = path.join(fixturesDir, 'cellpose-onnx', 'stand_in.onnx');
const k = kernels();

interface Ref {
  file: string;
  dtype: 'uint16';
  shape: number[];
}
interface ExpansionCase {
  name: string;
  input: string;
  kernelSize: number;
  cells: number;
  expected: Ref;
}
interface DownsamplingCase {
  name: string;
  files: string[];
  window: number[];
  factor: number;
  expected: Ref;
}
interface UpsamplingCase {
  name: string;
  factor: number;
  smoothingKernelSize: number;
  shape: [number, number];
  smoothingUsed: number | null;
  lowRes: Ref;
  expected: Ref;
}
const expansion = manifest.expansion as ExpansionCase[];
const downsampling = manifest.downsampling as DownsamplingCase[];
const upsampling = manifest.upsampling as UpsamplingCase[];
const named = <C extends { name: string }>(cases: C[]): [string, C][] => cases.map((c) => [c.name, c]);

function readU16(ref: Ref): Uint16Array {
  const raw = gunzipSync(fs.readFileSync(path.join(dir, ref.file)));
  const a = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  expect(a.length).toBe(ref.shape.reduce((x, y) => x * y, 1));
  return a;
}
function labelsOf(ref: Ref): LabelImage {
  const [height, width] = ref.shape;
  return { data: Uint32Array.from(readU16(ref)), width, height };
}
/** Pixels whose labels differ. */
function mismatches(a: Uint32Array | Uint16Array, b: Uint32Array | Uint16Array): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
const idsOf = (a: Uint32Array) => [...new Set(a)].filter((v) => v !== 0).sort((x, y) => x - y);

/** A manifest image name ("scportrait_example3/Ch1.tif", "bbbc039/images/<field>.tif") → the committed file. */
function imageFile(rel: string): string {
  const [head, ...rest] = rel.split('/');
  if (head === 'scportrait_example3') return path.join(exampleData, ...rest);
  return path.join(imagesDir, head, ...rest.slice(1));
}
function cropPlane(p: Image2D, [y0, y1, x0, x1]: number[]): Image2D {
  const width = x1 - x0;
  const data = new Uint16Array(width * (y1 - y0));
  for (let y = y0; y < y1; y++) data.set(p.data.subarray(y * p.width + x0, y * p.width + x1), (y - y0) * width);
  return { data, width, height: y1 - y0 };
}

describe(`nuclear expansion vs skfmm + skimage (${k.backendName})`, () => {
  it.each(named(expansion))('%s: label for label', (_n, c) => {
    const nuclei = labelsOf(manifest.inputs[c.input].labels);
    const out = expandNuclei(k, nuclei, c.kernelSize);
    const expected = readU16(c.expected);
    expect(mismatches(out.data, expected)).toBe(0);
    expect(idsOf(out.data).length).toBe(c.cells);
  });

  it('an image without nuclei gives an empty mask (upstream fails in numba_mask_centroid)', () => {
    const out = expandNuclei(k, { data: new Uint32Array(40 * 30), width: 40, height: 30 }, 20);
    expect(out.data.every((v) => v === 0)).toBe(true);
  });
});

describe('downsampling vs np.pad + xarray coarsen mean', () => {
  it.each(named(downsampling))('%s: uint16 equal', async (_n, c) => {
    const planes = (await readPlanes(c.files.map(imageFile))).map((p) => cropPlane(p, c.window));
    const { planes: out, plan } = downsampleStack(planes, c.factor);
    const expected = readU16(c.expected);
    const [count, h, w] = c.expected.shape;
    expect([out.length, out[0].height, out[0].width]).toEqual([count, h, w]);
    expect(plan.paddedHeight).toBe(h * c.factor);
    for (let i = 0; i < count; i++) expect(mismatches(out[i].data, expected.subarray(i * h * w, (i + 1) * h * w))).toBe(0);
  });

  it('an all-zero image stays zero; planes of different sizes are refused', () => {
    const zero = { data: new Uint16Array(35), width: 7, height: 5 };
    expect(downsampleStack([zero], 2).planes[0].data.every((v) => v === 0)).toBe(true);
    const other = { data: new Uint16Array(36), width: 6, height: 6 };
    expectInputError(() => downsampleStack([zero, other], 2), 'ERR_SCSEG_SHAPE', /differ in size/);
    expectInputError(() => downsamplePlan(7, 5, 0), 'ERR_SCSEG_ARGUMENT', /downsampling_factor/);
  });
});

describe(`mask upscaling vs repeat + skimage erosion/dilation (${k.backendName})`, () => {
  it.each(named(upsampling))('%s: label for label', (_n, c) => {
    const low = labelsOf(c.lowRes);
    const [height, width] = c.shape;
    const { labels, smoothing } = upsampleMask(k, low, downsamplePlan(width, height, c.factor), c.smoothingKernelSize);
    expect([labels.height, labels.width]).toEqual(c.shape);
    expect(mismatches(labels.data, readU16(c.expected))).toBe(0);
    expect(smoothing).toBe(c.smoothingUsed);
  });

  it('a mask that does not scale to the padded size is refused', () => {
    const low = { data: new Uint32Array(12), width: 4, height: 3 };
    expectInputError(() => upsampleMask(k, low, downsamplePlan(20, 20, 4), 4), 'ERR_SCSEG_SHAPE', /does not scale/);
  });
});

describe('grey erosion/dilation of labels by a disk vs the definition', () => {
  /** min/max over the in-image pixels with dy² + dx² ≤ r² (what scipy's reflect mode amounts to for a disk). */
  function brute(labels: LabelImage, r: number, min: boolean): Uint32Array {
    const { width, height, data } = labels;
    const out = new Uint32Array(data.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = min ? 0xffffffff : 0;
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (dy * dy + dx * dx > r * r || yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
            v = min ? Math.min(v, data[yy * width + xx]) : Math.max(v, data[yy * width + xx]);
          }
        }
        out[y * width + x] = v;
      }
    }
    return out;
  }
  it.each([0, 1, 2, 3, 5, 9, 40])('radius %d, random blocky labels (radius beyond the image too)', (r) => {
    const rand = rng(r + 7);
    const width = 37;
    const height = 23;
    const block = (i: number) => ((i % width) >> 2) + (Math.floor(i / width) >> 2) * 10;
    const data = Uint32Array.from({ length: width * height }, (_, i) => block(i) * +(rand() < 0.8));
    data[5] = 4_000_000_000; // ids beyond 2³¹
    const labels = { data, width, height };
    expect(mismatches(erodeLabels(labels, r).data, brute(labels, r, true))).toBe(0);
    expect(mismatches(dilateLabels(labels, r).data, brute(labels, r, false))).toBe(0);
  });
});

describe(`the workflows through the API with the stand-in model (${k.backendName})`, () => {
  it('NuclearExpansionSegmentationCellpose: Cellpose\'s nuclei expanded as upstream; written as "nucleus", classes from it', async () => {
    const ref = expansion.find((c) => c.name === 'expand_cellpose_a02_k20')!;
    const onnx = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'cellpose-onnx', 'manifest.json'), 'utf8'));
    const input = onnx.inputs.bbbc039_A02;
    const raw = gunzipSync(fs.readFileSync(path.join(fixturesDir, 'cellpose-onnx', input.file)));
    const data = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const image = { data, width: 320, height: 256 };
    const seg = await Segmentation.create({
      config: { object: { NuclearExpansionSegmentationCellpose: { nucleus_segmentation: { model_path: standIn } } } },
      workflow: 'NuclearExpansionSegmentationCellpose',
    });
    const r = await seg.run({ input: [image] });
    const expected = readU16(ref.expected);
    expect(r.maskNames).toEqual(['nucleus']);
    expect(mismatches(r.masks[0].data, expected)).toBe(0);
    expect(Array.from(r.classes)).toEqual(idsOf(Uint32Array.from(expected)));
    expect(r.classes.length).toBe(ref.cells);
  });

  // one channel: upstream's padding check expects two and exits; we run it as CytosolOnlySegmentationCellpose would
  it('CytosolOnlySegmentationDownsamplingCellpose = downsample, CytosolOnly on it, upsample; classes from the low-resolution mask', async () => {
    const planes = (await readPlanes([path.join(exampleData, 'Ch1.tif')])).map((p) => cropPlane(p, [0, 203, 0, 197]));
    const base = { cytosol_segmentation: { model_path: standIn }, segmentation_channel_cytosol: 0 };
    const object = { ...base, downsampling_factor: 2, smoothing_kernel_size: 1 };
    const cfg = validateConfig({ object }, 'CytosolOnlySegmentationDownsamplingCellpose').config!;
    const ctx = { kernels: k };
    const r = await cytosolOnlyDownsamplingCellposeWorkflow.run(ctx, { cytosol: planes }, cfg);
    const small = downsampleStack(planes, 2);
    const plain = validateConfig({ object: base }, 'CytosolOnlySegmentationCellpose').config!;
    const low = (await cytosolOnlyCellposeWorkflow.run(ctx, { cytosol: small.planes }, plain)).masks[0];
    const up = upsampleMask(k, low, small.plan, 1).labels;
    expect([r.masks[0].width, r.masks[0].height]).toEqual([197, 203]);
    expect(mismatches(r.masks[0].data, up.data)).toBe(0);
    expect(Array.from(r.classes)).toEqual(idsOf(low.data));
    expect(r.classes.length).toBeGreaterThan(5);
  });

  it('Sharded variants are refused with why; Multithreaded ones resolve', () => {
    for (const name of ['NuclearExpansionSegmentationCellpose', 'CytosolSegmentationDownsamplingCellpose']) {
      expectInputError(() => workflowFor(`Sharded${name}`), 'ERR_SCSEG_UNAVAILABLE', /no sharded form/);
      expect(workflowFor(`Multithreaded${name}`).descriptor.name).toBe(name);
    }
  });
});

describe('config of the variants', () => {
  const nucleus = { model: 'nuclei' };
  const load = (workflow: string, object: Record<string, unknown>) =>
    validateConfig({ object: { [workflow]: object } }, workflow as 'NuclearExpansionSegmentationCellpose');
  const problems = (r: { problems: { path: string; message: string }[] }) => r.problems.map((p) => `${p.path}: ${p.message}`);

  it('defaults: kernel_size 20; smoothing_kernel_size = downsampling_factor', () => {
    const ne = load('NuclearExpansionSegmentationCellpose', { nucleus_segmentation: nucleus }).config!;
    expect(ne.kernelSize).toBe(20);
    expect(ne.channels.nucleus.channels).toEqual([0]);
    const ds = validateConfig(
      { object: { downsampling_factor: 4, nucleus_segmentation: nucleus, cytosol_segmentation: nucleus } },
      'CytosolSegmentationDownsamplingCellpose',
    ).config!;
    expect(ds.downsampling).toEqual({ factor: 4, smoothingKernelSize: 4 });
    expect(ds.matchMasks).toBe(true);
    const only = validateConfig(
      { object: { downsampling_factor: 3, smoothing_kernel_size: 0, cytosol_segmentation: nucleus } },
      'CytosolOnlySegmentationDownsamplingCellpose',
    ).config!;
    expect(only.downsampling).toEqual({ factor: 3, smoothingKernelSize: 0 });
    expect(only.channels.cytosol.channels).toEqual([0, 1]);
  });

  it('kernel_size and the downsampling keys are read at the workflow\'s top level, not warned about', () => {
    const r = load('NuclearExpansionSegmentationCellpose', { kernel_size: 7, nucleus_segmentation: nucleus });
    expect(r.config!.kernelSize).toBe(7);
    expect(r.warnings).toEqual([]);
    const other = load('DAPISegmentationCellpose', { kernel_size: 7, nucleus_segmentation: nucleus });
    expect(other.warnings.join('\n')).toMatch(/kernel_size: unknown key/);
  });

  it('a missing downsampling_factor is an error naming the key', () => {
    const r = load('CytosolOnlySegmentationDownsamplingCellpose', { cytosol_segmentation: nucleus });
    expect(r.config).toBeNull();
    const key = 'CytosolOnlySegmentationDownsamplingCellpose.downsampling_factor';
    expect(problems(r)).toContainEqual(expect.stringContaining(`${key}: missing required key "downsampling_factor"`));
  });

  const expansionWf = 'NuclearExpansionSegmentationCellpose';
  const downsamplingWf = 'CytosolOnlySegmentationDownsamplingCellpose';
  it.each([
    [expansionWf, { kernel_size: -1 }, /kernel_size: must be an integer ≥ 0, got -1/],
    [expansionWf, { kernel_size: 2.5 }, /kernel_size: must be an integer ≥ 0/],
    [expansionWf, { kernel_size: 'big' }, /kernel_size: must be an integer ≥ 0/],
    [downsamplingWf, { downsampling_factor: 0 }, /downsampling_factor: must be an integer ≥ 1, got 0/],
    [downsamplingWf, { downsampling_factor: 2.0001 }, /downsampling_factor: must be an integer ≥ 1/],
    [downsamplingWf, { downsampling_factor: 2, smoothing_kernel_size: -2 }, /smoothing_kernel_size: must be an integer ≥ 0/],
  ])('%s %j is refused', (workflow, keys, message) => {
    const mask = workflow === expansionWf ? { nucleus_segmentation: nucleus } : { cytosol_segmentation: nucleus };
    const r = load(workflow, { ...mask, ...keys });
    expect(r.config).toBeNull();
    expect(problems(r).join('\n')).toMatch(message);
  });

  it('smoothing_kernel_size above downsampling_factor is accepted with a warning, as upstream logs one', () => {
    const r = load('CytosolSegmentationDownsamplingCellpose', {
      downsampling_factor: 2,
      smoothing_kernel_size: 5,
      nucleus_segmentation: nucleus,
      cytosol_segmentation: nucleus,
    });
    expect(r.config).not.toBeNull();
    expect(r.warnings.join('\n')).toMatch(/smoothing_kernel_size: larger than downsampling_factor \(2\)/);
  });

  it('CytosolOnlySegmentationDownsamplingCellpose takes CytosolOnly\'s channel rules', () => {
    const r = load('CytosolOnlySegmentationDownsamplingCellpose', {
      downsampling_factor: 2,
      segmentation_channel_cytosol: [0, 1],
      segmentation_channel_nuclei: 2,
      cytosol_segmentation: nucleus,
    });
    expect(problems(r).join('\n')).toMatch(/CytosolOnlySegmentationDownsamplingCellpose takes 1 or 2 channels/);
  });
});
