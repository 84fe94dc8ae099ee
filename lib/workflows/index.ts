/** The workflow registry: what each workflow needs and produces, and how to run it. */
import type { MaskName, SegmentationConfig, WorkflowName } from '../config/types.js';
import { ScsegError } from '../errors.js';
import type { Image2D } from '../image.js';
import type { Kernels } from '../kernels/index.js';
import { runDapiSegmentation } from './dapi.js';
import type { SegmentationResult } from './types.js';
import { runWgaSegmentation } from './wga.js';

export type { SegmentationResult, LabelImage } from './types.js';
export { runWgaSegmentation } from './wga.js';
export { runDapiSegmentation } from './dapi.js';

export interface WorkflowInfo {
  name: WorkflowName;
  description: string;
  /** Channels the workflow consumes after channel selection, in order. */
  inputs: MaskName[];
  /** Masks written to segmentation.h5, in order. */
  outputMasks: MaskName[];
  available: boolean;
  run?: (k: Kernels, channels: Image2D[], config: SegmentationConfig) => SegmentationResult;
}

export const WORKFLOW_INFO: readonly WorkflowInfo[] = [
  {
    name: 'WGASegmentation',
    description: 'nucleus (local/Otsu threshold + watershed) and cytosol (fast marching + watershed on a membrane stain)',
    inputs: ['nucleus', 'cytosol'],
    outputMasks: ['nucleus', 'cytosol'],
    available: true,
    run: (k, ch, cfg) => runWgaSegmentation(k, ch, cfg as Extract<SegmentationConfig, { workflow: 'WGASegmentation' }>),
  },
  {
    name: 'DAPISegmentation',
    description: 'nucleus only (threshold + watershed); the nucleus mask doubles as cytosol mask in memory',
    inputs: ['nucleus'],
    outputMasks: ['nucleus'],
    available: true,
    run: (k, ch, cfg) => runDapiSegmentation(k, ch, cfg as Extract<SegmentationConfig, { workflow: 'DAPISegmentation' }>),
  },
  {
    name: 'CytosolSegmentationCellpose',
    description: 'Cellpose nucleus + cytosol models, nucleus/cytosol ids matched',
    inputs: ['nucleus', 'cytosol'],
    outputMasks: ['nucleus', 'cytosol'],
    available: false,
  },
  {
    name: 'DAPISegmentationCellpose',
    description: 'Cellpose nucleus model only',
    inputs: ['nucleus'],
    outputMasks: ['nucleus'],
    available: false,
  },
  {
    name: 'CytosolOnlySegmentationCellpose',
    description: 'Cellpose cytosol model on cytosol (+ optional nucleus) channels',
    inputs: ['cytosol'],
    outputMasks: ['cytosol'],
    available: false,
  },
];

export function workflowInfo(name: WorkflowName): WorkflowInfo {
  const info = WORKFLOW_INFO.find((w) => w.name === name);
  if (!info) throw new ScsegError('ERR_SCSEG_WORKFLOW', `unknown workflow ${name}`);
  return info;
}
