/**
 * travelTimeWatershed (native/travel_watershed.hpp) must equal its three steps run one by one: travelTime, the
 * unreached times filled with the largest reached one, watershed inside `allowed` — on images large enough for
 * the native build's two-thread path and on small ones.
 */
import { kernels } from '../../lib/kernels/index.js';
import type { Image2D } from '../../lib/image.js';
import { expectInputError } from '../helpers/errors.js';
import { rng } from '../helpers/fixtures.js';

// Two threads at least: with a budget of one the native build runs the one-thread path only.
const k = kernels(undefined, { threads: 2 });

/** A cell-like scene: smooth blobs of allowed pixels, a smooth speed field in [0.1, 1], seeds, most with markers. */
function scene(width: number, height: number, seed: number, nSeeds: number) {
  const r = rng(seed);
  const n = width * height;
  const centres = Array.from({ length: 40 }, () => [r() * width, r() * height, 20 + r() * 60] as const);
  const allowed = new Uint8Array(n);
  const speed = new Float64Array(n);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let f = 0;
      for (const [cx, cy, s] of centres) f += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
      allowed[y * width + x] = f > 0.25 ? 1 : 0;
      speed[y * width + x] = 0.1 + 0.9 * Math.min(1, f / 2) * (0.7 + 0.3 * r());
    }
  const seeds = new Uint8Array(n);
  const markers = new Uint32Array(n);
  for (let i = 0; i < nSeeds; i++) {
    let at = Math.floor(r() * n);
    for (let tries = 0; tries < 100 && !allowed[at]; tries++) at = Math.floor(r() * n); // mostly inside cells
    seeds[at] = 1;
    if (i === 0 || r() < 0.8) markers[at] = i + 1;
  }
  const img = <T extends Uint8Array | Float64Array | Uint32Array>(data: T): Image2D<T> => ({ data, width, height });
  return { seeds: img(seeds), allowed: img(allowed), speed: img(speed), markers: img(markers) };
}

/** One scene and its step-by-step result per parameter set: the lag cases share them (each costs seconds). */
const cached = new Map<string, { s: ReturnType<typeof scene>; ref: ReturnType<typeof stepByStep> }>();
function sceneAndReference(width: number, height: number, seed: number, nSeeds: number) {
  const key = `${width}x${height}/${seed}/${nSeeds}`;
  let hit = cached.get(key);
  if (!hit) {
    const s = scene(width, height, seed, nSeeds);
    hit = { s, ref: stepByStep(s) };
    cached.set(key, hit);
  }
  return hit;
}

function stepByStep(s: ReturnType<typeof scene>) {
  const travel = k.travelTime(s.seeds, s.allowed, s.speed);
  let max = -Infinity;
  for (const v of travel.data) if (v !== Infinity && v > max) max = v;
  for (let i = 0; i < travel.data.length; i++) if (travel.data[i] === Infinity) travel.data[i] = max;
  return { travel, labels: k.watershed(travel, s.markers, s.allowed) };
}

describe('travelTimeWatershed', () => {
  it.each([
    ['two-thread size', 700, 651, 1, 400],
    ['small image', 120, 97, 2, 12],
    ['one seed', 530, 520, 3, 1],
  ])('equals travelTime + fill + watershed bit for bit (%s)', (_name, w, h, seed, nSeeds) => {
    const s = scene(w, h, seed, nSeeds);
    const fused = k.travelTimeWatershed(s.seeds, s.allowed, s.speed, s.markers);
    const ref = stepByStep(s);
    expect(Buffer.compare(Buffer.from(fused.travel.data.buffer), Buffer.from(ref.travel.data.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(fused.labels.data.buffer), Buffer.from(ref.labels.data.buffer))).toBe(0);
    const labelled = new Set(fused.labels.data);
    labelled.delete(0);
    expect(labelled.size).toBeGreaterThanOrEqual(Math.min(nSeeds, 2)); // the scene really floods
    // Labels only: the same labels, no travel times.
    const labelsOnly = k.travelTimeWatershed(s.seeds, s.allowed, s.speed, s.markers, { travel: false });
    expect(labelsOnly.travel).toBeNull();
    expect(Buffer.compare(Buffer.from(labelsOnly.labels.data.buffer), Buffer.from(ref.labels.data.buffer))).toBe(0);
  });

  it.each([
    ['no lag', 0],
    ['a negative lag: pops out of order, so the flood reruns', -1000],
    // The flood then pops nothing before the march has ended, while the march waits on its freeze-log ring (an
    // eighth of the image) for the flood to take entries in.
    ['a lag beyond every travel time: the march waits on the flood', 1e9],
  ])('stays exact whatever the flood lag (%s)', (_name, floodLag) => {
    const { s, ref } = sceneAndReference(600, 560, 8, 300);
    const fused = k.travelTimeWatershed(s.seeds, s.allowed, s.speed, s.markers, { floodLag });
    expect(Buffer.compare(Buffer.from(fused.travel.data.buffer), Buffer.from(ref.travel.data.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(fused.labels.data.buffer), Buffer.from(ref.labels.data.buffer))).toBe(0);
    // The rerun needs the travel times even when the caller does not.
    const labelsOnly = k.travelTimeWatershed(s.seeds, s.allowed, s.speed, s.markers, { floodLag, travel: false });
    expect(Buffer.compare(Buffer.from(labelsOnly.labels.data.buffer), Buffer.from(ref.labels.data.buffer))).toBe(0);
  });

  it('labels nothing when no seed lies inside allowed', () => {
    const s = scene(64, 64, 4, 30);
    s.allowed.data.fill(0);
    const { travel, labels } = k.travelTimeWatershed(s.seeds, s.allowed, s.speed, s.markers);
    expect(labels.data.every((v) => v === 0)).toBe(true);
    expect(travel.data.every((v) => v === Infinity)).toBe(true);
    expect(k.travelTimeWatershed(s.seeds, s.allowed, s.speed, s.markers, { travel: false }).labels.data.every((v) => v === 0)).toBe(true);
  });

  it('rejects bad speeds and mismatched shapes with InputError', () => {
    const s = scene(32, 32, 5, 5);
    const bad = { ...s.speed, data: s.speed.data.slice() };
    bad.data[7] = 0;
    expectInputError(() => k.travelTimeWatershed(s.seeds, s.allowed, bad, s.markers), 'ERR_SCSEG_VALUE', /finite and > 0/);
    const small = { data: new Uint32Array(16), width: 4, height: 4 };
    expectInputError(() => k.travelTimeWatershed(s.seeds, s.allowed, s.speed, small), 'ERR_SCSEG_SHAPE');
  });
});
