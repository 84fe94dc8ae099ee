/**
 * Bounded LZW and PackBits decoders and a node:zlib Deflate decoder, registered with geotiff in place of its own.
 *
 * geotiff 3.0's LZW decoder follows dictionary chains that corrupt data can make cyclic, growing a JS array until
 * V8 aborts the whole process (an uncatchable fatal error, not an exception); its PackBits decoder likewise grows
 * an unbounded JS array. These replacements decode into a typed array sized from the strip/tile geometry, never
 * write past it, and throw on invalid codes, so a corrupt file becomes an InputError.
 */
import zlib from 'node:zlib';
import { addDecoder, BaseDecoder } from 'geotiff';

interface DecoderParameters {
  tileWidth: number;
  tileHeight: number;
  planarConfiguration?: number;
  bitsPerSample?: number | ArrayLike<number>;
}

/** Bytes of one decoded strip or tile: the upper bound of what a decoder may produce. */
function decodedSize(p: DecoderParameters): number {
  const bits = p.bitsPerSample === undefined ? [8]
    : typeof p.bitsPerSample === 'number' ? [p.bitsPerSample] : Array.from(p.bitsPerSample);
  const bitsPerPixel = p.planarConfiguration === 2 ? bits[0] : bits.reduce((a, b) => a + b, 0);
  return Math.ceil((p.tileWidth * bitsPerPixel) / 8) * p.tileHeight;
}

const CLEAR = 256;
const EOI = 257;

/** TIFF LZW (MSB-first codes, 9–12 bits, "early change"), writing at most `limit` bytes. */
export function decodeLzw(input: Uint8Array, limit: number): Uint8Array {
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    first[i] = i;
    length[i] = 1;
  }
  const out = new Uint8Array(limit);
  let n = 0;
  let next = 258;
  let bits = 9;
  let old = -1;
  let pos = 0;
  const totalBits = input.length * 8;
  while (n < limit && pos + bits <= totalBits) {
    // Up to 12 bits spanning at most 3 bytes.
    const byte = pos >>> 3;
    const window = (input[byte] << 16) | ((input[byte + 1] ?? 0) << 8) | (input[byte + 2] ?? 0);
    const code = (window >>> (24 - (pos & 7) - bits)) & ((1 << bits) - 1);
    pos += bits;
    if (code === EOI) break;
    if (code === CLEAR) {
      next = 258;
      bits = 9;
      old = -1;
      continue;
    }
    if (old < 0) {
      if (code > 255) throw new Error(`corrupt LZW data: code ${code} after a clear code`);
      out[n++] = code;
      old = code;
      continue;
    }
    if (code < next) {
      if (next < 4096) {
        prefix[next] = old; suffix[next] = first[code]; first[next] = first[old]; length[next] = length[old] + 1;
        next++;
      }
    } else if (code === next && next < 4096) {
      prefix[next] = old; suffix[next] = first[old]; first[next] = first[old]; length[next] = length[old] + 1;
      next++;
    } else {
      throw new Error(`corrupt LZW data: code ${code} beyond the dictionary (${next} entries)`);
    }
    // Emit the string of `code` back to front (chains end at a root, so at most 4096 steps).
    const len = length[code];
    if (len === 1) {
      out[n] = suffix[code];
    } else if (n + len <= limit) {
      for (let c = code, k = n + len - 1; c >= 0; c = prefix[c], k--) out[k] = suffix[c];
    } else {
      for (let c = code, k = n + len - 1; c >= 0; c = prefix[c], k--) if (k < limit) out[k] = suffix[c];
    }
    n += len;
    old = code;
    if (next + 1 >= 1 << bits && bits < 12) bits++;
  }
  return n >= limit ? out : out.slice(0, n);
}

/** PackBits (Apple RLE), writing at most `limit` bytes; header -128 is a no-op as the TIFF spec says. */
export function decodePackBits(input: Uint8Array, limit: number): Uint8Array {
  const out = new Uint8Array(limit);
  let n = 0;
  let i = 0;
  while (i < input.length && n < limit) {
    const h = (input[i++] << 24) >> 24;
    if (h >= 0) {
      const count = Math.min(h + 1, input.length - i, limit - n);
      out.set(input.subarray(i, i + count), n);
      n += count;
      i += h + 1;
    } else if (h !== -128) {
      if (i >= input.length) break;
      const count = Math.min(1 - h, limit - n);
      out.fill(input[i++], n, n + count);
      n += count;
    }
  }
  return n >= limit ? out : out.slice(0, n);
}

class BoundedLzwDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBuffer): ArrayBuffer {
    return decodeLzw(new Uint8Array(buffer), decodedSize((this as unknown as { parameters: DecoderParameters }).parameters)).buffer as ArrayBuffer;
  }
}

class BoundedPackBitsDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBuffer): ArrayBuffer {
    return decodePackBits(new Uint8Array(buffer), decodedSize((this as unknown as { parameters: DecoderParameters }).parameters)).buffer as ArrayBuffer;
  }
}

type Directory = Parameters<NonNullable<Parameters<typeof addDecoder>[2]>>[0];

/** geotiff's default parameters, except that a strip is never taller than the image (RowsPerStrip may be 2^32-1). */
export async function decoderParameters(dir: Directory): Promise<DecoderParameters & { predictor: number }> {
  const load = (name: string) => dir.loadValue(name as never) as Promise<unknown>;
  const tiled = !dir.hasTag('StripOffsets');
  const height = Number(await load('ImageLength'));
  return {
    tileWidth: Number(await load(tiled ? 'TileWidth' : 'ImageWidth')),
    tileHeight: tiled ? Number(await load('TileLength')) : Math.min(height, Number(await load('RowsPerStrip')) || height),
    planarConfiguration: Number(await load('PlanarConfiguration')) || 1,
    bitsPerSample: (await load('BitsPerSample')) as number | ArrayLike<number> | undefined,
    predictor: Number(await load('Predictor')) || 1,
  };
}

/** Deflate through Node's zlib (C): about 3× faster than geotiff's pako on 16-bit images, same bytes. */
class NodeDeflateDecoder extends BaseDecoder {
  override decodeBlock(buffer: ArrayBuffer): ArrayBuffer {
    const out = zlib.inflateSync(new Uint8Array(buffer), {
      maxOutputLength: decodedSize((this as unknown as { parameters: DecoderParameters }).parameters) + 1024,
    });
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
  }
}

let registered = false;

/** Replaces geotiff's LZW (5), PackBits (32773) and Deflate (8, 32946) decoders, in-thread; idempotent. */
export function registerBoundedDecoders(): void {
  if (registered) return;
  registered = true;
  const params = decoderParameters as unknown as NonNullable<Parameters<typeof addDecoder>[2]>;
  addDecoder(5, async () => BoundedLzwDecoder as unknown as typeof BaseDecoder, params, false);
  addDecoder(32773, async () => BoundedPackBitsDecoder as unknown as typeof BaseDecoder, params, false);
  addDecoder([8, 32946], async () => NodeDeflateDecoder as unknown as typeof BaseDecoder, params, false);
}
