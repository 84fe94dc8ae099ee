/**
 * `scseg demo`: the main job on the embedded default — scPortrait's example 3 (shipped in data/example3, with its
 * original config) segmented with WGASegmentation into ./scseg-demo/, then where each file went and how to look.
 */
import path from 'node:path';
import type { BackendName } from '../kernels/index.js';
import { packageRoot } from '../paths.js';
import { segment } from './segment.js';

export interface DemoOptions {
  output: string;
  backend?: BackendName | 'auto';
  threads?: number;
  overwrite?: boolean;
  quiet: boolean;
}

export function demoData(): { dir: string; config: string; input: string[] } {
  const dir = path.join(packageRoot(), 'data', 'example3');
  return { dir, config: path.join(dir, 'config_example3.yml'), input: ['Ch1.tif', 'Ch2.tif', 'Ch3.tif'].map((f) => path.join(dir, f)) };
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const data = demoData();
  const output = path.resolve(opts.output);
  await segment({
    config: data.config,
    workflow: 'WGASegmentation',
    input: data.input,
    output,
    backend: opts.backend,
    threads: opts.threads,
    format: 'h5',
    qc: true,
    quiet: opts.quiet,
    overwrite: opts.overwrite,
  }, { command: 'demo', replaceable: (earlier) => earlier?.scseg?.command === 'demo' });
  const rel = (f: string) => path.relative(process.cwd(), path.join(output, f)) || f;
  console.log(
    [
      `Segmented scPortrait's example 3 (${data.dir}) with WGASegmentation and its original config.`,
      '',
      `  ${rel('segmentation.h5')}   dataset "labels", uint64 (2, 400, 400): nucleus mask, then cytosol mask`,
      `  ${rel('classes.csv')}       the kept cell ids (one per line; the same id marks a cell in both masks)`,
      `  ${rel('qc_overlay.png')}    mask outlines over the membrane channel: open it in any image viewer`,
      `  ${rel('run.json')}          the record of this run: version, config, inputs and files with checksums, cell count`,
      '',
      'Look inside the masks:',
      `  python3 -c "import h5py; m = h5py.File('${rel('segmentation.h5')}')['labels']; print(m.shape, m[0].max())"`,
      `  h5ls -r ${rel('segmentation.h5')}          (Debian: hdf5-tools)`,
      '',
      'Your own images: scseg segment --config config.yml --workflow WGASegmentation --input nuclei.tif wga.tif --output results/',
    ].join('\n'),
  );
}
