/** Bad input must surface as a typed InputError with an actionable message — never a crash — on both backends. */
import { InputError } from '../../lib/errors.js';
import { kernels } from '../../lib/kernels/index.js';
import type { Image2D } from '../../lib/image.js';
import { testBackends } from '../helpers/backends.js';
import { expectInputError } from '../helpers/errors.js';

const ok: Image2D = { data: new Uint16Array(12), width: 4, height: 3 };

describe.each(testBackends)('bad input [%s]', (name) => {
  const k = kernels(name);
  const cases: [string, () => unknown, RegExp, string][] = [
    ['Int32Array data', () => k.medianFilter({ ...ok, data: new Int32Array(12) as never }, 1), /Int32Array/, 'ERR_SCSEG_DTYPE'],
    ['Float64Array data', () => k.percentileNormalize({ ...ok, data: new Float64Array(12) as never }, 0, 1), /Float64Array/, 'ERR_SCSEG_DTYPE'],
    ['plain array data', () => k.medianFilter({ ...ok, data: [1, 2, 3] as never }, 1), /Array/, 'ERR_SCSEG_DTYPE'],
    ['length ≠ width×height', () => k.medianFilter({ ...ok, width: 5 }, 1), /12 elements.*5×3 = 15/, 'ERR_SCSEG_SHAPE'],
    ['zero width', () => k.medianFilter({ data: new Uint16Array(0), width: 0, height: 3 }, 1), /width must be a positive integer/, 'ERR_SCSEG_SHAPE'],
    ['negative height', () => k.percentileNormalize({ ...ok, height: -3 }, 0, 1), /height must be a positive integer/, 'ERR_SCSEG_SHAPE'],
    ['fractional width', () => k.medianFilter({ ...ok, width: 4.5 }, 1), /width must be a positive integer/, 'ERR_SCSEG_SHAPE'],
    ['negative radius', () => k.medianFilter(ok, -1), /radius must be an integer in \[0, 4096\]/, 'ERR_SCSEG_ARGUMENT'],
    ['fractional radius', () => k.medianFilter(ok, 1.5), /radius/, 'ERR_SCSEG_ARGUMENT'],
    ['NaN radius', () => k.medianFilter(ok, Number.NaN), /radius/, 'ERR_SCSEG_ARGUMENT'],
    ['quantile > 1', () => k.percentileNormalize(ok, 0.1, 99.9), /upper quantile must be a number in \[0, 1\]/, 'ERR_SCSEG_ARGUMENT'],
    ['NaN pixel (median)', () => k.medianFilter({ ...ok, data: Float32Array.of(1, 2, NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12) }, 1), /NaN \(first at index 2\)/, 'ERR_SCSEG_VALUE'],
    ['NaN pixel (normalize)', () => k.percentileNormalize({ ...ok, data: new Float32Array(12).fill(NaN) }, 0, 1), /NaN/, 'ERR_SCSEG_VALUE'],
    ['null image', () => k.medianFilter(null as never, 1), /must be an object/, 'ERR_SCSEG_SHAPE'],
  ];
  it.each(cases)('%s → InputError', (_n, call, message, code) => expectInputError(call, code, message));

  it('the raw binding rejects a mismatched length itself (defence in depth, no out-of-bounds access)', () => {
    const raw = k.backend.bindings;
    expect(() => raw.medianFilter(new Uint16Array(10), 4, 3, 1, new Uint16Array(12), 1)).toThrow(/length does not equal/);
    expect(() => raw.percentileNormalize(new Uint8Array(12), 4, 3, 0, 1, new Float32Array(12) as never, 1)).not.toThrow();
    expect(() => raw.medianFilter(new Uint16Array(12), 4, 3, 1, new Uint8Array(12), 1)).toThrow(/output must be a Uint16Array/);
    expect(() => raw.medianFilter(new Float32Array([NaN]), 1, 1, 1, new Float32Array(1), 1)).toThrow(/NaN/);
    expect(() => raw.medianFilter(new Uint16Array(12), 4, 3, 1, new Uint16Array(12), 0)).toThrow(/threads must be an integer in \[1, 64\]/);
    expect(() => raw.medianFilter(new Uint16Array(12), 4, 3, 1, new Uint16Array(12), undefined as never)).toThrow(/threads must be a number/);
  });

  it('still works after errors (the backend is not left in a broken state)', () => {
    // One row, disk(1), edges replicated: each window is {left, right, self ×3} → the pixel itself wins.
    const out = k.medianFilter({ data: Uint8Array.of(1, 9, 5), width: 3, height: 1 }, 1);
    expect(Array.from(out.data)).toEqual([1, 9, 5]);
    const col = k.medianFilter({ data: Uint8Array.of(1, 9, 5, 2, 8), width: 5, height: 1 }, 2);
    expect(Array.from(col.data)).toEqual([1, 5, 5, 5, 8]);
  });
});
