/**
 * One finished shard on disk: the owned cells of its window, numbered 1..count in the shard (0 elsewhere), one
 * plane per mask, stored as deflated blocks of rows so that stitching reads back only the rows it needs.
 *
 * Layout: "SCSH", u32 header length (LE), the header as JSON, then the blocks. Written to a temp name and renamed,
 * so a shard file that exists is complete: its existence is the shard's completion record.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { InputError } from '../errors.js';
import type { PixelWindow } from '../image.js';
import { writeFileAtomic } from '../io/atomic.js';

const MAGIC = 'SCSH';
const BLOCK_ROWS = 64;

export interface ShardHeader {
  version: 1;
  index: number;
  window: PixelWindow;
  core: PixelWindow;
  masks: number;
  /** Cells this shard owns (ids 1..count in its planes). */
  count: number;
  blockRows: number;
  /** [offset from the data start, length] of each block, mask-major. */
  blocks: [number, number][];
}

export async function writeShardFile(
  file: string,
  shard: { index: number; window: PixelWindow; core: PixelWindow },
  planes: readonly Uint32Array[],
  count: number,
): Promise<void> {
  const { window } = shard;
  const parts: Buffer[] = [];
  const blocks: [number, number][] = [];
  let offset = 0;
  for (const plane of planes) {
    if (plane.length !== window.width * window.height) throw new InputError(`${file}: plane size does not match the window`, 'ERR_SCSEG_SHAPE');
    for (let y = 0; y < window.height; y += BLOCK_ROWS) {
      const rows = plane.subarray(y * window.width, Math.min(window.height, y + BLOCK_ROWS) * window.width);
      const packed = zlib.deflateRawSync(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), { level: 1 });
      blocks.push([offset, packed.length]);
      parts.push(packed);
      offset += packed.length;
    }
  }
  const header: ShardHeader = { version: 1, ...shard, masks: planes.length, count, blockRows: BLOCK_ROWS, blocks };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(json.length, 4);
  await writeFileAtomic(file, Buffer.concat([prefix, json, ...parts]));
}

/** Random access to a shard file's rows. */
export class ShardFile {
  private constructor(
    readonly file: string,
    readonly header: ShardHeader,
    private readonly fd: number,
    private readonly dataStart: number,
  ) {}

  static open(file: string): ShardFile {
    const fd = fs.openSync(file, 'r');
    try {
      const prefix = Buffer.alloc(8);
      if (fs.readSync(fd, prefix, 0, 8, 0) !== 8 || prefix.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a shard file');
      const length = prefix.readUInt32LE(4);
      const json = Buffer.alloc(length);
      if (fs.readSync(fd, json, 0, length, 8) !== length) throw new Error('truncated header');
      const header = JSON.parse(json.toString('utf8')) as ShardHeader;
      if (header.version !== 1) throw new Error(`unknown version ${header.version}`);
      return new ShardFile(file, header, fd, 8 + length);
    } catch (e) {
      fs.closeSync(fd);
      throw new InputError(`${file}: unreadable shard cache file (${(e as Error).message}); rerun with --overwrite`, 'ERR_SCSEG_CACHE', { cause: e });
    }
  }

  /** Rows [y0, y1) of the window (window coordinates) of plane `mask`. */
  rows(mask: number, y0: number, y1: number): Uint32Array {
    const { window, blockRows, blocks } = this.header;
    const out = new Uint32Array((y1 - y0) * window.width);
    const perMask = Math.ceil(window.height / blockRows);
    for (let b = Math.floor(y0 / blockRows); b * blockRows < y1; b++) {
      const [offset, length] = blocks[mask * perMask + b];
      const packed = Buffer.alloc(length);
      if (fs.readSync(this.fd, packed, 0, length, this.dataStart + offset) !== length) {
        throw new InputError(`${this.file}: truncated shard cache file; rerun with --overwrite`, 'ERR_SCSEG_CACHE');
      }
      const raw = zlib.inflateRawSync(packed);
      // Small buffers may sit unaligned in Node's pool: copy those.
      const bytes = raw.byteOffset % 4 === 0 ? raw : new Uint8Array(raw);
      const block = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      const from = Math.max(y0, b * blockRows);
      const to = Math.min(y1, (b + 1) * blockRows, window.height);
      out.set(block.subarray((from - b * blockRows) * window.width, (to - b * blockRows) * window.width), (from - y0) * window.width);
    }
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
