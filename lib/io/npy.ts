/**
 * NumPy .npy input, shape (C,H,W) or (H,W), little-endian u1/u2/f4, C order; one image of an (N,C,H,W) stack when
 * opened with `image` (lib/io/stack.ts).
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

/**
 * Parses the header of a .npy file (format versions 1–3). Throws InputError naming `file`. `ranks`: the shapes
 * accepted — (C, H, W) or (H, W) by default, [4] for an (images, C, H, W) stack.
 */
export function parseNpyHeader(file: string, head: Uint8Array, ranks: readonly number[] = [2, 3]): NpyHeader {
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
  if (!ranks.includes(shape.length)) {
    const expected = ranks.includes(4) ? 'is not (images, C, H, W)' : 'is neither (C, H, W) nor (H, W)';
    throw new InputError(`${file}: .npy shape (${shape.join(', ')}) ${expected}`, 'ERR_SCSEG_SHAPE');
  }
  return { dtype, shape, dataOffset: start + headerLen };
}

export interface NpyOpenOptions {
  /**
   * Reads image `image` of an (images, C, H, W) file (lib/io/stack.ts); the file must then be 4-D. Without it the
   * file must be (C, H, W) or (H, W).
   */
  image?: number;
}

export class NpySource extends BaseImageSource {
  readonly format = 'npy' as const;
  /** Images in the file when it is an (images, C, H, W) stack opened with `image`. */
  readonly imageCount?: number;
  private fh?: fs.promises.FileHandle;
  /** Byte offset of this image's first channel. */
  private readonly base: number;

  private constructor(private readonly file: string, private readonly header: NpyHeader, image = 0) {
    const s = header.shape;
    const r = s.length;
    super([file], r >= 3 ? s[r - 3] : 1, s[r - 2], s[r - 1], header.dtype);
    if (r === 4) this.imageCount = s[0];
    this.base = header.dataOffset + image * this.channelCount * this.height * this.width * bytesPerPixel(header.dtype);
  }

  static async open(file: string, options: NpyOpenOptions = {}): Promise<NpySource> {
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
    const image = options.image;
    const header = parseNpyHeader(file, head, image === undefined ? [2, 3] : [4]);
    if (image !== undefined && !(Number.isSafeInteger(image) && image >= 0 && image < header.shape[0])) {
      throw new InputError(`${file}: image ${image} out of range: the file holds ${header.shape[0]} images`, 'ERR_SCSEG_ARGUMENT');
    }
    // in 64-bit: a lying header's product may be beyond 2^53
    const need = BigInt(header.dataOffset) + header.shape.reduce((a, b) => a * BigInt(b), 1n) * BigInt(bytesPerPixel(header.dtype));
    if (BigInt(size) < need) throw new InputError(`${file}: truncated .npy: ${size} bytes, header implies ${need}`, IO_CORRUPT);
    return new NpySource(file, header, image);
  }

  protected async decodeWindow(channel: number, win: PixelWindow): Promise<PixelArray> {
    this.fh ??= await fs.promises.open(this.file, 'r');
    const bpp = bytesPerPixel(this.dtype);
    const out = allocPixels(this.dtype, win.width * win.height);
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const plane = this.base + channel * this.width * this.height * bpp;
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
