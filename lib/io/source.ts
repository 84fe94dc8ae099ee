/**
 * The one reading interface of lib/io: every input format opens into an `ImageSource`, a C×H×W image whose
 * shape and dtype are known without decoding pixels, and whose channels (or windows of them) are decoded on demand.
 */
import fs from 'node:fs';
import { InputError } from '../errors.js';
import type { DType, Image2D, PixelArray, PixelWindow } from '../image.js';

/** C×H×W pixel data as separate planes, all of one dtype and shape (channels[i] is input channel indices[i]). */
export interface ChannelStack {
  readonly channels: Image2D[];
  readonly width: number;
  readonly height: number;
  readonly dtype: DType;
}

export type { PixelWindow } from '../image.js';

export type ImageFormat = 'tiff' | 'ome-zarr' | 'hdf5' | 'npy' | 'file-list';

export interface ImageSource {
  readonly format: ImageFormat;
  /** The file(s) or directory this source reads; error messages name them. */
  readonly paths: readonly string[];
  /** [channels, height, width]. */
  readonly shape: readonly [number, number, number];
  readonly dtype: DType;
  readonly channelCount: number;
  readonly width: number;
  readonly height: number;
  /** Channel names when the container records them (OME metadata, file names of a list); else undefined. */
  readonly channelNames?: readonly string[];
  /** Decodes one whole channel. */
  readChannel(channel: number): Promise<Image2D>;
  /** Decodes a rectangle of one channel, touching only the strips/tiles/chunks/rows that intersect it. */
  readWindow(channel: number, window: PixelWindow): Promise<Image2D>;
  /** Decodes the given channels, in the given order (repeats allowed). */
  readChannels(channels: readonly number[]): Promise<ChannelStack>;
  /** Releases file handles. Further reads fail with an InputError. */
  close(): Promise<void>;
}

/** Error codes raised by lib/io (besides the package-wide ERR_SCSEG_DTYPE / _SHAPE / _ARGUMENT). */
export const IO_NOT_FOUND = 'ERR_SCSEG_IO_NOT_FOUND';
export const IO_FORMAT = 'ERR_SCSEG_IO_FORMAT';
export const IO_CORRUPT = 'ERR_SCSEG_IO_CORRUPT';
export const IO_WRITE = 'ERR_SCSEG_IO_WRITE';

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Wraps anything thrown by a third-party decoder into one InputError naming the file; InputErrors pass through. */
export function asInputError(e: unknown, file: string, what: string, code = IO_CORRUPT): InputError {
  if (e instanceof InputError) return e;
  return new InputError(`${file}: ${what}: ${errorMessage(e)}`, code, { cause: e });
}

/** stat() that turns "missing" and "wrong kind" into InputErrors. */
export function statInput(file: string, kind: 'file' | 'directory' | 'any' = 'any'): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(`${file}: no such file or directory`, IO_NOT_FOUND);
    throw new InputError(`${file}: cannot access: ${errorMessage(e)}`, IO_NOT_FOUND, { cause: e });
  }
  if (kind === 'file' && !st.isFile()) throw new InputError(`${file}: not a regular file`, IO_FORMAT);
  if (kind === 'directory' && !st.isDirectory()) throw new InputError(`${file}: not a directory`, IO_FORMAT);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    throw new InputError(`${file}: not readable: ${errorMessage(e)}`, IO_NOT_FOUND, { cause: e });
  }
  return st;
}

export function allocPixels(dtype: DType, length: number): PixelArray {
  if (dtype === 'uint8') return new Uint8Array(length);
  if (dtype === 'uint16') return new Uint16Array(length);
  return new Float32Array(length);
}

export function bytesPerPixel(dtype: DType): number {
  return dtype === 'uint8' ? 1 : dtype === 'uint16' ? 2 : 4;
}

/** Reverses the byte order of each element in place (big-endian file data → host order). */
export function swapBytes(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const t = bytes[i]; bytes[i] = bytes[i + 1]; bytes[i + 1] = t;
    }
  } else if (elementSize === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      let t = bytes[i]; bytes[i] = bytes[i + 3]; bytes[i + 3] = t;
      t = bytes[i + 1]; bytes[i + 1] = bytes[i + 2]; bytes[i + 2] = t;
    }
  } else if (elementSize === 8) {
    for (let i = 0; i + 7 < bytes.length; i += 8) {
      for (let k = 0; k < 4; k++) {
        const t = bytes[i + k]; bytes[i + k] = bytes[i + 7 - k]; bytes[i + 7 - k] = t;
      }
    }
  }
}

/** One positional read from a file into a destination buffer. */
export interface ReadRequest {
  readonly position: number;
  readonly length: number;
  readonly target: Uint8Array;
  readonly targetOffset: number;
}

/** Requests closer than this in the file are served by one read through the gap (cheaper than a syscall each). */
const MAX_GAP = 64 * 1024;
const MAX_SPAN = 32 * 1024 * 1024;

/**
 * Runs positional reads with a few in flight. Requests that follow each other in the file with small gaps are
 * served by one read of the whole span, then scattered to their targets (a window of a strip image costs one read
 * per strip, not one per row). A short read means the file is shorter than its header claims: InputError.
 */
export async function readRanges(fh: fs.promises.FileHandle, file: string, requests: ReadRequest[]): Promise<void> {
  const groups: ReadRequest[][] = [];
  for (const r of requests) {
    if (r.length === 0) continue;
    const g = groups[groups.length - 1];
    const last = g?.[g.length - 1];
    if (last && r.position >= last.position + last.length && r.position - (last.position + last.length) <= MAX_GAP &&
        r.position + r.length - g[0].position <= MAX_SPAN) {
      g.push(r);
    } else {
      groups.push([r]);
    }
  }
  const readExactly = async (target: Uint8Array, offset: number, length: number, position: number): Promise<void> => {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(target, offset + done, length - done, position + done);
      if (bytesRead === 0) {
        throw new InputError(
          `${file}: truncated: expected ${length} bytes at offset ${position}, file ends after ${done}`,
          IO_CORRUPT,
        );
      }
      done += bytesRead;
    }
  };
  const serve = async (g: ReadRequest[]): Promise<void> => {
    const start = g[0].position;
    const end = g[g.length - 1].position + g[g.length - 1].length;
    const direct = g.every((r, i) => i === 0 ||
      (r.target === g[0].target && r.position === g[i - 1].position + g[i - 1].length &&
        r.targetOffset === g[i - 1].targetOffset + g[i - 1].length));
    if (direct) return readExactly(g[0].target, g[0].targetOffset, end - start, start);
    const span = new Uint8Array(end - start);
    await readExactly(span, 0, span.length, start);
    for (const r of g) r.target.set(span.subarray(r.position - start, r.position - start + r.length), r.targetOffset);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < groups.length) await serve(groups[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(8, groups.length) }, worker));
}

/**
 * Shape checks, channel/window validation and the derived reads, shared by every format. Subclasses provide
 * `decodeWindow` for an already validated channel and window.
 */
export abstract class BaseImageSource implements ImageSource {
  abstract readonly format: ImageFormat;
  readonly channelCount: number;
  readonly width: number;
  readonly height: number;
  readonly shape: readonly [number, number, number];
  readonly channelNames?: readonly string[];
  protected closed = false;

  protected constructor(
    readonly paths: readonly string[],
    channels: number,
    height: number,
    width: number,
    readonly dtype: DType,
    channelNames?: readonly string[],
  ) {
    const label = paths.join(', ');
    for (const [v, what] of [[channels, 'channel count'], [height, 'height'], [width, 'width']] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) {
        throw new InputError(`${label}: ${what} must be a positive integer, got ${v}`, 'ERR_SCSEG_SHAPE');
      }
    }
    if (BigInt(channels) * BigInt(height) * BigInt(width) > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new InputError(`${label}: ${channels}×${height}×${width} pixels: too large to address`, 'ERR_SCSEG_TOO_LARGE');
    }
    this.channelCount = channels;
    this.height = height;
    this.width = width;
    this.shape = [channels, height, width];
    if (channelNames && channelNames.length === channels) this.channelNames = channelNames;
  }

  /** The name used in error messages. */
  protected get label(): string {
    return this.paths.length === 1 ? this.paths[0] : `${this.paths[0]} (+${this.paths.length - 1} more)`;
  }

  protected abstract decodeWindow(channel: number, window: PixelWindow): Promise<PixelArray>;
  protected abstract release(): Promise<void>;

  protected checkChannel(channel: number): void {
    if (this.closed) throw new InputError(`${this.label}: image source is closed`, 'ERR_SCSEG_ARGUMENT');
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.channelCount) {
      throw new InputError(
        `${this.label}: channel index ${String(channel)} out of range: the image has ${this.channelCount} ` +
          `channel${this.channelCount === 1 ? '' : 's'} (valid 0..${this.channelCount - 1})`,
        'ERR_SCSEG_ARGUMENT',
      );
    }
  }

  protected checkWindow(window: PixelWindow): void {
    const w = window as Partial<PixelWindow> | null;
    const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
    if (!w || !ok(w.x) || !ok(w.y) || !ok(w.width) || !ok(w.height) || w.x < 0 || w.y < 0 || w.width <= 0 ||
        w.height <= 0 || w.x + w.width > this.width || w.y + w.height > this.height) {
      const desc = w ? `{x: ${w.x}, y: ${w.y}, width: ${w.width}, height: ${w.height}}` : String(w);
      throw new InputError(
        `${this.label}: window ${desc} is not inside the ${this.width}×${this.height} image`,
        'ERR_SCSEG_ARGUMENT',
      );
    }
  }

  async readWindow(channel: number, window: PixelWindow): Promise<Image2D> {
    this.checkChannel(channel);
    this.checkWindow(window);
    const data = await this.decode(channel, window);
    return { data, width: window.width, height: window.height };
  }

  readChannel(channel: number): Promise<Image2D> {
    return this.readWindow(channel, { x: 0, y: 0, width: this.width, height: this.height });
  }

  async readChannels(channels: readonly number[]): Promise<ChannelStack> {
    if (!Array.isArray(channels)) {
      throw new InputError(`${this.label}: channels must be an array of indices`, 'ERR_SCSEG_ARGUMENT');
    }
    for (const c of channels) this.checkChannel(c);
    const planes: Image2D[] = [];
    for (const c of channels) planes.push(await this.readChannel(c));
    return { channels: planes, width: this.width, height: this.height, dtype: this.dtype };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  private async decode(channel: number, window: PixelWindow): Promise<PixelArray> {
    let data: PixelArray;
    try {
      data = await this.decodeWindow(channel, window);
    } catch (e) {
      throw asInputError(e, this.label, `cannot decode channel ${channel}`);
    }
    if (data.length !== window.width * window.height) {
      throw new InputError(
        `${this.label}: decoder returned ${data.length} pixels for a ${window.width}×${window.height} window`,
        IO_CORRUPT,
      );
    }
    return data;
  }
}
