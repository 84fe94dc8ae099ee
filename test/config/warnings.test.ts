/** Warnings (unknown keys with did-you-mean, ignored keys, tolerated deviations) and layout detection. */
import { loadConfig, validateConfig } from '../../lib/config/index.js';
import { closestKey, levenshtein } from '../../lib/config/suggest.js';

const DAPI_NUCLEUS = { threshold: 0.2, median_block: 41, median_step: 4, speckle_kernel: 9, peak_footprint: 7, min_distance: 8, dilation: 0 };

describe('did-you-mean', () => {
  it('levenshtein distance', () => {
    expect(levenshtein('treshold', 'threshold')).toBe(1);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('same', 'same')).toBe(0);
  });

  it('suggests close keys only, case-insensitively', () => {
    const known = ['threshold', 'median_block', 'median_step', 'nGPUs', 'speckle_kernel'];
    expect(closestKey('treshold', known)).toBe('threshold');
    expect(closestKey('medianblock', known)).toBe('median_block');
    expect(closestKey('ngpus', known)).toBe('nGPUs');
    expect(closestKey('speckel_kernal', known)).toBe('speckle_kernel');
    expect(closestKey('colour', known)).toBeNull();
  });

  it('unknown keys are warnings (not errors) with a suggestion, at every level', () => {
    const text = [
      'DAPISegmentation:',
      '  median_filter_sise: 4',
      '  filter_mask_size: true',
      '  some_note: 1',
      '  nucleus_segmentation:',
      '    treshold: 0.2',
      '    median_block: 41',
      '    median_step: 4',
      '    speckle_kernel: 9',
      '    peak_footprint: 7',
      '    min_distance: 8',
      '    dilation: 0',
    ].join('\n');
    const { config, warnings } = loadConfig({ text }, 'DAPISegmentation');
    expect(warnings).toEqual([
      'DAPISegmentation.median_filter_sise (line 2): unknown key, ignored; did you mean "median_filter_size"?',
      'DAPISegmentation.filter_mask_size (line 3): unknown key, ignored; did you mean "filter_masks_size"?',
      'DAPISegmentation.some_note (line 4): unknown key, ignored',
      'DAPISegmentation.nucleus_segmentation.treshold (line 6): unknown key, ignored; did you mean "threshold"?',
      'DAPISegmentation.nucleus_segmentation.median_block (line 7): ignored: the local threshold also needs threshold, so a global Otsu threshold is used',
      'DAPISegmentation.nucleus_segmentation.median_step (line 8): ignored: only the local threshold (threshold + median_block) uses it; a global Otsu threshold is used',
    ]);
    expect(config.medianFilterSize).toBeNull();
    expect(config.filterMasksSize).toBe(false);
    expect(config.nucleus.thresholding).toEqual({ kind: 'otsu' });
  });

  it('Cellpose sections suggest Cellpose keys', () => {
    const { warnings } = loadConfig({ object: { nucleus_segmentation: { model: 'nuclei', diamter: 17, flow_treshold: 0.5 } } }, 'DAPISegmentationCellpose');
    expect(warnings).toEqual([
      'nucleus_segmentation.diamter: unknown key, ignored; did you mean "diameter"?',
      'nucleus_segmentation.flow_treshold: unknown key, ignored; did you mean "flow_threshold"?',
    ]);
  });
});

describe('ignored keys and tolerated deviations', () => {
  it('sections and keys the workflow does not use', () => {
    const { warnings } = loadConfig(
      { object: { nucleus_segmentation: DAPI_NUCLEUS, cytosol_segmentation: { erosion: 2 }, match_masks: true, segmentation_channel_cytosol: 1 } },
      'DAPISegmentation',
    );
    expect(warnings).toEqual([
      'match_masks: ignored: DAPISegmentation produces a single mask, there is nothing to match',
      'segmentation_channel_cytosol: ignored: DAPISegmentation has no cytosol mask',
      'cytosol_segmentation: ignored: DAPISegmentation has no cytosol mask',
    ]);
  });

  it('quantiles written as ints are accepted with a warning (scPortrait demands floats)', () => {
    const text = 'lower_quantile_normalization: 0\nupper_quantile_normalization: 1.0\nnucleus_segmentation: {dilation: 0, min_distance: 8, peak_footprint: 7, speckle_kernel: 9}\n';
    const { config, warnings } = loadConfig({ text }, 'DAPISegmentation');
    expect(config.normalization).toEqual({ lower: 0, upper: 1 });
    expect(warnings).toEqual(['lower_quantile_normalization (line 1): written as the integer 0; scPortrait requires a float here (write 0.0) — accepted']);
  });

  it('min_size above max_size without filter_masks_size: accepted (unused, as upstream) with a warning', () => {
    const { config, warnings } = loadConfig({ object: { nucleus_segmentation: { ...DAPI_NUCLEUS, min_size: 5000, max_size: 10 } } }, 'DAPISegmentation');
    expect(config.nucleus.sizeFilter).toBeNull();
    expect(warnings).toEqual([
      'nucleus_segmentation.max_size: is below min_size (5000): with filter_masks_size true every mask would be removed (unused now: filter_masks_size is false)',
    ]);
  });

  it('automatic size thresholds when filter_masks_size is true without min/max (as the original code does)', () => {
    const { config, warnings } = loadConfig(
      { object: { filter_masks_size: true, nucleus_segmentation: { ...DAPI_NUCLEUS, confidence_interval: 0.9 } } },
      'DAPISegmentation',
    );
    expect(config.nucleus.sizeFilter).toEqual({ kind: 'automatic', confidenceInterval: 0.9 });
    expect(warnings).toEqual([expect.stringMatching(/^nucleus_segmentation: filter_masks_size is true but min_size\/max_size are not given: size thresholds will be estimated/)]);
    const dflt = loadConfig({ object: { filter_masks_size: true, nucleus_segmentation: DAPI_NUCLEUS } }, 'DAPISegmentation');
    expect(dflt.config.nucleus.sizeFilter).toEqual({ kind: 'automatic', confidenceInterval: 0.95 });
  });

  it('filtering_threshold_mask_matching only counts with an explicit match_masks (upstream quirk, warned)', () => {
    const base = { nucleus_segmentation: { model: 'nuclei' }, cytosol_segmentation: { model: 'cyto2' } };
    const implicit = loadConfig({ object: { ...base, filtering_threshold_mask_matching: 0.8 } }, 'CytosolSegmentationCellpose');
    expect(implicit.config.matchMasks).toBe(true);
    expect(implicit.config.filteringThresholdMaskMatching).toBe(0.95);
    expect(implicit.warnings).toEqual([expect.stringMatching(/^filtering_threshold_mask_matching: ignored because match_masks is not written/)]);
    const explicit = loadConfig({ object: { ...base, match_masks: true, filtering_threshold_mask_matching: 0.8 } }, 'CytosolSegmentationCellpose');
    expect(explicit.config.filteringThresholdMaskMatching).toBe(0.8);
    expect(explicit.warnings).toEqual([]);
    const off = loadConfig({ object: { ...base, match_masks: false } }, 'CytosolSegmentationCellpose');
    expect(off.config.matchMasks).toBe(false);
  });

  it('Cellpose: model wins over model_path; None/null diameter and rescale mean unset; custom model path', () => {
    const text = 'cytosol_segmentation:\n  model: cyto2\n  model_path: /models/x\n  diameter: None\n  rescale: ~\n  normalize: False\n';
    const { config, warnings } = loadConfig({ text }, 'CytosolOnlySegmentationCellpose');
    expect(config.cytosol).toMatchObject({ model: { kind: 'pretrained', name: 'cyto2' }, diameter: null, rescale: null, normalize: false });
    expect(warnings).toEqual(['cytosol_segmentation.model_path (line 3): ignored: model is also given and takes precedence']);
    const custom = loadConfig({ object: { cytosol_segmentation: { model_path: '/models/x', diameter: 25, flow_threshold: 0, cellprob_threshold: -2 } } }, 'CytosolOnlySegmentationCellpose');
    expect(custom.config.cytosol).toMatchObject({ model: { kind: 'custom', path: '/models/x' }, diameter: 25, flowThreshold: 0, cellprobThreshold: -2 });
    expect(custom.config.cytosol).toMatchObject({ modelsDir: null, fixLabelGapQuirk: false });
    const ours = loadConfig({ object: { cytosol_segmentation: { model: 'cyto3', models_dir: '/m', fix_label_gap_quirk: true } } }, 'CytosolOnlySegmentationCellpose');
    expect(ours.config.cytosol).toMatchObject({ modelsDir: '/m', fixLabelGapQuirk: true });
    expect(ours.warnings).toEqual([]);
  });

  it('duplicate keys: the last value wins, as in PyYAML', () => {
    const text = 'nucleus_segmentation: {dilation: 0, min_distance: 8, peak_footprint: 7, speckle_kernel: 9}\nchunk_size: 10\nchunk_size: 20\n';
    const { config, warnings } = loadConfig({ text }, 'DAPISegmentation');
    expect(config.chunkSize).toBe(20);
    expect(warnings).toEqual(['chunk_size: duplicate key (lines 2 and 3); the last value is used, as scPortrait (PyYAML) does']);
  });

  it('numbers PyYAML reads as text (5e-1: no dot / unsigned exponent) are accepted with a warning', () => {
    const text = 'nucleus_segmentation: {dilation: 0, min_distance: 8, peak_footprint: 7, speckle_kernel: 9, contact_filter: 5e-1}\nlower_quantile_normalization: 1.0e-3\nupper_quantile_normalization: 0.999\n';
    const { config, warnings } = loadConfig({ text }, 'DAPISegmentation');
    expect(config.nucleus.contactFilter).toBe(0.5);
    expect(config.normalization).toEqual({ lower: 0.001, upper: 0.999 });
    expect(warnings).toEqual([
      `nucleus_segmentation.contact_filter (line 1): scPortrait's YAML reader (PyYAML) reads 5e-1 as the text "5e-1", not a number, and fails on it; write 5.0e-1 — accepted as 0.5`,
    ]);
  });

  it('YAML 1.1 booleans like PyYAML (yes/on/True)', () => {
    const text = 'filter_masks_size: yes\nmatch_masks: off\nnucleus_segmentation: {model: nuclei}\ncytosol_segmentation: {model: cyto}\n';
    const { config } = loadConfig({ text }, 'CytosolSegmentationCellpose');
    expect(config.filterMasksSize).toBe(true);
    expect(config.matchMasks).toBe(false);
  });
});

describe('layout detection', () => {
  const flat = { nucleus_segmentation: DAPI_NUCLEUS };

  it('flat file: keys at the top level, section null, paths without prefix', () => {
    const { config } = loadConfig({ object: flat }, 'DAPISegmentation');
    expect(config.section).toBeNull();
    expect(validateConfig({ object: { nucleus_segmentation: { ...DAPI_NUCLEUS, dilation: -1 } } }, 'DAPISegmentation').problems[0].path).toBe(
      'nucleus_segmentation.dilation',
    );
  });

  it('project file: project keys beside sections are not warned about; other sections are ignored', () => {
    const { config, warnings } = loadConfig(
      { object: { name: 'p', input_channels: 3, DAPISegmentation: flat, HDF5CellExtraction: { threads: 80 } } },
      'DAPISegmentation',
    );
    expect(config.section).toBe('DAPISegmentation');
    expect(warnings).toEqual([]);
  });

  it('the exact alias section is preferred over the plain one', () => {
    const object = { DAPISegmentation: flat, ShardedDAPISegmentation: { ...flat, shard_size: 100, overlap_px: 10, threads: 2 } };
    expect(loadConfig({ object }, 'ShardedDAPISegmentation').config.section).toBe('ShardedDAPISegmentation');
    expect(loadConfig({ object }, 'DAPISegmentation').config.section).toBe('DAPISegmentation');
  });

  it('a section that is not a mapping is an error', () => {
    expect(validateConfig({ object: { DAPISegmentation: 'x' } }, 'DAPISegmentation').problems).toEqual([
      { path: 'DAPISegmentation', message: 'must be a mapping holding the DAPISegmentation parameters, got "x"' },
    ]);
  });

  it('defaults: cache = cwd, chunk_size 50, sharding keys unset, filter_status true', () => {
    const { config } = loadConfig({ object: flat }, 'DAPISegmentation');
    expect(config).toMatchObject({
      cache: process.cwd(),
      chunkSize: 50,
      filterStatus: true,
      sharding: { shardSize: null, overlapPx: null, threads: null, nGPUs: null },
    });
    expect(loadConfig({ object: { ...flat, nGPUs: 'max' } }, 'DAPISegmentation').config.sharding.nGPUs).toBe('max');
  });
});
