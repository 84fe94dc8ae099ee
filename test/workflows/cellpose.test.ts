/**
 * The Cellpose workflows as scPortrait runs them, through the API (Segmentation, off the calling thread as users
 * get it) with the stand-in ONNX model of test/fixtures/cellpose-onnx: each mask is Cellpose's own eval masks
 * (the fixtures, made by Cellpose 3.1.1.3 with the same model) minus the labels touching the image's edges, and
 * the two-mask workflow matches nucleus and cytosol ids as MatchNucleusCytosolIds does. Also the model lookup
 * (built-in name in a models folder → the size model estimates the diameter; model_path → CellposeModel's rules)
 * and what a bad model, bad channels or a bad image do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Image2D } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';
import { Segmentation } from '../../lib/segmentation/segmentation.js';
import type { LabelImage } from '../../lib/workflows/types.js';
import { firstBitDifference, fixturesDir } from '../helpers/fixtures.js';

const dir = path.join(fixturesDir, 'cellpose-onnx');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const standIn = path.join(dir, 'stand_in.onnx');
const k = kernels();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-cellpose-wf-'));
const models = path.join(tmp, 'models');
fs.mkdirSync(models);
fs.copyFileSync(standIn, path.join(models, 'nuclei.onnx'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function readU16(file: string): Uint16Array {
  const raw = gunzipSync(fs.readFileSync(path.join(dir, file)));
  return new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}
function planes(input: string): Image2D[] {
  const ref = manifest.inputs[input];
  const data = readU16(ref.file);
  const [h, w] = ref.shape.slice(-2);
  const n = ref.shape.length === 3 ? ref.shape[0] : 1;
  return Array.from({ length: n }, (_, c) => ({ data: data.slice(c * h * w, (c + 1) * h * w), width: w, height: h }));
}
/** A case's Cellpose masks without the labels touching the image's edges (scPortrait's remove_edge_labels). */
function cellposeMasks(name: string): LabelImage {
  const c = manifest.cases.find((x: { name: string }) => x.name === name);
  const [height, width] = c.masks.shape;
  return k.removeEdgeLabels({ data: Uint32Array.from(readU16(c.masks.file)), width, height });
}
const idsOf = (a: Uint32Array) => [...new Set(a)].filter((v) => v !== 0).sort((x, y) => x - y);

describe(`Cellpose workflows with the stand-in model (${k.backendName})`, () => {
  it('DAPISegmentationCellpose, model_path (CellposeModel): Cellpose\'s masks without edge labels; one mask, classes', async () => {
    const seg = await Segmentation.create({
      config: { object: { DAPISegmentationCellpose: { nucleus_segmentation: { model_path: standIn } } } },
      workflow: 'DAPISegmentationCellpose',
    });
    const r = await seg.run({ input: planes('bbbc039_A02') });
    const expected = cellposeMasks('a02_default');
    expect(firstBitDifference(r.nucleus.data, expected.data)).toBe(-1);
    expect(r.maskNames).toEqual(['nucleus']);
    expect(r.cytosol).toBe(r.nucleus);
    expect(Array.from(r.classes)).toEqual(idsOf(expected.data));
    expect(r.classes.length).toBeGreaterThan(20);
    expect(r.classes.length).toBeLessThan(33); // some of Cellpose's 33 touched the edges
  });

  it('a built-in name is <name>.onnx in models_dir; its size model estimates the diameter (models.Cellpose)', async () => {
    const seg = await Segmentation.create({
      config: { object: { DAPISegmentationCellpose: { nucleus_segmentation: { model: 'nuclei', models_dir: models } } } },
      workflow: 'DAPISegmentationCellpose',
    });
    const r = await seg.run({ input: planes('bbbc039_A02') });
    expect(firstBitDifference(r.nucleus.data, cellposeMasks('a02_size_model').data)).toBe(-1);
  });

  it('CytosolSegmentationCellpose: nucleus [1, 0], cytosol [2, 1] on [nucleus, cytosol], then ids matched', async () => {
    const seg = await Segmentation.create({
      config: {
        object: {
          CytosolSegmentationCellpose: {
            nucleus_segmentation: { model_path: standIn },
            cytosol_segmentation: { model_path: standIn, diameter: 40 },
          },
        },
      },
      workflow: 'CytosolSegmentationCellpose',
    });
    const r = await seg.run({ input: planes('example3') });
    const matched = k.matchNucleusCytosol(cellposeMasks('example3_nucleus'), cellposeMasks('example3_cyto'), 0.95);
    expect(firstBitDifference(r.nucleus.data, matched.nucleus.data)).toBe(-1);
    expect(firstBitDifference(r.cytosol.data, matched.cytosol.data)).toBe(-1);
    expect(r.maskNames).toEqual(['nucleus', 'cytosol']);
    expect(idsOf(r.cytosol.data)).toEqual(idsOf(r.nucleus.data));
    expect(Array.from(r.classes)).toEqual(idsOf(r.nucleus.data));
    expect(r.classes.length).toBeGreaterThan(3);

    const unmatched = await (
      await Segmentation.create({
        config: {
          object: {
            CytosolSegmentationCellpose: {
              match_masks: false,
              nucleus_segmentation: { model_path: standIn },
              cytosol_segmentation: { model_path: standIn, diameter: 40 },
            },
          },
        },
        workflow: 'CytosolSegmentationCellpose',
      })
    ).run({ input: planes('example3') });
    expect(firstBitDifference(unmatched.cytosol.data, cellposeMasks('example3_cyto').data)).toBe(-1);
  });

  it('CytosolOnlySegmentationCellpose: two selected channels → [2, 1] (the second segmented, the first as cue)', async () => {
    const seg = await Segmentation.create({
      config: { object: { CytosolOnlySegmentationCellpose: { cytosol_segmentation: { model_path: standIn, diameter: 40 } } } },
      workflow: 'CytosolOnlySegmentationCellpose',
    });
    const r = await seg.run({ input: planes('example3') });
    expect(firstBitDifference(r.cytosol.data, cellposeMasks('example3_cyto').data)).toBe(-1);
    expect(r.maskNames).toEqual(['cytosol']);
  });

  it('size filtering on: exactly the masks outside [min_size, max_size] go', async () => {
    const unfiltered = cellposeMasks('a02_default');
    const all = k.labelAreas(unfiltered);
    const sorted = Array.from(all.areas).sort((a, b) => a - b);
    const [min, max] = [sorted[Math.floor(sorted.length / 4)], sorted[Math.floor((3 * sorted.length) / 4)]];
    const seg = await Segmentation.create({
      config: {
        object: { DAPISegmentationCellpose: { filter_masks_size: true, nucleus_segmentation: { model_path: standIn, min_size: min, max_size: max } } },
      },
      workflow: 'DAPISegmentationCellpose',
    });
    const r = await seg.run({ input: planes('bbbc039_A02') });
    const kept = Array.from(all.ids).filter((_, i) => all.areas[i] >= min && all.areas[i] <= max);
    expect(idsOf(r.nucleus.data)).toEqual(kept);
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(all.ids.length);
  });

  it('bad models and images are InputErrors that say what to do', async () => {
    const create = (section: Record<string, unknown>) =>
      Segmentation.create({ config: { object: { DAPISegmentationCellpose: { nucleus_segmentation: section } } }, workflow: 'DAPISegmentationCellpose' });
    await expect(create({ model: 'cyto3', models_dir: models })).rejects.toThrow(/cyto3\.onnx not found \(models there: nuclei\).*export-cellpose-onnx\.py/);
    await expect(create({ model: '../nuclei', models_dir: models })).rejects.toThrow(/not a model name/);

    // the contract's names, renamed in place (same length: the protobuf stays valid)
    const renamed = (from: string, to: string) => {
      const bytes = Buffer.from(fs.readFileSync(standIn));
      let at = bytes.indexOf(from);
      expect(at).toBeGreaterThan(0);
      for (; at >= 0; at = bytes.indexOf(from, at + 1)) bytes.write(to, at);
      const file = path.join(tmp, `${to}.onnx`);
      fs.writeFileSync(file, bytes);
      return file;
    };
    const input = planes('bbbc039_A02');
    const run = async (file: string) => (await create({ model_path: file })).run({ input });
    await expect(run(renamed('style', 'stile'))).rejects.toThrow(/does not follow the Cellpose model contract \(outputs are \["output","stile"\]\)/);
    await expect(run(renamed('input', 'inpvt'))).rejects.toThrow(/does not follow the Cellpose model contract \(inputs are \["inpvt"\]\)/);
    const bad = (name: string) => path.join(fixturesDir, 'cellpose-bad-models', `${name}.onnx`);
    await expect(run(bad('wrong_channels'))).rejects.toThrow(/wrong_channels\.onnx does not follow the Cellpose model contract \(input is not \[N, 2, H, W\]\)/);
    await expect(run(bad('wrong_outputs'))).rejects.toThrow(/does not follow the Cellpose model contract \(output is not \[N, 3, H, W\]\)/);
    await expect(run(bad('no_style'))).rejects.toThrow(/does not follow the Cellpose model contract \(outputs are \["output"\]\)/);
    const truncated = path.join(tmp, 'truncated.onnx');
    fs.writeFileSync(truncated, fs.readFileSync(standIn).subarray(0, 5000));
    await expect(run(truncated)).rejects.toThrow(/truncated\.onnx (is not a valid ONNX model|: ONNX Runtime cannot load it)/);

    const nan = input.map((p) => ({ ...p, data: Float32Array.from(p.data) }));
    nan[0].data[1234] = NaN;
    await expect((await create({ model_path: standIn })).run({ input: nan })).rejects.toThrow(/pixel \(x \d+, y \d+\) is NaN/);
  });
});
