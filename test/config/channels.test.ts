/** Channel selection: the docs' cases 1–3, defaults, int-or-list, and the workflow-specific rules. */
import { loadConfig, validateConfig } from '../../lib/config/index.js';
import { configError, readFixture } from './helpers.js';

/** A flat WGA config (wga_flat.yml) with extra top-level lines appended. */
const wga = (extra: string) => ({ text: `${readFixture('wga_flat.yml')}${extra}\n` });

describe('docs channel-selection cases (WGASegmentation, flat layout)', () => {
  it('default: nucleus [0], cytosol [1]', () => {
    const { config, warnings } = loadConfig(wga(''), 'WGASegmentation');
    expect(config.section).toBeNull();
    expect(config.channels).toEqual({
      nucleus: { channels: [0], maxProjection: false, source: 'default' },
      cytosol: { channels: [1], maxProjection: false, source: 'default' },
      load: [0, 1],
    });
    expect(warnings).toEqual([]);
  });

  it('case 1: maximum-intensity projections of [0, 2] and [1, 2]', () => {
    const { config, warnings } = loadConfig(wga('combine_nucleus_channels: [0, 2]\ncombine_cytosol_channels: [1, 2]'), 'WGASegmentation');
    expect(config.channels).toEqual({
      nucleus: { channels: [0, 2], maxProjection: true, source: 'combine_nucleus_channels' },
      cytosol: { channels: [1, 2], maxProjection: true, source: 'combine_cytosol_channels' },
      load: [0, 2, 1],
    });
    expect(warnings).toEqual([]);
  });

  it('case 2: channel 2 selected for both masks, as documented (warned: scPortrait code rejects it)', () => {
    const { config, warnings } = loadConfig(wga('segmentation_channel_nuclei: [2]\nsegmentation_channel_cytosol: [2]'), 'WGASegmentation');
    expect(config.channels).toEqual({
      nucleus: { channels: [2], maxProjection: false, source: 'segmentation_channel_nuclei' },
      cytosol: { channels: [2], maxProjection: false, source: 'segmentation_channel_cytosol' },
      load: [2],
    });
    expect(warnings).toEqual([expect.stringMatching(/^nucleus and cytosol both use channel 2: accepted as in scPortrait's documentation \(case 2\)/)]);
  });

  it('case 3: select the nucleus channel, project the cytosol channels', () => {
    const { config, warnings } = loadConfig(wga('segmentation_channel_nuclei: [2]\ncombine_cytosol_channels: [1, 2]'), 'WGASegmentation');
    expect(config.channels).toEqual({
      nucleus: { channels: [2], maxProjection: false, source: 'segmentation_channel_nuclei' },
      cytosol: { channels: [1, 2], maxProjection: true, source: 'combine_cytosol_channels' },
      load: [2, 1],
    });
    expect(warnings).toEqual([]);
  });

  it('combine_* supersedes segmentation_channel_* for the same mask (with a warning)', () => {
    const { config, warnings } = loadConfig(wga('segmentation_channel_cytosol: 3\ncombine_cytosol_channels: [1, 2]'), 'WGASegmentation');
    expect(config.channels.cytosol).toEqual({ channels: [1, 2], maxProjection: true, source: 'combine_cytosol_channels' });
    expect(warnings).toEqual([expect.stringMatching(/^segmentation_channel_cytosol \(line \d+\): superseded by combine_cytosol_channels/)]);
  });

  it('a plain int selects one channel', () => {
    const { config } = loadConfig(wga('segmentation_channel_nuclei: 3\nsegmentation_channel_cytosol: 0'), 'WGASegmentation');
    expect(config.channels.nucleus.channels).toEqual([3]);
    expect(config.channels.cytosol.channels).toEqual([0]);
    expect(config.channels.load).toEqual([3, 0]);
  });

  it('rejects: combine as an int or with one entry, several selected channels, negative or fractional ids', () => {
    const err = configError(() =>
      loadConfig(
        wga('combine_nucleus_channels: 2\ncombine_cytosol_channels: [1]\nsegmentation_channel_nuclei: [0, 2]\nsegmentation_channel_cytosol: [-1]'),
        'WGASegmentation',
      ),
    );
    expect(err.problems.map((p) => p.path)).toEqual(['combine_nucleus_channels', 'combine_cytosol_channels']);
    expect(err.problems[0].message).toMatch(/^must be a list of at least 2 channel ids \(integers ≥ 0\), got 2 \(line \d+\)$/);

    const err2 = configError(() => loadConfig(wga('segmentation_channel_nuclei: [0, 2]\nsegmentation_channel_cytosol: [1.5, -1]'), 'WGASegmentation'));
    expect(err2.problems.map((p) => p.path)).toEqual([
      'segmentation_channel_nuclei',
      'segmentation_channel_cytosol[0]',
      'segmentation_channel_cytosol[1]',
    ]);
    expect(err2.problems[0].message).toMatch(/selects 2 channels but the nucleus mask takes one; to combine channels use combine_nucleus_channels/);
    expect(err2.problems[1].message).toMatch(/^must be a channel id \(integer ≥ 0\), got 1.5/);
  });

  it('warns about channel ids beyond input_channels', () => {
    const { warnings } = loadConfig(wga('input_channels: 2\nsegmentation_channel_nuclei: 2'), 'WGASegmentation');
    expect(warnings).toEqual(['channel(s) 2 selected for segmentation but input_channels is 2']);
  });
});

describe('one-mask workflows', () => {
  const nucleus_segmentation = { threshold: 0.2, median_block: 41, median_step: 4, speckle_kernel: 9, peak_footprint: 7, min_distance: 8, dilation: 0 };

  it('DAPISegmentation ignores cytosol channel keys (warning) and selects only the nucleus', () => {
    const { config, warnings } = loadConfig(
      { object: { nucleus_segmentation, segmentation_channel_nuclei: [1], combine_cytosol_channels: [1, 2] } },
      'DAPISegmentation',
    );
    expect(config.channels).toEqual({ nucleus: { channels: [1], maxProjection: false, source: 'segmentation_channel_nuclei' }, load: [1] });
    expect(warnings).toEqual(['combine_cytosol_channels: ignored: DAPISegmentation has no cytosol mask']);
  });
});

describe('CytosolOnlySegmentationCellpose channel stack', () => {
  const base = { cytosol_segmentation: { model: 'cyto2' } };
  const load = (extra: Record<string, unknown>) => validateConfig({ object: { ...base, ...extra } }, 'CytosolOnlySegmentationCellpose');

  it('default [0, 1] (channel 0 = nucleus cue, channel 1 = cytosol for Cellpose channels=[2,1])', () => {
    expect(load({}).config?.channels.cytosol).toEqual({ channels: [0, 1], maxProjection: false, source: 'default' });
  });

  it('cytosol only, as an int: a single grayscale channel', () => {
    expect(load({ segmentation_channel_cytosol: 3 }).config?.channels).toEqual({
      cytosol: { channels: [3], maxProjection: false, source: 'segmentation_channel_cytosol' },
      load: [3],
    });
  });

  it('cytosol plus nucleus cue; None / null nucleus means no cue', () => {
    expect(load({ segmentation_channel_cytosol: [3], segmentation_channel_nuclei: [2] }).config?.channels.load).toEqual([3, 2]);
    expect(load({ segmentation_channel_cytosol: [3], segmentation_channel_nuclei: 'None' }).config?.channels.load).toEqual([3]);
    expect(load({ segmentation_channel_nuclei: null }).config?.channels.load).toEqual([0, 1]);
  });

  it('a nucleus cue without segmentation_channel_cytosol, too many channels, or combine_* are errors', () => {
    expect(load({ segmentation_channel_nuclei: 2 }).problems).toEqual([
      {
        path: 'segmentation_channel_cytosol',
        message: expect.stringMatching(/^missing required key "segmentation_channel_cytosol" in the top level: required when segmentation_channel_nuclei is set/),
      },
      { path: 'segmentation_channel_nuclei', message: 'CytosolOnlySegmentationCellpose takes 1 or 2 channels (cytosol plus optional nucleus cue), got [0, 1, 2]' },
    ]);
    expect(load({ segmentation_channel_cytosol: [0, 1, 2] }).problems[0].message).toMatch(/takes 1 or 2 channels/);
    expect(load({ combine_cytosol_channels: [0, 1] }).problems[0]).toEqual({
      path: 'combine_cytosol_channels',
      message: expect.stringMatching(/^is not supported by CytosolOnlySegmentationCellpose/),
    });
  });
});
