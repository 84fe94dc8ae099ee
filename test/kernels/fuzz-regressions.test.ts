/**
 * Regression tests for bugs the kernel fuzzers found (npm run fuzz, native/fuzz/): each case is the fuzzer's
 * reproducer turned into a kernel call, on both backends. The reproducers themselves are in the fuzz corpus
 * (test/fuzz/corpus/<target>/), so every fuzz run replays them under ASan + UBSan too.
 */
import { kernels } from '../../lib/kernels/index.js';
import { testBackends } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

describe.each(testBackends)('fuzz regressions [%s]', (name) => {
  const k = kernels(name);

  // threshold fuzzer: a constant float32 image of 6.77e22 made norm = 512 / 0 and cast NaN to a bin index
  // (UBSan: "-nan is outside the range of representable values of type 'long'", then an out-of-bounds read that
  // natively wrapped around to bin 0); ranges too wide or too narrow for float32 bins did the same with ±inf.
  // numpy.histogram raises IndexError on such images; the kernel now refuses them as a value error.
  it.each([
    ['constant 6.77e22', new Float32Array(33).fill(6.77058e22)],
    ['constant -3e38', new Float32Array(4).fill(-3e38)],
    ['range -3e38..3e38 (overflows float32)', Float32Array.of(-3e38, 0, 1, 3e38)],
    ['range 0..1e-40 (norm = 512 / 1e-40 overflows float32)', Float32Array.of(0, 1e-40, 0, 1e-40)],
  ])('otsuThreshold of %s is an InputError, not a crash', (_n, data) => {
    expectInputError(() => k.otsuThreshold({ data, width: data.length, height: 1 }), 'ERR_SCSEG_VALUE', /cannot bin/);
  });

  it('otsuThreshold still bins a wide but representable float32 range and large constants', () => {
    expect(Number.isFinite(k.otsuThreshold({ data: Float32Array.of(-1e38, 0, 1, 1e38), width: 4, height: 1 }))).toBe(true);
    expect(k.otsuThreshold({ data: new Float32Array(4).fill(2 ** 40), width: 2, height: 2 })).toBe(2 ** 40);  // [v − 0.5, v + 0.5] in float32 bins
  });
});
