/**
 * Argument fuzzing of the kernel facade (issue 13): every kernel is called with random arguments — typed arrays of
 * the right and the wrong type and length, dims that are 0, negative, fractional, NaN or huge, parameters from a
 * pool of edge values, NaN/±Inf pixels, option objects with odd members — on both backends. Each call must return
 * or throw an InputError (README: bad input is an InputError, never a crash); anything else — a TypeError, an
 * InternalError (the C++ refusing what validation let through), a crash of the process — is a validation gap.
 * Fixed seed and a fixed number of calls per kernel; small images, so valid calls are cheap.
 */
import { int, pick, rng, type Rand } from '../helpers/fixtures.js';
import { InputError } from '../../lib/errors.js';
import { kernels } from '../../lib/kernels/index.js';
import { testBackends } from '../helpers/backends.js';

const CALLS_PER_KERNEL = Number(process.env.SCSEG_FUZZ_API_CALLS ?? 150);
const SEED = Number(process.env.SCSEG_FUZZ_API_SEED ?? 0xa11ce);


const ODD: unknown[] = [undefined, null, '3', {}, [], true, Symbol.iterator, () => 1, 10n];
const NUMBERS = [0, 1, -1, 2, 3, 5, 0.5, -0.25, 1.5, NaN, Infinity, -Infinity, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53,
  -(2 ** 53), 63, 64, 65, 255, 4095, 4097, 1e-300, Number.MIN_VALUE, -0];
const PIXELS = [0, 1, 2, 3, 7, 255, 65535, 0.5, -1, NaN, Infinity, -Infinity, 1e38, -3e38, 2 ** 31, 4294967295];
const CTORS = [Uint8Array, Uint16Array, Float32Array, Float64Array, Uint32Array, Int32Array, Uint8ClampedArray, Int16Array,
  Int8Array] as const;

/** A number, mostly a plausible one, sometimes any value at all. */
function num(r: Rand, plausible: readonly number[] = [0, 1, 2, 3]): unknown {
  const x = r();
  if (x < 0.55) return pick(r, plausible);
  if (x < 0.93) return pick(r, NUMBERS);
  return pick(r, ODD);
}

/** Typed array data: the wanted type most of the time, filled with small values, specials or anything. */
function data(r: Rand, want: (typeof CTORS)[number], length: number): unknown {
  const x = r();
  if (x < 0.05) return pick(r, ODD);
  if (x < 0.08) return Array.from({ length }, () => int(r, 4));
  const C = x < 0.82 ? want : pick(r, CTORS);
  const n = r() < 0.88 ? length : Math.max(0, length + pick(r, [-1, 1, -length, 3]));
  const a = new C(n);
  const mode = int(r, 4);
  for (let i = 0; i < n; i++) {
    const v = mode === 0 ? int(r, 4) : mode === 1 ? int(r, 256) : mode === 2 ? pick(r, PIXELS) : r() * 10 - 2;
    (a as unknown as number[])[i] = v;
  }
  return a;
}

interface Dims {
  width: unknown;
  height: unknown;
  length: number;
}
function dims(r: Rand): Dims {
  const w = 1 + int(r, 6);
  const h = 1 + int(r, 6);
  if (r() < 0.85) return { width: w, height: h, length: w * h };
  return { width: num(r, [w, 0, -w]), height: num(r, [h, 0]), length: w * h };
}

/** An image object (sometimes not an object, sometimes of another shape than `d`). */
function image(r: Rand, want: (typeof CTORS)[number], d: Dims): unknown {
  if (r() < 0.03) return pick(r, ODD);
  const other = r() < 0.06 ? dims(r) : d;
  return { data: data(r, want, other.length), width: other.width, height: other.height };
}

function options(r: Rand, fields: Record<string, () => unknown>): unknown {
  if (r() < 0.05) return pick(r, ODD);
  const o: Record<string, unknown> = {};
  for (const [k, gen] of Object.entries(fields)) if (r() < 0.5) o[k] = gen();
  if (r() < 0.1) o.unknownKey = 1;
  return o;
}

function ranks(r: Rand, d: Dims): unknown {
  if (r() < 0.6) return undefined;
  if (r() < 0.2) return pick(r, ODD);
  const n = Math.max(0, d.length + pick(r, [0, 0, -1, 1]));
  return Int32Array.from({ length: n }, (_, i) => (r() < 0.95 ? i : pick(r, [-1, 0, 2 ** 31 - 1])));
}

type Call = (k: ReturnType<typeof kernels>, r: Rand) => unknown;

/** One random call per kernel of the facade (as a user could make it, through `any`). */
const CALLS: Record<string, Call> = {
  medianFilter: (k, r) => { const d = dims(r); return k.medianFilter(image(r, pick(r, [Uint8Array, Uint16Array, Float32Array]), d) as never, num(r, [0, 1, 2, 5]) as never); },
  quantiles: (k, r) => { const d = dims(r); return k.quantiles(image(r, Uint16Array, d) as never, (r() < 0.9 ? Array.from({ length: int(r, 4) }, () => num(r, [0, 0.5, 1, 0.02])) : pick(r, ODD)) as never); },
  percentileNormalize: (k, r) => { const d = dims(r); return k.percentileNormalize(image(r, Float32Array, d) as never, num(r, [0, 0.01]) as never, num(r, [1, 0.99]) as never); },
  normalizeRange: (k, r) => { const d = dims(r); return k.normalizeRange(image(r, Uint8Array, d) as never, num(r, [0, 1]) as never, num(r, [1, 255]) as never); },
  wgaSpeedMap: (k, r) => { const d = dims(r); return k.wgaSpeedMap(image(r, Float32Array, d) as never, image(r, Uint8Array, d) as never, [num(r, [0, 0.1]), num(r, [1, 0.9])] as never, (r() < 0.95 ? { min: num(r, [0, 0.1]), max: num(r, [1, 0.9]) } : pick(r, ODD)) as never); },
  binaryErosion: (k, r) => { const d = dims(r); return k.binaryErosion(image(r, Uint8Array, d) as never, num(r, [0, 1, 2, 4]) as never, num(r, [0, 1]) as never); },
  binaryDilation: (k, r) => { const d = dims(r); return k.binaryDilation(image(r, Uint8Array, d) as never, num(r, [0, 1, 2, 4]) as never, num(r, [0, 1]) as never); },
  localMedianThreshold: (k, r) => { const d = dims(r); return k.localMedianThreshold(image(r, Float32Array, d) as never, num(r, [1, 3, 5, 41]) as never, num(r, [1, 2, 4]) as never, num(r, [0, -0.5, 2]) as never); },
  otsuThreshold: (k, r) => { const d = dims(r); return k.otsuThreshold(image(r, pick(r, [Uint8Array, Uint16Array, Float32Array]), d) as never); },
  watershed: (k, r) => { const d = dims(r); return k.watershed(image(r, pick(r, [Float64Array, Float32Array]), d) as never, image(r, Uint32Array, d) as never, (r() < 0.5 ? null : image(r, Uint8Array, d)) as never, options(r, { raiseToParent: () => (r() < 0.8 ? r() < 0.5 : num(r)), markerRanks: () => ranks(r, d) }) as never); },
  labelCentroids: (k, r) => { const d = dims(r); return k.labelCentroids(image(r, Uint32Array, d) as never); },
  removeEdgeLabels: (k, r) => { const d = dims(r); return k.removeEdgeLabels(image(r, Uint32Array, d) as never); },
  labelAreas: (k, r) => { const d = dims(r); return k.labelAreas(image(r, Uint32Array, d) as never); },
  removeLabels: (k, r) => { const d = dims(r); return k.removeLabels(image(r, Uint32Array, d) as never, data(r, Uint32Array, int(r, 4)) as never); },
  contactFilter: (k, r) => { const d = dims(r); return k.contactFilter(image(r, Uint32Array, d) as never, num(r, [0, 0.5, 1]) as never); },
  matchNucleusCytosol: (k, r) => { const d = dims(r); return k.matchNucleusCytosol(image(r, Uint32Array, d) as never, image(r, Uint32Array, d) as never, num(r, [0, 0.5, 1]) as never); },
  distanceTransform: (k, r) => { const d = dims(r); return k.distanceTransform(image(r, Uint8Array, d) as never); },
  peakLocalMax: (k, r) => { const d = dims(r); return k.peakLocalMax(image(r, Float64Array, d) as never, num(r, [0, 1, 2]) as never, num(r, [0, 1, 3]) as never); },
  fmmDistance: (k, r) => { const d = dims(r); return k.fmmDistance(image(r, Uint8Array, d) as never, image(r, Uint8Array, d) as never); },
  distanceWatershed: (k, r) => { const d = dims(r); return k.distanceWatershed(image(r, Uint8Array, d) as never, image(r, Uint8Array, d) as never, image(r, Uint32Array, d) as never, options(r, { markerRanks: () => ranks(r, d) }) as never); },
  travelTime: (k, r) => { const d = dims(r); return k.travelTime(image(r, Uint8Array, d) as never, image(r, Uint8Array, d) as never, image(r, Float64Array, d) as never, options(r, { targets: () => image(r, Uint8Array, d) }) as never); },
  travelTimeWatershed: (k, r) => { const d = dims(r); return k.travelTimeWatershed(image(r, Uint8Array, d) as never, image(r, Uint8Array, d) as never, image(r, Float64Array, d) as never, image(r, Uint32Array, d) as never, options(r, { floodLag: () => num(r, [0, 1, -1]), travel: () => (r() < 0.8 ? r() < 0.5 : num(r)), markerRanks: () => ranks(r, d) }) as never); },
  cellposeMasks: (k, r) => {
    const d = dims(r);
    const flow = r() < 0.05 ? pick(r, ODD) : { data: data(r, Float32Array, 2 * d.length), width: d.width, height: d.height };
    return k.cellposeMasks(flow as never, image(r, Float32Array, d) as never, options(r, {
      niter: () => num(r, [1, 10, 200]), cellprobThreshold: () => num(r, [0, -1]), flowThreshold: () => num(r, [0, 0.4]),
      minSize: () => num(r, [0, 15, -1]), maxSizeFraction: () => num(r, [0.4, 1]), imagePixels: () => num(r, [0, 100]),
      fixLabelGapQuirk: () => r() < 0.5, clean: () => (r() < 0.8 ? r() < 0.5 : num(r)), interp: () => r() < 0.5,
    }) as never);
  },
  cellposeCleanMasks: (k, r) => { const d = dims(r); return k.cellposeCleanMasks(image(r, Uint32Array, d) as never, options(r, { minSize: () => num(r, [0, 15]), fixLabelGapQuirk: () => r() < 0.5 }) as never); },
  cellposeMasksToFlows: (k, r) => { const d = dims(r); return k.cellposeMasksToFlows(image(r, Uint32Array, d) as never); },
  cellposeBlendTiles: (k, r) => {
    const th = num(r, [1, 3, 8, 0]);
    const tw = num(r, [1, 4, 8, -1]);
    const n = int(r, 4);
    const channels = num(r, [1, 2, 3, 0, 65]);
    // the lengths the arguments call for (when they are numbers at all), sometimes one off
    const size = (...f: unknown[]) => {
      const m = f.every((v) => typeof v === 'number') ? (f as number[]).reduce((a, v) => a * v, 1) : 1;
      return Math.max(0, (Number.isSafeInteger(m) && m < 1e6 ? m : 1) + pick(r, [0, 0, 0, -1, 1]));
    };
    const fields = {
      y: () => data(r, pick(r, [Float32Array, Float32Array, Float64Array]), size(n, channels, th, tw)),
      origins: () => (r() < 0.9 ? Int32Array.from({ length: size(2 * n) }, () => pick(r, [0, 3, -5, 2 ** 31 - 1, -(2 ** 31)])) : pick(r, ODD)),
      mask: () => data(r, pick(r, [Float64Array, Float64Array, Float32Array]), size(th, tw)),
      channels: () => channels, tileHeight: () => th, tileWidth: () => tw,
    };
    // all fields most of the time (a call can pass), else some missing or an odd value
    const tiles = r() < 0.8 ? Object.fromEntries(Object.entries(fields).map(([f, gen]) => [f, gen()])) : options(r, fields);
    const d = dims(r);
    return k.cellposeBlendTiles(tiles as never, (r() < 0.95 ? { width: d.width, height: d.height } : pick(r, ODD)) as never);
  },
  qcOverlay: (k, r) => {
    const d = dims(r);
    const masks = r() < 0.05 ? pick(r, ODD) : Array.from({ length: int(r, 4) }, () => image(r, Uint32Array, d));
    const colour = () => (r() < 0.9 ? [int(r, 256), int(r, 256), int(r, 256)] : pick(r, [[256, 0, 0], [-1, 0, 0], [0.5, 0, 0], [0, 0], ...ODD]));
    const params = r() < 0.05 ? pick(r, ODD) : {
      factor: num(r, [1, 2, 3]), p0: num(r, [0, 1, 100]), scale: num(r, [1, 0.5, 0]),
      colors: r() < 0.95 ? Array.from({ length: 1 + int(r, 3) }, colour) : pick(r, ODD),
    };
    return k.qcOverlay(image(r, pick(r, [Uint8Array, Uint16Array, Float32Array]), d) as never, masks as never, params as never);
  },
};

describe.each(testBackends)('kernel API fuzzing: random arguments give a result or an InputError [%s]', (name) => {
  const k = kernels(name);

  it('covers every kernel of the facade', () => {
    const proto = Object.getOwnPropertyNames(Object.getPrototypeOf(k)).filter(
      (m) => typeof (k as unknown as Record<string, unknown>)[m] === 'function' && !['constructor', 'withThreads', 'call'].includes(m),
    );
    expect(proto.filter((m) => !(m in CALLS))).toEqual([]);
  });

  it.each(Object.keys(CALLS))(`%s: ${CALLS_PER_KERNEL} random calls`, (kernel) => {
    const r = rng(SEED ^ [...kernel].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
    const findings: string[] = [];
    let rejected = 0;
    for (let i = 0; i < CALLS_PER_KERNEL; i++) {
      try {
        CALLS[kernel](k, r);
      } catch (err) {
        if (err instanceof InputError) {
          rejected++;
          continue;
        }
        const e = err as Error;
        findings.push(`call ${i}: ${e?.constructor?.name}: ${String(e?.message).slice(0, 160)}`);
      }
    }
    // Both paths must be exercised: some calls pass validation and run, some are refused.
    expect(rejected).toBeGreaterThan(0);
    expect(rejected).toBeLessThan(CALLS_PER_KERNEL);
    expect(findings).toEqual([]);
  });
});
