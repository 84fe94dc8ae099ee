/**
 * Reading input images and writing segmentation results.
 *
 * Read: `openImage(path | paths)` → `ImageSource` (shape/dtype/channelCount known before any pixel is decoded;
 * `readChannel`, `readWindow`, `readChannels` decode on demand). Formats: TIFF/OME-TIFF/BigTIFF, OME-Zarr,
 * HDF5, .npy, and lists of single-channel images.
 * Write (all atomic: temp file + fsync + rename): `writeSegmentationH5`, `writeClassesCsv`, `writeOmeZarrLabels`,
 * `writeQcOverlay`.
 */
export type { ChannelStack, ImageFormat, ImageSource, PixelWindow } from './source.js';
export { IO_CORRUPT, IO_FORMAT, IO_NOT_FOUND, IO_WRITE } from './source.js';
export { openImage, FileListSource } from './open.js';
export type { OpenImageOptions } from './open.js';
export { TiffSource, parseOmeXml } from './tiff.js';
export { NpySource, parseNpyHeader } from './npy.js';
export type { NpyHeader } from './npy.js';
export { Hdf5Source, writeSegmentationH5, H5_CHANNELS_DATASET, H5_LABELS_DATASET, H5_DEFAULT_CHUNK_SIZE } from './hdf5.js';
export type { Hdf5OpenOptions, SegmentationH5Options } from './hdf5.js';
export { ZarrSource, writeOmeZarrLabels, readOmeZarrLabels, listOmeZarrLabels } from './zarr.js';
export type { OmeZarrLabelsOptions } from './zarr.js';
export { writeClassesCsv, readClassesCsv } from './classes.js';
export { writeQcOverlay, renderQcOverlay, percentiles, QC_COLORS } from './overlay.js';
export type { QcOverlayOptions, Rgb } from './overlay.js';
export { writeAtomic, writeFileAtomic, replaceDirAtomic } from './atomic.js';
export type { WriteProgress } from './labels.js';
