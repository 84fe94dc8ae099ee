/**
 * NumPy .npy input, shape (C,H,W) or (H,W), little-endian u1/u2/f4, C order.
 *
 * Our own header parser rather than the npm package npyjs: npyjs parses only a whole in-memory buffer, while we
 * read the header alone to probe and then only the rows of the requested channel/window.
 */
import fs from 'node:fs';
import { InputError } from '../errors.js';
import type { DType, PixelArray } from '../image.js';
import {
  allocPixels, BaseImageSource, bytesPerPixel, IO_CORRUPT, IO_FORMAT, type PixelWindow, readRanges, type ReadRequest,
  statInput,
} from './source.js';

const MAGIC = '\x93NUMPY';
const DESCR: Record<string, DType> = { '|u1': 'uint8', '<u1': 'uint8', '|b1': 'uint8', '<u2': 'uint16', '<f4': 'float32' };

export interface NpyHeader {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly dataOffset: number;
}

/** Parses the header of a .npy file (format versions 1–3). Throws InputError naming `file`. */
export function parseNpyHeader(file: string, head: Uint8Array): NpyHeader {
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (text.length < 10 || text.toString('latin1', 0, 6) !== MAGIC) {
    throw new InputError(`${file}: not a .npy file (bad magic)`, IO_FORMAT);
  }
  const major = text[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = text.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (text.length < 12) throw new InputError(`${file}: truncated .npy header`, IO_CORRUPT);
    headerLen = text.readUInt32LE(8);
    start = 12;
  } else {
    throw new InputError(`${file}: unsupported .npy format version ${major}`, IO_FORMAT);
  }
  if (start + headerLen > text.length) throw new InputError(`${file}: truncated .npy header`, IO_CORRUPT);
  const dict = text.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(dict)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new InputError(`${file}: malformed .npy header ${JSON.stringify(dict.trim())}`, IO_CORRUPT);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new InputError(`${file}: malformed .npy shape (${shapeText})`, IO_CORRUPT);
  }
  const dtype = DESCR[descr];
  if (!dtype) {
    const hint = descr.startsWith('>') ? ' (big-endian; convert with arr.astype(arr.dtype.newbyteorder("<")))' : '';
    throw new InputError(
      `${file}: unsupported .npy dtype '${descr}'${hint}; supported: uint8 (u1), uint16 (<u2), float32 (<f4)`,
      'ERR_SCSEG_DTYPE',
    );
  }
  if (fortran === 'True' && shape.length > 1) {
    throw new InputError(`${file}: Fortran-ordered .npy is not supported; save np.ascontiguousarray(arr)`, IO_FORMAT);
  }
  if (shape.length !== 2 && shape.length !== 3) {
    throw new InputError(`${file}: .npy shape (${shape.join(', ')}) is neither (C, H, W) nor (H, W)`, 'ERR_SCSEG_SHAPE');
  }
  return { dtype, shape, dataOffset: start + headerLen };
}

export class NpySource extends BaseImageSource {
  readonly format = 'npy' as const;
  private fh?: fs.promises.FileHandle;

  private constructor(private readonly file: string, private readonly header: NpyHeader) {
    const s = header.shape;
    super([file], s.length === 3 ? s[0] : 1, s[s.length - 2], s[s.length - 1], header.dtype);
  }

  static async open(file: string): Promise<NpySource> {
    const size = statInput(file, 'file').size;
    const fd = await fs.promises.open(file, 'r');
    let head: Uint8Array;
    try {
      const buf = new Uint8Array(Math.min(size, 65536 + 12));
      const { bytesRead } = await fd.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fd.close();
    }
    const header = parseNpyHeader(file, head);
    const source = new NpySource(file, header);
    const need = header.dataOffset + source.channelCount * source.height * source.width * bytesPerPixel(header.dtype);
    if (size < need) throw new InputError(`${file}: truncated .npy: ${size} bytes, header implies ${need}`, IO_CORRUPT);
    return source;
  }

  protected async decodeWindow(channel: number, win: PixelWindow): Promise<PixelArray> {
    this.fh ??= await fs.promises.open(this.file, 'r');
    const bpp = bytesPerPixel(this.dtype);
    const out = allocPixels(this.dtype, win.width * win.height);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const plane = this.header.dataOffset + channel * this.width * this.height * bpp;
    const requests: ReadRequest[] = [];
    for (let r = 0; r < win.height; r++) {
      requests.push({
        position: plane + ((win.y + r) * this.width + win.x) * bpp,
        length: win.width * bpp,
        target: bytes,
        targetOffset: r * win.width * bpp,
      });
    }
    await readRanges(this.fh, this.file, requests);
    return out;
  }

  protected async release(): Promise<void> {
    await this.fh?.close();
  }
}
