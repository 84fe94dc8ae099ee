/**
 * An explicit pop order for markers of equal value (markerRanks): the watersheds break ties between marker fronts
 * in that order instead of skimage's heap order — what lets a window of an image flood like the whole image.
 */
import { InputError } from '../../lib/errors.js';
import type { Image2D } from '../../lib/image.js';
import { kernels } from '../../lib/kernels/index.js';

const k = kernels();

/**
 * Corridors of `len` pixels (odd), one per row segment, separated by a masked-out pixel; a marker at each end
 * (labels 2c+1 left, 2c+2 right) on a ∧-shaped surface, so the middle pixel is reached from both ends at the
 * same value: whichever marker pops first takes it.
 */
function corridors(width: number, height: number, len: number) {
  const n = width * height;
  const surface = new Float64Array(n);
  const markers = new Uint32Array(n);
  const mask = new Uint8Array(n);
  const middles: { at: number; left: number; right: number }[] = [];
  let label = 0;
  for (let y = 0; y < height; y++) {
    for (let x0 = 0; x0 + len <= width; x0 += len + 1) {
      for (let i = 0; i < len; i++) {
        surface[y * width + x0 + i] = Math.min(i, len - 1 - i);
        mask[y * width + x0 + i] = 1;
      }
      markers[y * width + x0] = ++label;
      markers[y * width + x0 + len - 1] = ++label;
      middles.push({ at: y * width + x0 + (len - 1) / 2, left: label - 1, right: label });
    }
  }
  const img = <T extends Image2D['data'] | Uint32Array | Float64Array>(data: T) => ({ data, width, height });
  return { surface: img(surface), markers: img(markers), mask: img(mask), middles, count: label };
}

describe(`markerRanks [${k.backendName}]`, () => {
  it('ranks in raster order reproduce skimage on two tied markers; reversed ranks give the tie to the other', () => {
    const c = corridors(5, 1, 5);
    const plain = k.watershed(c.surface, c.markers, c.mask);
    expect(plain.data[c.middles[0].at]).toBe(1);
    expect(k.watershed(c.surface, c.markers, c.mask, { markerRanks: Int32Array.of(0, 1) }).data).toEqual(plain.data);
    const reversed = k.watershed(c.surface, c.markers, c.mask, { markerRanks: Int32Array.of(1, 0) });
    expect(reversed.data[c.middles[0].at]).toBe(2);
  });

  it('the per-part flood of large masks follows the ranks too (every second corridor reversed)', () => {
    const c = corridors(258, 256, 5); // 65 536+ pixels, thousands of parts: the by-parts path
    const ranks = new Int32Array(c.count);
    // Marker k (raster order) is label k + 1; corridor j's markers are 2j and 2j + 1.
    for (let j = 0; j < c.count / 2; j++) {
      const reverse = j % 2 === 1;
      ranks[2 * j] = reverse ? 2 * j + 1 : 2 * j;
      ranks[2 * j + 1] = reverse ? 2 * j : 2 * j + 1;
    }
    const out = k.watershed(c.surface, c.markers, c.mask, { markerRanks: ranks }).data;
    c.middles.forEach((m, j) => expect(out[m.at]).toBe(j % 2 === 1 ? m.right : m.left));
  });

  it('distanceWatershed and travelTimeWatershed take the same order as watershed on their surfaces', () => {
    const width = 9;
    const height = 3;
    const n = width * height;
    // A 3-row band; seeds at both ends of the middle row: the geodesic middle column ties.
    const seeds = new Uint8Array(n);
    const markers = new Uint32Array(n);
    seeds[width] = 1;
    seeds[2 * width - 1] = 1;
    markers[width] = 1;
    markers[2 * width - 1] = 2;
    const img = <T extends Uint8Array | Uint32Array | Float64Array>(data: T) => ({ data, width, height });
    const allowed = img(new Uint8Array(n).fill(1));
    for (const order of [Int32Array.of(0, 1), Int32Array.of(1, 0)]) {
      const distance = k.fmmDistance(img(seeds), allowed);
      const expected = k.watershed(distance, img(markers), allowed, { markerRanks: order }).data;
      expect(k.distanceWatershed(img(seeds), allowed, img(markers), { markerRanks: order }).data).toEqual(expected);
      const speed = img(new Float64Array(n).fill(1));
      const travel = k.travelTime(img(seeds), allowed, speed);
      const viaTravel = k.watershed(travel, img(markers), allowed, { markerRanks: order }).data;
      const fused = k.travelTimeWatershed(img(seeds), allowed, speed, img(markers), { travel: false, markerRanks: order });
      expect(fused.labels.data).toEqual(viaTravel);
    }
    const first = k.distanceWatershed(img(seeds), allowed, img(markers), { markerRanks: Int32Array.of(0, 1) }).data;
    const second = k.distanceWatershed(img(seeds), allowed, img(markers), { markerRanks: Int32Array.of(1, 0) }).data;
    expect(first[width + 4]).toBe(1);
    expect(second[width + 4]).toBe(2);
  });

  it('the concurrent cytosol flood (native, 2 threads, ≥ 2^18 pixels) follows the ranks too', () => {
    const c = corridors(514, 512, 5);
    const seeds = { ...c.markers, data: Uint8Array.from(c.markers.data, (v) => +(v !== 0)) };
    const speed = { ...c.markers, data: new Float64Array(c.markers.data.length).fill(1) };
    const ranks = Int32Array.from({ length: c.count }, (_, i) => (i % 2 === 0 ? i + 1 : i - 1)); // every pair reversed
    const fused = k.withThreads(2).travelTimeWatershed(seeds, c.mask, speed, c.markers, { travel: false, markerRanks: ranks });
    c.middles.forEach((m) => expect(fused.labels.data[m.at]).toBe(m.right));
  });

  it.each([
    ['too few ranks', Int32Array.of(0), /1 ranks for 2 markers/],
    ['duplicate ranks', Int32Array.of(3, 3), /distinct/],
    ['negative rank', Int32Array.of(-1, 0), /distinct and ≥ 0/],
    ['wrong type', Uint32Array.of(0, 1) as unknown as Int32Array, /must be an Int32Array/],
  ])('%s → InputError', (_name, ranks, message) => {
    const c = corridors(5, 1, 5);
    expect(() => k.watershed(c.surface, c.markers, c.mask, { markerRanks: ranks })).toThrow(InputError);
    expect(() => k.watershed(c.surface, c.markers, c.mask, { markerRanks: ranks })).toThrow(message);
  });

  it('the raw binding refuses a rank count that does not fit the markers', () => {
    const c = corridors(5, 1, 5);
    const out = new Uint32Array(5);
    const raw = k.backend.bindings;
    expect(() => raw.watershed(c.surface.data, c.markers.data, c.mask.data, 5, 1, out, false, Int32Array.of(0), 1)).toThrow(
      /invalid argument/,
    );
  });
});
