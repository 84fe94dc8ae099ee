/** Every class of config error: a ConfigError whose `problems` list each problem with its key path. */
import { loadConfig, validateConfig } from '../../lib/config/index.js';
import type { ConfigProblem, WorkflowAlias } from '../../lib/config/index.js';
import { ConfigError } from '../../lib/errors.js';
import { configError, configFixture } from './helpers.js';

/** A complete WGA section (example_3 values) as YAML lines, each overridable/removable by key. */
const NUCLEUS: Record<string, string> = {
  lower_quantile_normalization: '0.01',
  upper_quantile_normalization: '0.99',
  median_block: '41',
  median_step: '4',
  threshold: '0.2',
  speckle_kernel: '9',
  peak_footprint: '7',
  min_distance: '8',
  dilation: '0',
  min_size: '200',
  max_size: '5000',
  contact_filter: '0.5',
};
const CYTOSOL: Record<string, string> = {
  threshold: '0.15',
  lower_quantile_normalization: '0.01',
  upper_quantile_normalization: '0.99',
  erosion: '2',
  dilation: '7',
  min_clip: '0',
  max_clip: '0.2',
  min_size: '200',
  max_size: '30000',
};
const TOP: Record<string, string> = {
  cache: '"."',
  lower_quantile_normalization: '0.001',
  upper_quantile_normalization: '0.999',
  median_filter_size: '4',
  filter_masks_size: 'True',
};

type Edits = Record<string, string | null>;
const apply = (base: Record<string, string>, edits: Edits = {}) =>
  Object.entries({ ...base, ...edits }).filter((e): e is [string, string] => e[1] !== null);

/** WGASegmentation project-layout YAML with edits (value null removes the key). */
function wgaYaml(top: Edits = {}, nucleus: Edits = {}, cytosol: Edits = {}): string {
  const lines = ['name: "test"', 'input_channels: 3', 'WGASegmentation:'];
  for (const [k, v] of apply(TOP, top)) lines.push(`  ${k}: ${v}`);
  lines.push('  nucleus_segmentation:');
  for (const [k, v] of apply(NUCLEUS, nucleus)) lines.push(`    ${k}: ${v}`);
  lines.push('  cytosol_segmentation:');
  for (const [k, v] of apply(CYTOSOL, cytosol)) lines.push(`    ${k}: ${v}`);
  return `${lines.join('\n')}\n`;
}

const problems = (text: string, workflow: WorkflowAlias = 'WGASegmentation'): ConfigProblem[] => validateConfig({ text }, workflow).problems;
/** Problem messages without the trailing "(line N)". */
const messages = (text: string, workflow: WorkflowAlias = 'WGASegmentation') =>
  problems(text, workflow).map((p) => ({ path: p.path, message: p.message.replace(/ \(line \d+\)$/, '') }));

const W = 'WGASegmentation';
const N = `${W}.nucleus_segmentation`;
const C = `${W}.cytosol_segmentation`;

it('the helper builds a valid config', () => {
  expect(problems(wgaYaml())).toEqual([]);
});

describe('ConfigError', () => {
  it('is thrown by loadConfig with code ERR_SCSEG_CONFIG, one line per problem in the message', () => {
    const err = configError(() => loadConfig({ text: wgaYaml({}, { threshold: '"abc"', speckle_kernel: '0' }) }, W));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('ERR_SCSEG_CONFIG');
    expect(err.problems).toHaveLength(2);
    expect(err.message.split('\n')).toEqual([
      'WGASegmentation.nucleus_segmentation.threshold: must be a number in [0, 1], got "abc" (line 14)',
      'WGASegmentation.nucleus_segmentation.speckle_kernel: must be an integer ≥ 1, got 0 (line 15)',
    ]);
  });

  it('lists EVERY problem of a config at once, across sections', () => {
    const text = wgaYaml(
      { median_filter_size: null, upper_quantile_normalization: null },
      { median_block: '40', dilation: null, contact_filter: '2' },
      { min_clip: '0.3', erosion: '-1' },
    );
    expect(messages(text)).toEqual([
      { path: `${W}.upper_quantile_normalization`, message: `missing required key "upper_quantile_normalization" in section ${W}: lower_quantile_normalization is given; normalisation needs both quantiles` },
      { path: `${W}.median_filter_size`, message: `missing required key "median_filter_size" in section ${W}: the WGA cytosol potential map reads the median-filtered image` },
      { path: `${N}.median_block`, message: 'must be an odd integer ≥ 1, got 40' },
      { path: `${N}.dilation`, message: `missing required key "dilation" in section ${N}: the local threshold (on because threshold and median_block are given) needs it; scPortrait never falls back to its function defaults` },
      { path: `${N}.contact_filter`, message: 'must be a number in [0, 1], got 2' },
      { path: `${C}.max_clip`, message: 'must be greater than min_clip (0.3): the potential map is divided by max_clip − min_clip, got 0.2' },
      { path: `${C}.erosion`, message: 'must be an integer ≥ 0, got -1' },
    ]);
  });
});

describe('YAML syntax errors', () => {
  it('report line and column', () => {
    const err = configError(() => loadConfig({ text: 'WGASegmentation:\n  cache: [1, 2\n  x: : :\n' }, W));
    expect(err.problems[0].path).toBe('');
    expect(err.problems[0].message).toMatch(/^<text>: YAML syntax error at line \d+, column \d+: /);
  });

  it('name the file for path sources', () => {
    const err = configError(() => loadConfig({ path: configFixture('README-does-not-exist.yml') }, W));
    expect(err.problems[0].message).toMatch(/^cannot read config file ".*README-does-not-exist\.yml": ENOENT/);
  });

  it('a list or empty document is an error, not a crash', () => {
    expect(problems('- a\n- b\n')).toEqual([{ path: '', message: 'a config must be a mapping of keys, got a list ["a","b"]' }]);
    expect(problems('')).toEqual([{ path: '', message: 'a config must be a mapping of keys, got an empty document' }]);
  });

  it('a key with nothing after it is described as an empty value, not a blank', () => {
    expect(problems('WGASegmentation:\n')).toEqual([
      { path: W, message: 'must be a mapping holding the WGASegmentation parameters, got an empty value (line 1)' },
    ]);
    expect(problems(wgaYaml().replace(/  cytosol_segmentation:\n/, '  cytosol_segmentation:\n  cytosol_old:\n'))).toEqual([
      { path: `${W}.cytosol_segmentation`, message: expect.stringMatching(/^must be a mapping of parameters, got an empty value \(line \d+\)$/) },
    ]);
  });
});

describe('missing sections and keys name the key and its section', () => {
  it('missing mask section', () => {
    expect(messages('cache: "."\nmedian_filter_size: 4\nnucleus_segmentation:\n  dilation: 0\n  min_distance: 8\n  peak_footprint: 7\n  speckle_kernel: 9\n')).toEqual([
      { path: 'cytosol_segmentation', message: 'missing required key "cytosol_segmentation" in the top level: WGASegmentation segments the cytosol with these parameters' },
    ]);
  });

  it('a mask section that is not a mapping', () => {
    expect(messages(wgaYaml().replace('  cytosol_segmentation:\n', '  cytosol_segmentation: 5\n  cytosol_old:\n'))).toEqual([
      { path: `${W}.cytosol_segmentation`, message: 'must be a mapping of parameters, got 5' },
    ]);
  });

  it('local-threshold branch: median_step, dilation, min_distance, peak_footprint, speckle_kernel all required', () => {
    const text = wgaYaml({}, { median_step: null, dilation: null, min_distance: null, peak_footprint: null, speckle_kernel: null });
    expect(problems(text).map((p) => p.path)).toEqual([
      `${N}.median_step`,
      `${N}.speckle_kernel`,
      `${N}.peak_footprint`,
      `${N}.min_distance`,
      `${N}.dilation`,
    ]);
  });

  it('global-Otsu branch (no median_block): median_step not needed, the other four are', () => {
    const text = wgaYaml({}, { median_block: null, median_step: null, speckle_kernel: null });
    expect(messages(text)).toEqual([
      { path: `${N}.speckle_kernel`, message: `missing required key "speckle_kernel" in section ${N}: the nucleus segmentation needs it` },
    ]);
    const ok = validateConfig({ text: wgaYaml({}, { median_block: null, median_step: null }) }, W);
    expect(ok.config?.nucleus.thresholding).toEqual({ kind: 'otsu' });
    expect(ok.warnings).toEqual([expect.stringMatching(/^WGASegmentation\.nucleus_segmentation\.threshold \(line \d+\): ignored: the local threshold also needs median_block/)]);
  });

  it('WGA cytosol: erosion, dilation, min_clip, max_clip required; threshold optional (Otsu)', () => {
    const text = wgaYaml({}, {}, { erosion: null, dilation: null, min_clip: null, max_clip: null });
    expect(problems(text).map((p) => p.path)).toEqual([`${C}.min_clip`, `${C}.max_clip`, `${C}.erosion`, `${C}.dilation`]);
    expect(validateConfig({ text: wgaYaml({}, {}, { threshold: null }) }, W).config?.cytosol.threshold).toBeNull();
  });

  it('median_filter_size: required for WGA, optional for DAPI', () => {
    expect(problems(wgaYaml({ median_filter_size: null })).map((p) => p.path)).toEqual([`${W}.median_filter_size`]);
    const dapi = validateConfig({ text: wgaYaml({ median_filter_size: null }).replace('WGASegmentation:', 'DAPISegmentation:') }, 'DAPISegmentation');
    expect(dapi.problems).toEqual([]);
    expect(dapi.config?.medianFilterSize).toBeNull();
  });

  it('normalisation pairs: either bound alone is an error naming the other, in every section', () => {
    const text = wgaYaml({ lower_quantile_normalization: null }, { upper_quantile_normalization: null }, { lower_quantile_normalization: null });
    expect(messages(text).map((p) => [p.path, p.message.replace(/: .*/, '')])).toEqual([
      [`${W}.lower_quantile_normalization`, `missing required key "lower_quantile_normalization" in section ${W}`],
      [`${N}.upper_quantile_normalization`, `missing required key "upper_quantile_normalization" in section ${N}`],
      [`${C}.lower_quantile_normalization`, `missing required key "lower_quantile_normalization" in section ${C}`],
    ]);
    const none = validateConfig({ text: wgaYaml({ lower_quantile_normalization: null, upper_quantile_normalization: null }) }, W);
    expect(none.config?.normalization).toBeNull();
  });

  it('size filter: one of min_size/max_size alone is an error when filter_masks_size is true', () => {
    expect(messages(wgaYaml({}, { max_size: null }))).toEqual([
      { path: `${N}.max_size`, message: `missing required key "max_size" in section ${N}: filter_masks_size is true and min_size is given; give both` },
    ]);
    expect(problems(wgaYaml({ filter_masks_size: 'False' }, { max_size: null }))).toEqual([]);
  });

  it('Cellpose: model or model_path required', () => {
    const text = 'nucleus_segmentation:\n  diameter: 30\n';
    expect(messages(text, 'DAPISegmentationCellpose')).toEqual([
      {
        path: 'nucleus_segmentation.model',
        message: 'missing required key "model" in section nucleus_segmentation: a Cellpose section needs a built-in model name ("model") or a custom model file ("model_path")',
      },
    ]);
  });

  it('Sharded*: shard_size, overlap_px, threads required; Multithreaded*: threads', () => {
    expect(problems(wgaYaml(), 'ShardedWGASegmentation').map((p) => p.path)).toEqual([`${W}.shard_size`, `${W}.overlap_px`, `${W}.threads`]);
    expect(problems(wgaYaml(), 'MultithreadedWGASegmentation').map((p) => p.path)).toEqual([`${W}.threads`]);
  });

  it('a project config without the section names the sections it has', () => {
    expect(messages(wgaYaml(), 'DAPISegmentation')).toEqual([
      { path: 'DAPISegmentation', message: 'no "DAPISegmentation" section in the config (also looked for ShardedDAPISegmentation, MultithreadedDAPISegmentation); it has the sections: WGASegmentation' },
    ]);
  });

  it('unknown workflow name, with a suggestion', () => {
    expect(problems(wgaYaml(), 'WGASegmentaton' as WorkflowAlias)[0].message).toMatch(/^unknown workflow "WGASegmentaton" \(did you mean "WGASegmentation"\?\); expected one of /);
  });
});

describe('types and ranges', () => {
  const cases: [string, string, Edits, Edits, Edits, string][] = [
    ['threshold not a number', `${N}.threshold`, {}, { threshold: '"abc"' }, {}, 'must be a number in [0, 1], got "abc"'],
    ['threshold > 1', `${N}.threshold`, {}, { threshold: '1.5' }, {}, 'must be a number in [0, 1], got 1.5'],
    ['cytosol threshold < 0', `${C}.threshold`, {}, {}, { threshold: '-0.1' }, 'must be a number in [0, 1], got -0.1'],
    ['quantile > 1 (percent by mistake)', `${W}.upper_quantile_normalization`, { upper_quantile_normalization: '99.9' }, {}, {}, 'must be a number in [0, 1], got 99.9'],
    ['quantiles inverted', `${N}.upper_quantile_normalization`, {}, { lower_quantile_normalization: '0.9', upper_quantile_normalization: '0.1' }, {}, 'must be greater than lower_quantile_normalization (0.9), got 0.1'],
    ['per-channel quantile list', `${W}.lower_quantile_normalization`, { lower_quantile_normalization: '[0.01, 0.02]' }, {}, {}, "per-channel lists are not supported (scPortrait's normaliser rejects them too); give one quantile in [0, 1], got a list [0.01,0.02]"],
    ['contact_filter > 1', `${N}.contact_filter`, {}, { contact_filter: '1.01' }, {}, 'must be a number in [0, 1], got 1.01'],
    ['even median_block', `${N}.median_block`, {}, { median_block: '40' }, {}, 'must be an odd integer ≥ 1, got 40'],
    ['median_step 0', `${N}.median_step`, {}, { median_step: '0' }, {}, 'must be an integer ≥ 1, got 0'],
    ['speckle_kernel 0', `${N}.speckle_kernel`, {}, { speckle_kernel: '0' }, {}, 'must be an integer ≥ 1, got 0'],
    ['float literal for an int key', `${N}.peak_footprint`, {}, { peak_footprint: '7.0' }, {}, 'must be an integer ≥ 0, got 7.0'],
    ['fractional radius', `${W}.median_filter_size`, { median_filter_size: '2.5' }, {}, {}, 'must be an integer ≥ 0, got 2.5'],
    ['string for int', `${C}.dilation`, {}, {}, { dilation: '"seven"' }, 'must be an integer ≥ 0, got "seven"'],
    ['boolean', `${W}.filter_masks_size`, { filter_masks_size: '"maybe"' }, {}, {}, 'must be true or false, got "maybe"'],
    ['min_size > max_size', `${N}.max_size`, {}, { min_size: '500', max_size: '100' }, {}, 'must be ≥ min_size (500), got 100'],
    ['negative size', `${C}.min_size`, {}, {}, { min_size: '-1' }, 'must be a number ≥ 0, got -1'],
    ['matching threshold outside [0, 1]', `${W}.filtering_threshold_mask_matching`, { filtering_threshold_mask_matching: '95' }, {}, {}, 'must be a number in [0, 1], got 95'],
    ['confidence interval 1', `${N}.confidence_interval`, {}, { confidence_interval: '1.0' }, {}, 'must be a number in (0, 1), got 1.0'],
    ['NaN', `${N}.threshold`, {}, { threshold: '.nan' }, {}, 'must be a number in [0, 1], got .nan'],
    ['null value', `${N}.min_distance`, {}, { min_distance: '~' }, {}, 'must be an integer ≥ 0, got ~'],
    ['cache not a string', `${W}.cache`, { cache: '[a]' }, {}, {}, 'must be a non-empty string, got a list ["a"]'],
    ['shard_size 0', `${W}.shard_size`, { shard_size: '0' }, {}, {}, 'must be an integer ≥ 1, got 0'],
    ['nGPUs string', `${W}.nGPUs`, { nGPUs: '"all"' }, {}, {}, 'must be an integer ≥ 0, got "all"'],
  ];
  it.each(cases)('%s', (_name, path, top, nucleus, cytosol, message) => {
    expect(messages(wgaYaml(top, nucleus, cytosol))).toEqual([{ path, message }]);
  });

  it('messages carry the YAML line of the bad value', () => {
    expect(problems(wgaYaml({}, { threshold: '"abc"' }))[0].message).toBe('must be a number in [0, 1], got "abc" (line 14)');
  });

  it('Cellpose keys', () => {
    const text = [
      'nucleus_segmentation:',
      '  model: 5',
      '  normalize: "yes please"',
      '  diameter: -3',
      '  rescale: 0',
      '  flow_threshold: -0.1',
      '  cellprob_threshold: "high"',
      '  resample: 1',
    ].join('\n');
    expect(messages(text, 'DAPISegmentationCellpose')).toEqual([
      { path: 'nucleus_segmentation.model', message: 'must be a non-empty string, got 5' },
      { path: 'nucleus_segmentation.normalize', message: 'must be true or false, got "yes please"' },
      { path: 'nucleus_segmentation.diameter', message: 'must be a number > 0 (a cell diameter in pixels), got -3; leave it out or write None to have it estimated' },
      { path: 'nucleus_segmentation.resample', message: 'must be true or false, got 1' },
      { path: 'nucleus_segmentation.rescale', message: 'must be a number > 0, got 0' },
      { path: 'nucleus_segmentation.flow_threshold', message: 'must be a number ≥ 0, got -0.1' },
      { path: 'nucleus_segmentation.cellprob_threshold', message: 'must be a finite number, got "high"' },
    ]);
  });

  it('object sources: integral JS numbers count as ints, bigint too; non-integral do not', () => {
    const object = {
      median_filter_size: 4n,
      nucleus_segmentation: { dilation: 0, min_distance: 8.0, peak_footprint: 7, speckle_kernel: 9.5 },
      cytosol_segmentation: { erosion: 2, dilation: 7, min_clip: 0, max_clip: 0.2 },
    };
    expect(validateConfig({ object }, W).problems).toEqual([
      { path: 'nucleus_segmentation.speckle_kernel', message: 'must be an integer ≥ 1, got 9.5' },
    ]);
  });
});
