/** The docs' example configs and scPortrait's example_3 config load with the expected values. */
import { loadConfig, validateConfig } from '../../lib/config/index.js';
import { configFixture } from './helpers.js';

describe('seed docs: WGASegmentation example', () => {
  const { config, warnings } = loadConfig({ path: configFixture('wga_docs.yml') }, 'WGASegmentation');

  it('reads the workflow section with every value and default', () => {
    expect(config).toEqual({
      workflow: 'WGASegmentation',
      segmentationClass: 'Segmentation',
      section: 'WGASegmentation',
      cache: process.cwd(),
      cacheGiven: false,
      chunkSize: 50,
      inputChannels: null,
      filterStatus: true,
      sharding: { shardSize: null, overlapPx: null, threads: null, nGPUs: null },
      filterMasksSize: true,
      matchMasks: true,
      filteringThresholdMaskMatching: 0.95,
      normalization: { lower: 0.001, upper: 0.999 },
      medianFilterSize: 4,
      channels: {
        nucleus: { channels: [0], maxProjection: false, source: 'default' },
        cytosol: { channels: [1], maxProjection: false, source: 'default' },
        load: [0, 1],
      },
      nucleus: {
        normalization: { lower: 0.01, upper: 0.99 },
        thresholding: { kind: 'local', threshold: 0.2, medianBlock: 41, medianStep: 4 },
        speckleKernel: 9,
        peakFootprint: 7,
        minDistance: 8,
        dilation: 0,
        contactFilter: 0.5,
        sizeFilter: { kind: 'thresholds', min: 200, max: 1000 },
      },
      cytosol: {
        normalization: { lower: 0.01, upper: 0.99 },
        threshold: 0.05,
        erosion: 2,
        dilation: 7,
        minClip: 0,
        maxClip: 0.2,
        contactFilter: null,
        sizeFilter: { kind: 'thresholds', min: 200, max: 6000 },
      },
    });
  });

  it('has nothing to warn about', () => {
    expect(warnings).toEqual([]);
  });
});

describe('seed docs: DAPISegmentation example', () => {
  const { config, warnings } = loadConfig({ path: configFixture('dapi_docs.yml') }, 'DAPISegmentation');

  it('reads the values; filter_masks_size defaults to false so there is no size filter', () => {
    expect(config.workflow).toBe('DAPISegmentation');
    expect(config.inputChannels).toBe(3);
    expect(config.normalization).toEqual({ lower: 0.001, upper: 0.999 });
    expect(config.medianFilterSize).toBe(4);
    expect(config.filterMasksSize).toBe(false);
    expect(config.matchMasks).toBe(false);
    expect(config.channels).toEqual({ nucleus: { channels: [0], maxProjection: false, source: 'default' }, load: [0] });
    expect(config.nucleus).toEqual({
      normalization: { lower: 0.01, upper: 0.99 },
      thresholding: { kind: 'local', threshold: 0.2, medianBlock: 41, medianStep: 4 },
      speckleKernel: 9,
      peakFootprint: 7,
      minDistance: 8,
      dilation: 0,
      contactFilter: 0.5,
      sizeFilter: null,
    });
  });

  it('warns only about the repeated chunk_size', () => {
    expect(warnings).toEqual([
      'DAPISegmentation.chunk_size: duplicate key (lines 5 and 22); the last value is used, as scPortrait (PyYAML) does',
    ]);
  });
});

describe('scPortrait example_3 config (project layout, five sections)', () => {
  const file = { path: configFixture('config_example3.yml') };

  it('WGASegmentation', () => {
    const { config, warnings } = loadConfig(file, 'WGASegmentation');
    expect(config.section).toBe('WGASegmentation');
    expect(config.cache).toBe('.');
    expect(config.inputChannels).toBe(3);
    expect(config.filterMasksSize).toBe(true);
    expect(config.normalization).toEqual({ lower: 0.001, upper: 0.999 });
    expect(config.medianFilterSize).toBe(4);
    expect(config.nucleus.thresholding).toEqual({ kind: 'local', threshold: 0.2, medianBlock: 41, medianStep: 4 });
    expect(config.nucleus.sizeFilter).toEqual({ kind: 'thresholds', min: 200, max: 5000 });
    expect(config.cytosol.threshold).toBe(0.15);
    expect(config.cytosol.sizeFilter).toEqual({ kind: 'thresholds', min: 200, max: 30000 });
    expect(warnings).toEqual([
      'WGASegmentation.chunk_size: duplicate key (lines 9 and 37); the last value is used, as scPortrait (PyYAML) does',
    ]);
  });

  it('DAPISegmentation', () => {
    const { config } = loadConfig(file, 'DAPISegmentation');
    expect(config.filterMasksSize).toBe(false);
    expect(config.nucleus.sizeFilter).toBeNull();
    expect(config.nucleus.thresholding.kind).toBe('local');
  });

  it('CytosolSegmentationCellpose: Cellpose defaults, sharding keys, ignored classical keys', () => {
    const { config, warnings } = loadConfig(file, 'CytosolSegmentationCellpose');
    expect(config.sharding).toEqual({ shardSize: 120000000, overlapPx: 100, threads: 1, nGPUs: 1 });
    expect(config.matchMasks).toBe(true);
    expect(config.filteringThresholdMaskMatching).toBe(0.95);
    const defaults = { normalize: true, diameter: null, resample: true, rescale: null, flowThreshold: 0.4, cellprobThreshold: 0, sizeFilter: null, modelsDir: null, fixLabelGapQuirk: false };
    expect(config.nucleus).toEqual({ model: { kind: 'pretrained', name: 'nuclei' }, ...defaults });
    expect(config.cytosol).toEqual({ model: { kind: 'pretrained', name: 'cyto2' }, ...defaults });
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CytosolSegmentationCellpose\.median_filter_size \(line 72\): ignored: the Cellpose workflows apply no median filter$/),
        expect.stringMatching(/^CytosolSegmentationCellpose\.lower_quantile_normalization \(line 70\): ignored/),
      ]),
    );
  });

  it('DAPISegmentationCellpose', () => {
    const { config } = loadConfig(file, 'DAPISegmentationCellpose');
    expect(config.nucleus.model).toEqual({ kind: 'pretrained', name: 'nuclei' });
    expect(config.channels.load).toEqual([0]);
  });

  it('a workflow without a section is an error naming the sections the file has', () => {
    const result = validateConfig(file, 'CytosolOnlySegmentationCellpose');
    expect(result.config).toBeNull();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0].path).toBe('CytosolOnlySegmentationCellpose');
    expect(result.problems[0].message).toMatch(
      /it has the sections: WGASegmentation, DAPISegmentation, CytosolSegmentationCellpose, DAPISegmentationCellpose, HDF5CellExtraction$/,
    );
  });
});

describe('seed docs: Cellpose examples (Sharded* sections)', () => {
  const file = { path: configFixture('cellpose_docs.yml') };

  it('ShardedCytosolSegmentationCellpose records the segmentation class', () => {
    const { config, warnings } = loadConfig(file, 'ShardedCytosolSegmentationCellpose');
    expect(config.workflow).toBe('CytosolSegmentationCellpose');
    expect(config.segmentationClass).toBe('ShardedSegmentation');
    expect(config.section).toBe('ShardedCytosolSegmentationCellpose');
    expect(config.sharding).toEqual({ shardSize: 2000000, overlapPx: 100, threads: 2, nGPUs: 1 });
    expect(config.matchMasks).toBe(true);
    expect(config.nucleus.model).toEqual({ kind: 'pretrained', name: 'nuclei' });
    expect(warnings).toEqual([]);
  });

  it('ShardedDAPISegmentationCellpose lacks `threads`, which ShardedSegmentation asserts', () => {
    const result = validateConfig(file, 'ShardedDAPISegmentationCellpose');
    expect(result.problems).toEqual([
      {
        path: 'ShardedDAPISegmentationCellpose.threads',
        message: 'missing required key "threads" in section ShardedDAPISegmentationCellpose: required by ShardedSegmentation',
      },
    ]);
  });

  it('…but loads as the in-memory DAPISegmentationCellpose, reading the Sharded section with a warning', () => {
    const { config, warnings } = loadConfig(file, 'DAPISegmentationCellpose');
    expect(config.segmentationClass).toBe('Segmentation');
    expect(config.cache).toBe('/fs/pool/pool-mann-maedler-shared/temp');
    expect(config.sharding).toEqual({ shardSize: 120000000, overlapPx: 100, threads: null, nGPUs: 2 });
    expect(warnings[0]).toBe('ShardedDAPISegmentationCellpose (line 15): no "DAPISegmentationCellpose" section; using "ShardedDAPISegmentationCellpose" for it');
  });

  it('ShardedCytosolOnlySegmentationCellpose: default stack [0, 1]; match_masks is moot for one mask', () => {
    const { config, warnings } = loadConfig(file, 'ShardedCytosolOnlySegmentationCellpose');
    expect(config.channels).toEqual({ cytosol: { channels: [0, 1], maxProjection: false, source: 'default' }, load: [0, 1] });
    expect(config.matchMasks).toBe(false);
    expect(warnings).toEqual([
      'ShardedCytosolOnlySegmentationCellpose.match_masks (line 38): ignored: CytosolOnlySegmentationCellpose produces a single mask, there is nothing to match',
    ]);
  });
});
