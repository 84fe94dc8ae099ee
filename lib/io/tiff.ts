/**
 * TIFF / OME-TIFF / BigTIFF input through geotiff.
 *
 * Channels are pages × samples: a multi-page file gives one channel per page (reduced-resolution and mask pages
 * skipped), a multi-sample page one channel per sample, and both combine page-major. OME-TIFF uses the first
 * SizeC/SamplesPerPixel pages of the first image and its channel names; OME and ImageJ z-stacks or time series are
 * rejected rather than read as channels. Uncompressed strip images are read with positional reads of exactly the
 * window's rows (no decoder); everything else goes through geotiff, which fetches only the strips or tiles that
 * intersect the window. Supported compressions: none, LZW, Deflate (8 and 32946), PackBits, Zstd; with or without
 * horizontal/float predictor; either byte order; planar configuration 1 or 2.
 */
import fs from 'node:fs';
import type { GeoTIFF, GeoTIFFImage } from 'geotiff';
import { InputError } from '../errors.js';
import type { DType, PixelArray } from '../image.js';
import {
  allocPixels, asInputError, BaseImageSource, bytesPerPixel, IO_CORRUPT, IO_FORMAT, type PixelWindow, readRanges,
  type ReadRequest, statInput, swapBytes,
} from './source.js';

let geotiff: Promise<{ lib: typeof import('geotiff'); codecs: typeof import('./tiff-codecs.js') }> | undefined;
/** geotiff (~50 modules, ~55 ms to import) and our codecs over it, loaded when a TIFF is first opened. */
function loadGeotiff(): NonNullable<typeof geotiff> {
  // One after the other: jest's ESM loader fails on two concurrent imports that share modules ("not in cache").
  return (geotiff ??= import('geotiff').then(async (lib) => {
    const codecs = await import('./tiff-codecs.js');
    codecs.registerBoundedDecoders();
    return { lib, codecs };
  }));
}

const COMPRESSION_NAMES: Record<number, string> = {
  1: 'none', 2: 'CCITT RLE', 3: 'CCITT G3', 4: 'CCITT G4', 5: 'LZW', 6: 'old-style JPEG', 7: 'JPEG', 8: 'Deflate',
  32773: 'PackBits', 32946: 'Deflate', 34712: 'JPEG 2000', 34887: 'LERC', 34925: 'LZMA', 50000: 'Zstd',
  50001: 'WebP', 50002: 'JPEG XL',
};
const SUPPORTED_COMPRESSION = new Set([1, 5, 8, 32773, 32946, 50000]);
/**
 * Most bytes one stored byte can decode to, per compression (Deflate ~1032:1; LZW: a 9-bit code yields at most
 * a 4 KiB string; PackBits 2 → 128; Zstd: an RLE block of 4 bytes → 128 KiB). A header claiming more pixels than
 * its segments can hold is corrupt — refused at open, before a decoder is asked to fill a huge buffer.
 */
const MAX_EXPANSION: Record<number, number> = { 5: 4096, 8: 1100, 32946: 1100, 32773: 64, 50000: 1 << 16 };
/** More pages than this in one chain is treated as a corrupt (looping or garbage) IFD chain. */
const MAX_PAGES = 1 << 16;

/** Tag values as geotiff returns them: numbers, number arrays, typed arrays or strings. */
type TagValue = number | string | ArrayLike<number | bigint> | undefined;

interface PageLayout {
  readonly ifdIndex: number;
  readonly image: GeoTIFFImage;
  readonly width: number;
  readonly height: number;
  readonly samples: number;
  readonly bits: number;
  readonly dtype: DType;
  readonly compression: number;
  readonly planar: 1 | 2;
  readonly tiled: boolean;
  readonly littleEndian: boolean;
  /** Uncompressed strips only: byte offset of each strip (direct reads). */
  stripOffsets?: number[];
  rowsPerStrip: number;
}

function tag(image: GeoTIFFImage, name: string): TagValue {
  return image.fileDirectory.getValue(name as never) as TagValue;
}

async function loadTag(image: GeoTIFFImage, name: string): Promise<TagValue> {
  return (await image.fileDirectory.loadValue(name as never)) as TagValue;
}

function first(v: TagValue, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return fallback;
  return v.length > 0 ? Number(v[0]) : fallback;
}

function numbers(v: TagValue): number[] {
  if (v === undefined || typeof v === 'string') return [];
  if (typeof v === 'number') return [v];
  return Array.from(v, Number);
}

function sampleTypeName(format: number, bits: number): string {
  if (bits === 1) return 'bilevel (1-bit)';
  const kind = format === 2 ? 'int' : format === 3 ? 'float' : format === 1 ? 'uint' : `sample-format-${format} `;
  return `${kind}${bits}`;
}

function dtypeOfPage(file: string, page: number, image: GeoTIFFImage, samples: number): { dtype: DType; bits: number } {
  const bitsList = numbers(tag(image, 'BitsPerSample'));
  const formatList = numbers(tag(image, 'SampleFormat'));
  const bits = bitsList.length ? bitsList : [1];
  const formats = formatList.length ? formatList : [1];
  const b0 = bits[0];
  const f0 = formats[0];
  for (let s = 1; s < samples; s++) {
    if ((bits[s] ?? b0) !== b0 || (formats[s] ?? f0) !== f0) {
      throw new InputError(`${file}: page ${page} mixes sample types across its ${samples} samples`, 'ERR_SCSEG_DTYPE');
    }
  }
  const name = sampleTypeName(f0, b0);
  if (name === 'uint8' || name === 'uint16' || name === 'float32') return { dtype: name, bits: b0 };
  throw new InputError(
    `${file}: unsupported pixel type ${name} (page ${page}); supported: uint8, uint16, float32`,
    'ERR_SCSEG_DTYPE',
  );
}

/** Reads the header ourselves so that "not a TIFF" is reported before geotiff guesses. */
function checkHeader(file: string, size: number): void {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(16);
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  const bo = head.toString('latin1', 0, 2);
  const le = bo === 'II';
  if ((bo !== 'II' && bo !== 'MM') || n < 8) throw new InputError(`${file}: not a TIFF file (bad header)`, IO_FORMAT);
  const magic = le ? head.readUInt16LE(2) : head.readUInt16BE(2);
  if (magic !== 42 && magic !== 43) throw new InputError(`${file}: not a TIFF file (bad magic number ${magic})`, IO_FORMAT);
  const firstIfd = magic === 42
    ? (le ? head.readUInt32LE(4) : head.readUInt32BE(4))
    : Number(le ? head.readBigUInt64LE(8) : head.readBigUInt64BE(8));
  if (firstIfd < 8 || firstIfd >= size) {
    throw new InputError(`${file}: corrupt or truncated TIFF: first IFD offset ${firstIfd} outside the ${size}-byte file`, IO_CORRUPT);
  }
}

interface OmeInfo {
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  channelNames: string[];
  samplesPerChannel: number;
}

function xmlAttr(element: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(element);
  return m ? m[1] : undefined;
}

function unescapeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The first image of an OME-XML description: sizes and channel names (a regex read; OME-XML is flat enough). */
export function parseOmeXml(xml: string): OmeInfo | undefined {
  if (!/<(\w+:)?OME[\s>]/.test(xml)) return undefined;
  const imageStart = xml.search(/<(\w+:)?Image[\s>]/);
  const body = imageStart >= 0 ? xml.slice(imageStart) : xml;
  const imageEnd = body.search(/<\/(\w+:)?Image>/);
  const image = imageEnd >= 0 ? body.slice(0, imageEnd) : body;
  const pixels = /<(?:\w+:)?Pixels\b[^>]*>/.exec(image)?.[0];
  if (!pixels) return undefined;
  const int = (name: string) => {
    const v = xmlAttr(pixels, name);
    return v === undefined ? 1 : Number.parseInt(v, 10);
  };
  const channels = image.match(/<(?:\w+:)?Channel\b[^>]*>/g) ?? [];
  const names = channels.map((c, i) => unescapeXml(xmlAttr(c, 'Name') ?? `C${i}`));
  const spp = channels.length ? Number.parseInt(xmlAttr(channels[0] ?? '', 'SamplesPerPixel') ?? '1', 10) : 1;
  return { sizeC: int('SizeC'), sizeZ: int('SizeZ'), sizeT: int('SizeT'), channelNames: names, samplesPerChannel: spp || 1 };
}

function imageJCounts(desc: string): { images: number; slices: number; frames: number } | undefined {
  if (!desc.startsWith('ImageJ=')) return undefined;
  const get = (k: string) => {
    const m = new RegExp(`^${k}=(\\d+)`, 'm').exec(desc);
    return m ? Number(m[1]) : 1;
  };
  return { images: get('images'), slices: get('slices'), frames: get('frames') };
}

/**
 * A geotiff data source whose reads stop at the end of the file. geotiff's own file source zero-fills reads past
 * the end, so a truncated IFD or tag array would parse as zeros; a short buffer makes geotiff throw instead.
 */
class ExactFileSource {
  private readonly fd: Promise<fs.promises.FileHandle>;

  constructor(file: string, private readonly size: number) {
    this.fd = fs.promises.open(file, 'r');
  }

  async fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> {
    const fh = await this.fd;
    return Promise.all(slices.map(async ({ offset, length }) => {
      const n = Math.max(0, Math.min(length, this.size - offset));
      const buf = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await fh.read(buf, done, n - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === n ? buf.buffer : buf.slice(0, done).buffer;
    }));
  }

  get fileSize(): number {
    return this.size;
  }

  async close(): Promise<void> {
    await (await this.fd).close();
  }
}

export class TiffSource extends BaseImageSource {
  readonly format = 'tiff' as const;
  private fh?: fs.promises.FileHandle;

  private constructor(
    private readonly file: string,
    private readonly tiff: GeoTIFF,
    private readonly pages: PageLayout[],
    channelNames: string[] | undefined,
  ) {
    const p0 = pages[0];
    super([file], pages.length * p0.samples, p0.height, p0.width, p0.dtype, channelNames);
  }

  static async open(file: string): Promise<TiffSource> {
    const size = statInput(file, 'file').size;
    checkHeader(file, size);
    const { lib } = await loadGeotiff();
    const source = new ExactFileSource(file, size);
    let tiff: GeoTIFF;
    try {
      tiff = await lib.GeoTIFF.fromSource(source as unknown as Parameters<typeof GeoTIFF.fromSource>[0]);
    } catch (e) {
      await source.close().catch(() => undefined);
      throw asInputError(e, file, 'not a readable TIFF', IO_CORRUPT);
    }
    try {
      const { pages, names } = await TiffSource.layout(file, size, tiff);
      return new TiffSource(file, tiff, pages, names);
    } catch (e) {
      await Promise.resolve(tiff.close()).catch(() => undefined);
      if (e instanceof RangeError) {
        throw new InputError(`${file}: truncated or corrupt TIFF: its directory points past the end of the ${size}-byte file`, IO_CORRUPT, { cause: e });
      }
      throw asInputError(e, file, 'corrupt TIFF');
    }
  }

  /** Walks the IFD chain (guarding against loops and offsets past the end) and decides which pages are channels. */
  private static async layout(file: string, size: number, tiff: GeoTIFF): Promise<{ pages: PageLayout[]; names?: string[] }> {
    const firstImage = await tiff.getImage(0);
    const desc = await loadTag(firstImage, 'ImageDescription');
    const description = typeof desc === 'string' ? desc : '';
    const ome = description.includes('<') ? parseOmeXml(description) : undefined;
    const ij = imageJCounts(description);
    if (ome && ome.sizeZ * ome.sizeT > 1) {
      throw new InputError(
        `${file}: OME-TIFF with SizeZ=${ome.sizeZ}, SizeT=${ome.sizeT}: only 2-D multi-channel images are supported`,
        IO_FORMAT,
      );
    }
    if (ij && ij.slices * ij.frames > 1) {
      throw new InputError(
        `${file}: ImageJ stack with slices=${ij.slices}, frames=${ij.frames}: only 2-D multi-channel images are supported`,
        IO_FORMAT,
      );
    }
    // OME: the first image's planes are the first pages; no need to walk the rest of a large file.
    const wantPages = ome ? Math.max(1, Math.ceil(ome.sizeC / ome.samplesPerChannel)) : MAX_PAGES;
    const images: { index: number; image: GeoTIFFImage }[] = [];
    const seen = new Set<number>([Number(tiff.firstIFDOffset)]);
    for (let i = 0; ; i++) {
      const image = i === 0 ? firstImage : await tiff.getImage(i);
      const subfile = first(tag(image, 'NewSubfileType'), 0);
      // Bit 0: reduced-resolution copy; bit 2: transparency mask. Neither is a channel.
      if (ome || (subfile & 0b101) === 0) images.push({ index: i, image });
      if (images.length >= wantPages) break;
      const next = image.fileDirectory.nextIFDByteOffset;
      if (!next) break;
      if (next >= size || seen.has(next)) {
        throw new InputError(`${file}: corrupt TIFF: IFD ${i + 1} offset ${next} is ${next >= size ? 'past the end of the file' : 'a loop'}`, IO_CORRUPT);
      }
      seen.add(next);
      if (i + 1 >= MAX_PAGES) throw new InputError(`${file}: more than ${MAX_PAGES} pages`, IO_FORMAT);
    }
    if (images.length === 0) throw new InputError(`${file}: no full-resolution image page`, IO_FORMAT);
    if (ome && images.length < wantPages) {
      throw new InputError(
        `${file}: OME-XML declares SizeC=${ome.sizeC} but the file has ${images.length} page(s) ` +
          '(multi-file OME-TIFF is not supported)',
        IO_FORMAT,
      );
    }
    if (ij && ij.images > images.length) {
      throw new InputError(
        `${file}: ImageJ header declares ${ij.images} images but the file has ${images.length} page(s) ` +
          "(ImageJ's contiguous >4 GB layout is not supported)",
        IO_FORMAT,
      );
    }
    const pages: PageLayout[] = [];
    for (const { index, image } of images) pages.push(await TiffSource.page(file, size, index, image));
    const p0 = pages[0];
    for (const p of pages) {
      if (p.width !== p0.width || p.height !== p0.height || p.samples !== p0.samples || p.dtype !== p0.dtype) {
        throw new InputError(
          `${file}: page ${p.ifdIndex} is ${p.width}×${p.height}×${p.samples} ${p.dtype} but page ${p0.ifdIndex} is ` +
            `${p0.width}×${p0.height}×${p0.samples} ${p0.dtype}: pages used as channels must agree`,
          'ERR_SCSEG_SHAPE',
        );
      }
    }
    const names = ome && ome.channelNames.length === pages.length * p0.samples ? ome.channelNames : undefined;
    return { pages, names };
  }

  private static async page(file: string, size: number, index: number, image: GeoTIFFImage): Promise<PageLayout> {
    const width = image.getWidth();
    const height = image.getHeight();
    const samples = image.getSamplesPerPixel();
    if (!(width > 0 && height > 0 && samples > 0)) {
      throw new InputError(`${file}: page ${index} has an invalid size ${width}×${height}×${samples}`, IO_CORRUPT);
    }
    const compression = first(tag(image, 'Compression'), 1);
    if (!SUPPORTED_COMPRESSION.has(compression)) {
      throw new InputError(
        `${file}: unsupported TIFF compression ${COMPRESSION_NAMES[compression] ?? 'unknown'} (${compression}) on page ` +
          `${index}; supported: none, LZW, Deflate, PackBits, Zstd`,
        IO_FORMAT,
      );
    }
    if (first(tag(image, 'PhotometricInterpretation'), 1) === 6) {
      throw new InputError(`${file}: YCbCr TIFF (page ${index}) is not supported`, IO_FORMAT);
    }
    const { dtype, bits } = dtypeOfPage(file, index, image, samples);
    const planar = first(tag(image, 'PlanarConfiguration'), 1) === 2 ? 2 : 1;
    const tiled = image.isTiled;
    const rowsPerStrip = Math.min(height, first(tag(image, 'RowsPerStrip'), height) || height);
    // Every segment must lie inside the file: geotiff would silently zero-fill a truncated one.
    const offsets = numbers(await loadTag(image, tiled ? 'TileOffsets' : 'StripOffsets'));
    const counts = numbers(await loadTag(image, tiled ? 'TileByteCounts' : 'StripByteCounts'));
    let expected: number;
    let segmentBytes: (i: number) => number;
    const sampleBytes = bits / 8;
    const bytesPerRow = (w: number) => w * sampleBytes * (planar === 1 ? samples : 1);
    if (tiled) {
      const tw = image.getTileWidth();
      const th = image.getTileHeight();
      const perPlane = Math.ceil(width / tw) * Math.ceil(height / th);
      expected = perPlane * (planar === 2 ? samples : 1);
      segmentBytes = () => th * bytesPerRow(tw);
    } else {
      const perPlane = Math.ceil(height / rowsPerStrip);
      expected = perPlane * (planar === 2 ? samples : 1);
      segmentBytes = (i) => Math.min(rowsPerStrip, height - (i % perPlane) * rowsPerStrip) * bytesPerRow(width);
    }
    if (offsets.length < expected) {
      throw new InputError(`${file}: corrupt TIFF: page ${index} has ${offsets.length} ${tiled ? 'tile' : 'strip'} offsets, needs ${expected}`, IO_CORRUPT);
    }
    for (let i = 0; i < expected; i++) {
      // Uncompressed data has a known length; a missing or short byte count cannot be trusted.
      const length = compression === 1 ? segmentBytes(i) : counts[i];
      if (length === undefined) {
        throw new InputError(`${file}: corrupt TIFF: page ${index} lacks ${tiled ? 'Tile' : 'Strip'}ByteCounts`, IO_CORRUPT);
      }
      if (compression !== 1 && segmentBytes(i) > length * MAX_EXPANSION[compression]) {
        throw new InputError(
          `${file}: corrupt TIFF: page ${index} ${tiled ? 'tile' : 'strip'} ${i} holds ${length} bytes of ` +
            `${COMPRESSION_NAMES[compression]}, which cannot decode to the ${segmentBytes(i)} bytes its ` +
            `${width}×${height} header implies`,
          IO_CORRUPT,
        );
      }
      if (!(offsets[i] >= 0) || offsets[i] + length > size) {
        throw new InputError(
          `${file}: truncated TIFF: page ${index} ${tiled ? 'tile' : 'strip'} ${i} ends at byte ${offsets[i] + length}, ` +
            `file has ${size}`,
          IO_CORRUPT,
        );
      }
    }
    const layout: PageLayout = {
      ifdIndex: index, image, width, height, samples, bits, dtype, compression, planar, tiled,
      littleEndian: image.littleEndian, rowsPerStrip,
    };
    if (compression === 1 && !tiled) layout.stripOffsets = offsets;
    return layout;
  }

  protected async decodeWindow(channel: number, win: PixelWindow): Promise<PixelArray> {
    const page = this.pages[Math.floor(channel / this.pages[0].samples)];
    const sample = channel % page.samples;
    if (page.stripOffsets) return this.readUncompressed(page, sample, win);
    return this.readBlocks(page, sample, win);
  }

  private decoders = new Map<PageLayout, Promise<Parameters<GeoTIFFImage['getTileOrStrip']>[3]>>();

  /**
   * Compressed or tiled data: geotiff fetches and decodes each strip/tile that intersects the window (predictor
   * applied); we copy the window's rows out of the decoded blocks with typed-array copies, a few blocks at a time.
   */
  private async readBlocks(page: PageLayout, sample: number, win: PixelWindow): Promise<PixelArray> {
    const { image } = page;
    let decoder = this.decoders.get(page);
    if (!decoder) {
      decoder = loadGeotiff().then(async ({ lib, codecs }) =>
        lib.getDecoder(page.compression, (await codecs.decoderParameters(image.fileDirectory as never)) as never));
      this.decoders.set(page, decoder);
    }
    const dec = await decoder;
    const bps = bytesPerPixel(page.dtype);
    const spp = page.planar === 1 ? page.samples : 1;
    const pixelBytes = spp * bps;
    const tw = page.tiled ? image.getTileWidth() : page.width;
    const th = page.tiled ? image.getTileHeight() : page.rowsPerStrip;
    const out = allocPixels(page.dtype, win.width * win.height);
    const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const blocks: [number, number][] = [];
    for (let by = Math.floor(win.y / th); by <= Math.floor((win.y + win.height - 1) / th); by++) {
      for (let bx = Math.floor(win.x / tw); bx <= Math.floor((win.x + win.width - 1) / tw); bx++) blocks.push([bx, by]);
    }
    const inFlight = 8;
    for (let b0 = 0; b0 < blocks.length; b0 += inFlight) {
      const batch = blocks.slice(b0, b0 + inFlight);
      const decoded = await Promise.all(batch.map(([bx, by]) => image.getTileOrStrip(bx, by, sample, dec)));
      decoded.forEach(({ data }, k) => {
        const [bx, by] = batch[k];
        const bytes = new Uint8Array(data as ArrayBuffer);
        const bx0 = bx * tw;
        const by0 = by * th;
        const rows = page.tiled ? th : Math.min(th, page.height - by0);
        if (bytes.length < rows * tw * pixelBytes) {
          throw new InputError(
            `${this.file}: corrupt TIFF: ${page.tiled ? 'tile' : 'strip'} (${bx}, ${by}) of page ${page.ifdIndex} decodes to ` +
              `${bytes.length} bytes, expected ${rows * tw * pixelBytes}`,
            IO_CORRUPT,
          );
        }
        const x0 = Math.max(win.x, bx0);
        const x1 = Math.min(win.x + win.width, bx0 + tw, page.width);
        const y0 = Math.max(win.y, by0);
        const y1 = Math.min(win.y + win.height, by0 + rows);
        for (let y = y0; y < y1; y++) {
          const src = ((y - by0) * tw + (x0 - bx0)) * pixelBytes + (page.planar === 1 ? sample * bps : 0);
          const dst = ((y - win.y) * win.width + (x0 - win.x)) * bps;
          if (spp === 1) {
            outBytes.set(bytes.subarray(src, src + (x1 - x0) * bps), dst);
          } else {
            for (let x = 0; x < x1 - x0; x++) {
              for (let k2 = 0; k2 < bps; k2++) outBytes[dst + x * bps + k2] = bytes[src + x * pixelBytes + k2];
            }
          }
        }
      });
    }
    if (!page.littleEndian && bps > 1) swapBytes(outBytes, bps);
    return out;
  }

  /** Positional reads of the window's bytes, row by row (merged when contiguous), no decoder involved. */
  private async readUncompressed(page: PageLayout, sample: number, win: PixelWindow): Promise<PixelArray> {
    this.fh ??= await fs.promises.open(this.file, 'r');
    const bps = bytesPerPixel(page.dtype);
    const out = allocPixels(page.dtype, win.width * win.height);
    const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const chunky = page.planar === 1 && page.samples > 1;
    const pixelBytes = page.planar === 1 ? page.samples * bps : bps;
    const rowBytes = page.width * pixelBytes;
    const stripsPerPlane = Math.ceil(page.height / page.rowsPerStrip);
    const offsets = page.stripOffsets!;
    const lineBytes = win.width * pixelBytes;
    const staging = chunky ? new Uint8Array(lineBytes * win.height) : outBytes;
    const requests: ReadRequest[] = [];
    for (let r = 0; r < win.height; r++) {
      const y = win.y + r;
      const strip = Math.floor(y / page.rowsPerStrip) + (page.planar === 2 ? sample * stripsPerPlane : 0);
      const position = offsets[strip] + (y % page.rowsPerStrip) * rowBytes + win.x * pixelBytes;
      requests.push({ position, length: lineBytes, target: staging, targetOffset: r * lineBytes });
    }
    await readRanges(this.fh, this.file, requests);
    if (chunky) {
      const stride = page.samples * bps;
      for (let i = 0, src = sample * bps; i < win.width * win.height; i++, src += stride) {
        for (let k = 0; k < bps; k++) outBytes[i * bps + k] = staging[src + k];
      }
    }
    if (!page.littleEndian && bps > 1) swapBytes(outBytes, bps);
    return out;
  }

  protected async release(): Promise<void> {
    await this.fh?.close();
    await Promise.resolve(this.tiff.close()).catch(() => undefined);
  }
}
