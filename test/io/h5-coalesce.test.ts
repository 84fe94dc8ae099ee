/**
 * lib/io/h5-coalesce.ts: h5wasm's chunk writes gathered into few large writes — the same file contents, far fewer
 * system calls, and a full disk still reported in HDF5's words whether the failing write happens inside an HDF5
 * call (the buffer filled up) or after it (the rest written out).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Image2D } from '../../lib/image.js';
import { writeSegmentationH5 } from '../../lib/io/index.js';
import { expectInputErrorAsync } from '../helpers/errors.js';
import { rng } from '../helpers/fixtures.js';
import { readLabelsH5 } from '../helpers/labels.js';
// @ts-expect-error: a plain .mjs module (the CLI tests load it with node --import)
import { installEnospc } from '../bad-input/enospc.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scseg-h5-coalesce-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Blocky label images (ids up to ~2^31, so the high and low bytes of the uint64 both vary). */
function masks(width: number, height: number, count: number): Image2D<Uint32Array>[] {
  const r = rng(width * 31 + height);
  return Array.from({ length: count }, () => {
    const data = new Uint32Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ((y >> 4) * 977 + (x >> 4)) * Math.floor(r() * 2 ** 20) >>> 1;
    return { width, height, data };
  });
}

/** Counts fs.writeSync calls made to files under `dir` while `run` runs. */
async function countWrites(dir: string, run: () => Promise<void>): Promise<number> {
  const { openSync, closeSync, writeSync } = fs;
  const fds = new Set<number>();
  let writes = 0;
  fs.openSync = ((p: fs.PathLike, ...rest: unknown[]) => {
    const fd = (openSync as (...a: unknown[]) => number)(p, ...rest);
    if (String(p).startsWith(dir)) fds.add(fd);
    return fd;
  }) as typeof fs.openSync;
  fs.closeSync = ((fd: number) => (fds.delete(fd), closeSync(fd))) as typeof fs.closeSync;
  fs.writeSync = ((fd: number, ...rest: unknown[]) => {
    if (fds.has(fd)) writes++;
    return (writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync;
  try {
    await run();
  } finally {
    Object.assign(fs, { openSync, closeSync, writeSync });
  }
  return writes;
}

describe('segmentation.h5 through coalesced writes', () => {
  it('writes the same labels with a fraction of the system calls (1000² × 2 masks: 800 chunks)', async () => {
    const dir = path.join(tmp, 'calls');
    fs.mkdirSync(dir);
    const m = masks(1000, 1000, 2);
    const file = path.join(dir, 'segmentation.h5');
    const writes = await countWrites(dir, () => writeSegmentationH5(file, m, { chunkSize: 50 }));
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(100); // one per chunk would be 800, plus the metadata
    const back = await readLabelsH5(file);
    expect(back.masks.length).toBe(2);
    back.masks.forEach((b, i) => expect(Buffer.from(b.buffer).equals(Buffer.from(m[i].data.buffer))).toBe(true));
  });

  it.each([
    // 11.5 MB of uint64 per mask, more than the 8 MiB buffer: it fills up during the HDF5 call, which then sees
    // the failed write
    ['inside the HDF5 call', 1200, 1 << 20],
    // 0.7 MB per mask: all of it is written after the call, by the coalescer itself
    ['after the HDF5 call', 300, 64 << 10],
  ])('a full disk %s: InputError "No space left on device", no file left behind', async (_where, side, budget) => {
    const dir = path.join(tmp, `full-${side}`);
    fs.mkdirSync(dir);
    const uninstall = installEnospc(dir, budget);
    try {
      await expectInputErrorAsync(
        writeSegmentationH5(path.join(dir, 'segmentation.h5'), masks(side, side, 2), { chunkSize: 50 }),
        'ERR_SCSEG_IO_WRITE',
        // as without coalescing: HDF5's words for a write failing mid-dataset
        /segmentation\.h5: cannot write: No space left on device$/,
      );
    } finally {
      uninstall();
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
