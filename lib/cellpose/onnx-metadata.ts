/**
 * The custom metadata of an ONNX model (`ModelProto.metadata_props`, field 14: StringStringEntryProto {key = 1,
 * value = 2}), read straight from the file's protobuf: ONNX Runtime's JavaScript API does not expose it. Only the
 * top-level fields are walked; the graph (field 7, most of the file) is skipped by its length.
 */
import { InputError } from '../errors.js';

const METADATA_PROPS = 14;

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end: number,
    readonly what: string,
  ) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** Skips a field of the wire type, or returns [start, end) of a length-delimited one. */
  skip(wire: number): [number, number] | null {
    switch (wire) {
      case 0:
        this.varint();
        return null;
      case 1:
        return this.advance(8), null;
      case 5:
        return this.advance(4), null;
      case 2: {
        const n = this.varint();
        const start = this.pos;
        this.advance(n);
        return [start, this.pos];
      }
      default:
        return this.fail(`unsupported wire type ${wire}`);
    }
  }

  advance(n: number): void {
    if (this.pos + n > this.end) this.fail('field runs past the end');
    this.pos += n;
  }

  fail(why: string): never {
    throw new InputError(`${this.what} is not a valid ONNX model (${why} at byte ${this.pos})`, 'ERR_SCSEG_MODEL');
  }
}

/** `metadata_props` of an ONNX file's bytes as a record (later keys win); `what` names the file in errors. */
export function readOnnxMetadata(bytes: Uint8Array, what = 'the model'): Record<string, string> {
  const out: Record<string, string> = {};
  const top = new Reader(bytes, bytes.length, what);
  const text = new TextDecoder('utf-8', { fatal: false });
  while (top.pos < top.end) {
    const tag = top.varint();
    const span = top.skip(tag % 8);
    if (Math.floor(tag / 8) !== METADATA_PROPS || !span) continue;
    const entry = new Reader(bytes, span[1], what);
    entry.pos = span[0];
    let key = '';
    let value = '';
    while (entry.pos < entry.end) {
      const t = entry.varint();
      const s = entry.skip(t % 8);
      if (!s) continue;
      const field = Math.floor(t / 8);
      if (field === 1) key = text.decode(bytes.subarray(s[0], s[1]));
      else if (field === 2) value = text.decode(bytes.subarray(s[0], s[1]));
    }
    out[key] = value;
  }
  return out;
}
