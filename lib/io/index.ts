/**
 * Reading input images and writing segmentation results.
 *
 * Read: `openImage(path | paths)` → `ImageSource` (shape/dtype/channelCount known before any pixel is decoded;
 * `readChannel`, `readWindow`, `readChannels` decode on demand). Formats: TIFF/OME-TIFF/BigTIFF, OME-Zarr,
 * HDF5, .npy, and lists of single-channel images.
 * Write (all atomic: temp file + fsync + rename): `writeSegmentationH5`, `writeClassesCsv`, `writeOmeZarrLabels`,
 * `writeQcOverlay`; larger-than-memory label images band by band with `openSegmentationH5Writer` and
 * `openOmeZarrLabelsWriter`.
 */
export type { ChannelStack, ImageFormat, ImageSource, PixelWindow } from './source.js';
export { IO_CORRUPT, IO_FORMAT, IO_NOT_FOUND, IO_WRITE } from './source.js';
export { openImage, FileListSource } from './open.js';
export type { OpenImageOptions } from './open.js';
export { TiffSource, parseOmeXml } from './tiff.js';
export { NpySource, parseNpyHeader } from './npy.js';
export type { NpyHeader } from './npy.js';
export { Hdf5Source, H5_CHANNELS_DATASET, H5_LABELS_DATASET, H5_DEFAULT_CHUNK_SIZE } from './hdf5.js';
export type { Hdf5OpenOptions } from './hdf5.js';
export { ZarrSource, readOmeZarrLabels, listOmeZarrLabels } from './zarr.js';
export {
  openSegmentationH5Writer, openOmeZarrLabelsWriter, writeSegmentationH5, writeOmeZarrLabels,
} from './label-writers.js';
export type {
  LabelBandWriter, SegmentationH5WriterOptions, SegmentationH5Options, OmeZarrLabelsWriterOptions, OmeZarrLabelsOptions,
} from './label-writers.js';
export { writeClassesCsv, readClassesCsv } from './classes.js';
export { encodeQcOverlay, encodeRgbPng, encodeRgbPngAsync, writeQcOverlay, renderQcOverlay, percentiles, QC_COLORS } from './overlay.js';
export type { QcOverlayOptions, Rgb } from './overlay.js';
export { writeAtomic, writeFileAtomic, replaceDirAtomic } from './atomic.js';
export type { WriteProgress } from './labels.js';
