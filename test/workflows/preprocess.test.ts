/** SPEC §9 shortcut: normalise(median(raw)) must equal median(normalise(raw)) bit for bit, as the original computes it. */
import path from 'node:path';
import { openImage } from '../../lib/io/index.js';
import { kernels } from '../../lib/kernels/index.js';
import { preprocess } from '../../lib/workflows/classical.js';
import { GlobalValues } from '../../lib/workflows/globals.js';
import { StepRunner } from '../../lib/workflows/types.js';
import { firstBitDifference, repoRoot } from '../helpers/fixtures.js';

it.each([
  ['data/example3/Ch2.tif', 4, 0.001, 0.999],
  ['data/example3/Ch1.tif', 2, 0.01, 0.99],
  ['test/fixtures/images/dsb_nuclei/dsb_256_image.tif', 4, 0.001, 0.999], // uint8
  ['test/fixtures/images/dsb_nuclei/dsb_512_image.tif', 3, 0.0, 1.0],
])('%s r=%d q=%d..%d', async (file, r, lo, hi) => {
  const src = await openImage(path.join(repoRoot, file));
  const raw = await src.readChannel(0);
  await src.close();
  const k = kernels();
  const run = new StepRunner({ kernels: k });
  const { current } = await preprocess(run, [raw], ['nucleus'], { lower: lo, upper: hi }, r, GlobalValues.computed());
  const reference = k.medianFilter(k.percentileNormalize(raw, lo, hi), r);
  expect(firstBitDifference(current[0].data, reference.data)).toBe(-1);
});
