/**
 * The result files the page offers, as bytes: labels.npy (uint32, (n_masks, H, W) — the masks of segmentation.h5,
 * whose uint64 only widens them), classes.csv (as the CLI writes it) and PNG encoding for the QC overlay.
 */
import type { Image2D } from '../../lib/image.js';

/** A little-endian uint32 .npy of the masks stacked as (n_masks, H, W), NumPy format 1.0. */
export function labelsNpy(masks: readonly Image2D<Uint32Array>[]): Uint8Array {
  const { width, height } = masks[0];
  const dict = `{'descr': '<u4', 'fortran_order': False, 'shape': (${masks.length}, ${height}, ${width}), }`;
  // magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in '\n'
  const headerLength = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
  const header = dict.padEnd(headerLength - 1, ' ') + '\n';
  const out = new Uint8Array(10 + headerLength + masks.length * width * height * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, headerLength & 0xff, headerLength >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + headerLength);
  let o = 0;
  for (const m of masks) for (const v of m.data) body.setUint32((o++) * 4, v, true);
  return out;
}

/** scPortrait's classes.csv: one id per line, no header, no trailing newline (lib/io/classes.ts). */
export function classesCsv(ids: Iterable<number>): string {
  return Array.from(ids, String).join('\n');
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** zlib-wrapped deflate (what PNG's IDAT holds) by the browser's own CompressionStream. */
async function deflate(raw: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([raw as BlobPart]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** An 8-bit RGB PNG of RGBA pixels (alpha dropped), each row with the Sub filter as overlay.ts writes it. */
export async function encodeRgbPng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const stride = 1 + 3 * width;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const o = y * stride;
    raw[o] = 1;
    for (let x = 0, i = y * width * 4; x < width; x++, i += 4) {
      for (let c = 0; c < 3; c++) raw[o + 1 + 3 * x + c] = (rgba[i + c] - (x > 0 ? rgba[i + c - 4] : 0)) & 0xff;
    }
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, adaptive filtering, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', await deflate(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}
