/**
 * Typed segmentation configs, one per workflow, as produced by `loadConfig`. Field names are camelCase; each doc
 * comment names the scPortrait YAML key it comes from. Every default is already applied: consumers never look at
 * the raw YAML.
 */

/** The workflows we implement (scPortrait class names). */
export type WorkflowName =
  | 'WGASegmentation'
  | 'DAPISegmentation'
  | 'CytosolSegmentationCellpose'
  | 'DAPISegmentationCellpose'
  | 'CytosolOnlySegmentationCellpose'
  | 'NuclearExpansionSegmentationCellpose'
  | 'CytosolSegmentationDownsamplingCellpose'
  | 'CytosolOnlySegmentationDownsamplingCellpose';

/** How the workflow is driven: in memory, tiled into overlapping shards, or over several processes. */
export type SegmentationClass = 'Segmentation' | 'ShardedSegmentation' | 'MultithreadedSegmentation';

/** A workflow name as written in scPortrait docs/configs: plain, or prefixed by its segmentation class. */
export type WorkflowAlias = WorkflowName | `Sharded${WorkflowName}` | `Multithreaded${WorkflowName}`;

/** The workflow an alias refers to (`ShardedWGASegmentation` → `WGASegmentation`). */
export type BaseWorkflow<W extends WorkflowAlias> = W extends `Sharded${infer B extends WorkflowName}`
  ? B
  : W extends `Multithreaded${infer B extends WorkflowName}`
    ? B
    : W;

export type MaskName = 'nucleus' | 'cytosol';

/** Percentile normalisation bounds (quantiles in [0, 1], lower < upper). */
export interface QuantileRange {
  lower: number;
  upper: number;
}

/**
 * Size filter of one mask (only when `filter_masks_size: true`; `null` otherwise).
 * - `thresholds`: `min_size` and `max_size` of the mask section; ids with area < min or > max are removed.
 * - `automatic`: neither key given → scPortrait estimates thresholds from a log-normal fit of the areas with
 *   `confidence_interval` (default 0.95). See SPEC §5.
 */
export type SizeFilter =
  | { kind: 'thresholds'; min: number; max: number }
  | { kind: 'automatic'; confidenceInterval: number };

/** Channels feeding one mask. Channel ids index the input image (0-based). */
export interface MaskChannels {
  /**
   * With `maxProjection` the element-wise maximum over these channels (`combine_<mask>_channels`, ≥ 2 entries) is
   * the mask's input; otherwise the channels are used as they are: exactly one for every mask, except
   * CytosolOnlySegmentationCellpose's cytosol, see `CytosolOnlyCellposeConfig.channels`.
   */
  channels: number[];
  maxProjection: boolean;
  /** The key the selection came from, or 'default'. */
  source:
    | 'combine_nucleus_channels'
    | 'combine_cytosol_channels'
    | 'segmentation_channel_nuclei'
    | 'segmentation_channel_cytosol'
    | 'default';
}

/** Sharding / parallelism keys (`ShardedSegmentation` requires the first three). `null` = not given. */
export interface ShardingConfig {
  /** `shard_size`: maximum number of pixels per shard. */
  shardSize: number | null;
  /** `overlap_px`: overlap added on each side of a shard, in pixels. */
  overlapPx: number | null;
  /** `threads`: shards processed at the same time (per GPU for Cellpose). */
  threads: number | null;
  /** `nGPUs`: number of GPUs to use, or 'max' for all found. */
  nGPUs: number | 'max' | null;
}

/** Keys every workflow shares. */
export interface CommonConfig {
  /** The workflow, with the segmentation class its alias named (`ShardedWGASegmentation` → ShardedSegmentation). */
  workflow: WorkflowName;
  segmentationClass: SegmentationClass;
  /** Section of a project config the values were read from; `null` for a file holding one workflow's keys. */
  section: string | null;
  /** `cache`: directory for out-of-memory intermediates, as written (default: the current working directory). */
  cache: string;
  /** Whether `cache` was written in the config (a sharded run then keeps its cache there, else in the output directory). */
  cacheGiven: boolean;
  /** `chunk_size`: chunk size of chunked storage (default 50). */
  chunkSize: number;
  /** `input_channels` (legacy, informational only; `null` if absent). */
  inputChannels: number | null;
  /**
   * `filter_status` (default true): false marks the output as not yet nucleus/cytosol-matched (scPortrait then
   * writes a marker file asking for a separate matching step before extraction).
   */
  filterStatus: boolean;
  sharding: ShardingConfig;
  /** `filter_masks_size` (default false): size-filter the masks (see each mask's `sizeFilter`). */
  filterMasksSize: boolean;
  /**
   * `match_masks`: true by default for two-mask workflows, always false for one-mask workflows.
   * The classical WGA workflow parses it but never applies matching (SPEC §1).
   */
  matchMasks: boolean;
  /**
   * `filtering_threshold_mask_matching` (default 0.95). scPortrait quirk kept: the configured value is only used
   * when `match_masks` is also written in the config; without it, 0.95 applies (a warning says so).
   */
  filteringThresholdMaskMatching: number;
}

/** Keys shared by the classical (thresholding) workflows. */
export interface ClassicalCommonConfig extends CommonConfig {
  /** Top-level `lower_/upper_quantile_normalization`: per-channel normalisation of the input stack. */
  normalization: QuantileRange | null;
}

/** `nucleus_segmentation.threshold` + `median_block` given: local median threshold on a subsampled image. */
export interface LocalThreshold {
  kind: 'local';
  /** `threshold`: offset above the local median. */
  threshold: number;
  /** `median_block`: odd side of the square median window, in subsampled pixels. */
  medianBlock: number;
  /** `median_step`: subsampling step. */
  medianStep: number;
}

/** Nucleus parameters of WGA/DAPI (SPEC §3). */
export interface ClassicalNucleusConfig {
  /** `lower_/upper_quantile_normalization` of the section. */
  normalization: QuantileRange | null;
  /** Local threshold iff both `threshold` and `median_block` are given, else global Otsu. */
  thresholding: LocalThreshold | { kind: 'otsu' };
  /** `speckle_kernel` (≥ 1): erosion disk radius; dilation uses speckle_kernel − 1. */
  speckleKernel: number;
  /** `peak_footprint`: disk radius of the peak search. */
  peakFootprint: number;
  /** `min_distance`: minimum Chebyshev distance between seeds, also the excluded border width. */
  minDistance: number;
  /** `dilation`: disk radius by which the foreground is grown before the watershed. */
  dilation: number;
  /** `contact_filter` in [0, 1], or null. */
  contactFilter: number | null;
  sizeFilter: SizeFilter | null;
}

/** Cytosol parameters of WGA (SPEC §4). */
export interface WgaCytosolConfig {
  normalization: QuantileRange | null;
  /** `threshold` in [0, 1]; null → global Otsu. */
  threshold: number | null;
  /** `erosion`: disk radius by which the background is grown (cells shrink). */
  erosion: number;
  /** `dilation`: disk radius by which the background is then eroded (cells grow). */
  dilation: number;
  /** `min_clip` < `max_clip`: potential-map clipping range. */
  minClip: number;
  maxClip: number;
  contactFilter: number | null;
  sizeFilter: SizeFilter | null;
}

export interface WgaConfig extends ClassicalCommonConfig {
  workflow: 'WGASegmentation';
  /** `median_filter_size`: disk radius of the input median filter (required: the potential map reads it). */
  medianFilterSize: number;
  channels: { nucleus: MaskChannels; cytosol: MaskChannels; load: number[] };
  nucleus: ClassicalNucleusConfig;
  cytosol: WgaCytosolConfig;
}

export interface DapiConfig extends ClassicalCommonConfig {
  workflow: 'DAPISegmentation';
  /** `median_filter_size`, or null for no median filtering. */
  medianFilterSize: number | null;
  channels: { nucleus: MaskChannels; load: number[] };
  nucleus: ClassicalNucleusConfig;
}

/** `model` (built-in name) or `model_path` (custom model file); `model` wins when both are given, as upstream. */
export type CellposeModelRef = { kind: 'pretrained'; name: string } | { kind: 'custom'; path: string };

/** One Cellpose mask section (wrappers of `CellposeModel.eval` arguments). */
export interface CellposeMaskConfig {
  model: CellposeModelRef;
  /** `normalize` (default true). */
  normalize: boolean;
  /** `diameter` in pixels (default null = estimated / model default). */
  diameter: number | null;
  /** `resample` (default true). */
  resample: boolean;
  /** `rescale` (default null). */
  rescale: number | null;
  /** `flow_threshold` (default 0.4; 0 disables the flow-error check). */
  flowThreshold: number;
  /** `cellprob_threshold` (default 0.0). */
  cellprobThreshold: number;
  /**
   * From this section's `min_size`/`max_size`/`confidence_interval`. Upstream quirks for the consumer to decide on:
   * CytosolSegmentationCellpose filters the cytosol mask with the NUCLEUS thresholds, and
   * CytosolOnlySegmentationCellpose crashes when filtering is on (it looks for nucleus thresholds).
   */
  sizeFilter: SizeFilter | null;
  /** `models_dir` (ours): where built-in model names are looked up (`<name>.onnx`); null = SCSEG_MODELS. */
  modelsDir: string | null;
  /**
   * `fix_label_gap_quirk` (ours, default false = Cellpose's behaviour): after the flow-error step Cellpose's
   * small-mask removal can remove the wrong masks (its labels have gaps); true removes exactly the small ones.
   */
  fixLabelGapQuirk: boolean;
}

export interface CytosolCellposeConfig extends CommonConfig {
  workflow: 'CytosolSegmentationCellpose';
  channels: { nucleus: MaskChannels; cytosol: MaskChannels; load: number[] };
  nucleus: CellposeMaskConfig;
  cytosol: CellposeMaskConfig;
}

export interface DapiCellposeConfig extends CommonConfig {
  workflow: 'DAPISegmentationCellpose';
  channels: { nucleus: MaskChannels; load: number[] };
  nucleus: CellposeMaskConfig;
}

export interface CytosolOnlyCellposeConfig extends CommonConfig {
  workflow: 'CytosolOnlySegmentationCellpose';
  /**
   * `cytosol.channels` is the stack handed to Cellpose, in scPortrait's order: `segmentation_channel_cytosol`
   * (default [0, 1]) followed by `segmentation_channel_nuclei` if given (null/None = none), deduplicated, 1 or 2
   * channels. One channel → Cellpose `channels=[1,0]` (grayscale); two → `channels=[2,1]`, i.e. the SECOND stack
   * channel is segmented and the FIRST is the nucleus cue (with the default [0, 1]: cytosol = 1, nucleus = 0).
   */
  channels: { cytosol: MaskChannels; load: number[] };
  cytosol: CellposeMaskConfig;
}

/**
 * NuclearExpansionSegmentationCellpose: DAPISegmentationCellpose's nuclei, each grown into the disk-dilated
 * foreground by fast marching + watershed from its centre.
 */
export interface NuclearExpansionCellposeConfig extends Omit<DapiCellposeConfig, 'workflow'> {
  workflow: 'NuclearExpansionSegmentationCellpose';
  /** Top-level `kernel_size` (default 20): radius of the disk the nucleus foreground is dilated by. */
  kernelSize: number;
}

/** Top-level keys of the `…DownsamplingCellpose` workflows. */
export interface DownsamplingConfig {
  /** `downsampling_factor` (required): the image is zero-padded to a multiple of it and binned factor × factor. */
  factor: number;
  /**
   * `smoothing_kernel_size` (default: the factor): the upscaled masks are eroded by disk(size) and dilated by
   * disk(size + 1); smaller sizes are tried when that loses a label.
   */
  smoothingKernelSize: number;
}

export interface CytosolDownsamplingCellposeConfig extends Omit<CytosolCellposeConfig, 'workflow'> {
  workflow: 'CytosolSegmentationDownsamplingCellpose';
  downsampling: DownsamplingConfig;
}

export interface CytosolOnlyDownsamplingCellposeConfig extends Omit<CytosolOnlyCellposeConfig, 'workflow'> {
  workflow: 'CytosolOnlySegmentationDownsamplingCellpose';
  downsampling: DownsamplingConfig;
}

export interface WorkflowConfigs {
  WGASegmentation: WgaConfig;
  DAPISegmentation: DapiConfig;
  CytosolSegmentationCellpose: CytosolCellposeConfig;
  DAPISegmentationCellpose: DapiCellposeConfig;
  CytosolOnlySegmentationCellpose: CytosolOnlyCellposeConfig;
  NuclearExpansionSegmentationCellpose: NuclearExpansionCellposeConfig;
  CytosolSegmentationDownsamplingCellpose: CytosolDownsamplingCellposeConfig;
  CytosolOnlySegmentationDownsamplingCellpose: CytosolOnlyDownsamplingCellposeConfig;
}

/** The typed config `loadConfig(…, workflow)` returns for a workflow name or alias. */
export type ConfigFor<W extends WorkflowAlias> = WorkflowConfigs[BaseWorkflow<W>];

export type SegmentationConfig = WorkflowConfigs[WorkflowName];

/** One configuration problem: the key path (e.g. `WGASegmentation.nucleus_segmentation.threshold`) and what is wrong. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Where a config comes from: a YAML file, YAML text, or an already parsed object. */
export type ConfigSource = { path: string } | { text: string } | { object: unknown };
