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

// Kernel API fuzzer (test/fuzz/kernel-api.test.ts): arguments that escaped validation as TypeErrors or reached the
// WASM binding as an InternalError.
describe.each(testBackends)('kernel API fuzz regressions [%s]', (name) => {
  const k = kernels(name);
  const img = { data: Uint16Array.of(1, 2, 3, 4, 5, 6), width: 3, height: 2 };
  const mask = { data: Uint8Array.of(1, 0, 0, 0, 0, 0), width: 3, height: 2 };
  const speed = { data: new Float64Array(6).fill(1), width: 3, height: 2 };
  const markers = { data: Uint32Array.of(1, 0, 0, 0, 0, 2), width: 3, height: 2 };

  it.each([
    ['quantiles, q a string', () => k.quantiles(img, '0.5' as never), /q must be an array/],
    ['quantiles, q null', () => k.quantiles(img, null as never), /q must be an array/],
    ['quantiles, q an object', () => k.quantiles(img, {} as never), /q must be an array/],
    ['normalizeRange, a Symbol bound', () => k.normalizeRange(img, Symbol('l') as never, 1), /finite numbers, got Symbol\(l\)/],
    ['wgaSpeedMap, quantiles null', () => k.wgaSpeedMap(img, mask, null as never, { min: 0, max: 1 }), /\[q02, q98\]/],
    ['wgaSpeedMap, clip null', () => k.wgaSpeedMap(img, mask, [0, 1], null as never), /clip must be \{ min, max \}/],
    ['wgaSpeedMap, a Symbol clip bound', () => k.wgaSpeedMap(img, mask, [0, 1], { min: Symbol('m') as never, max: 1 }), /min < max/],
    ['travelTimeWatershed, options null', () => k.travelTimeWatershed(mask, mask, speed, markers, null as never), /options must be an object/],
    ['distanceWatershed, options null', () => k.distanceWatershed(mask, mask, markers, null as never), /options must be an object/],
    ['travelTime, options null', () => k.travelTime(mask, mask, speed, null as never), /options must be an object/],
  ])('%s is an InputError', (_n, call, message) => expectInputError(call, 'ERR_SCSEG_ARGUMENT', message));

  it('quantiles of no q is an empty array (WASM threw InternalError "Unknown ArrayBuffer address")', () => {
    const q = k.quantiles(img, []);
    expect(q).toBeInstanceOf(Float64Array);
    expect(q.length).toBe(0);
    expect(Array.from(k.quantiles(img, Float64Array.of(0, 1) as never))).toEqual([1, 6]);
  });
});

// threshold fuzzer: localMedianThreshold computed ceil(H / step) as (H + step − 1) / step, a signed overflow (UB)
// for a step near INT64_MAX. JavaScript cannot pass such a step (the facade allows < 2^31, the binding < 2^53), so
// the reproducer lives in the fuzz corpus (test/fuzz/corpus/threshold/regression-local-threshold-step-int64-max);
// here the largest step the binding takes gives the one-sample map that any step ≥ the image's sides gives.
describe.each(testBackends)('localMedianThreshold with a huge step [%s]', (name) => {
  it('step 2^53 − 1 equals step = the longer side', () => {
    const raw = kernels(name).backend.bindings;
    const input = Float32Array.from({ length: 35 }, (_, i) => (i * 7) % 11);
    const huge = new Float32Array(35);
    const side = new Float32Array(35);
    raw.localMedianThreshold(input, 7, 5, 3, 2 ** 53 - 1, 0.5, huge, 1);
    raw.localMedianThreshold(input, 7, 5, 3, 7, 0.5, side, 1);
    expect(Array.from(huge)).toEqual(Array.from(side));
    expect(new Set(huge).size).toBe(1);
  });
});
