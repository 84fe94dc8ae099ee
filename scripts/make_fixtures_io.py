#!/usr/bin/python3
"""Input-format fixtures for test/io, written with Debian's tifffile / Pillow (libtiff) / h5py / numpy.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_fixtures_io.py
Writes test/fixtures/io/: small images in every supported container and encoding, the pixels each must decode to
(<name>.bin, raw little-endian C×H×W), and manifest.json describing every case. OME-Zarr stores are written here
by hand (JSON metadata + zlib/gzip/raw chunks with numpy), independently of zarrita, which the tests read them with
(zarr-python is not installed). Bad inputs (wrong dtype, z-stacks, ...) are listed with the error code they must give.
Truncated and corrupt files are made by the tests from these fixtures at run time.
"""
import gzip
import hashlib
import json
import os
import shutil
import zlib

import h5py
import numpy as np
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "io")
EXAMPLE3 = os.path.join(ROOT, "data", "example3")
IMAGES = os.path.join(ROOT, "test", "fixtures", "images")
# CC0 uint8 field (BBBC038 / DSB 2018) re-encoded with PackBits below.
PACKBITS_SOURCE = "dsb_nuclei/dsb_256_image.tif"

rng = np.random.default_rng(20261126)
H, W = 37, 53  # awkward: neither divides the 16×16 tiles/chunks used below
manifest = {
    "generator": "scripts/make_fixtures_io.py",
    "reference": f"tifffile {tifffile.__version__}, Pillow {Image.__version__} (libtiff), h5py {h5py.__version__}, numpy {np.__version__}",
    "inputs": [],
    "bad": [],
    "real": [],
}


def rel(p):
    return os.path.relpath(p, OUT)


def path(name):
    return os.path.join(OUT, name)


def save_expected(name, cyx):
    cyx = np.ascontiguousarray(cyx)
    assert cyx.ndim == 3
    with open(path(name + ".bin"), "wb") as f:
        f.write(cyx.astype(cyx.dtype.newbyteorder("<")).tobytes())
    return {"file": name + ".bin", "dtype": str(cyx.dtype), "shape": list(cyx.shape)}


def case(name, files, cyx, fmt, note, **extra):
    manifest["inputs"].append(
        {"name": name, "paths": files if isinstance(files, list) else [files], "format": fmt, "note": note,
         "expected": save_expected(name, cyx), **extra}
    )


def bad(name, files, code, match, note):
    manifest["bad"].append({"name": name, "paths": files if isinstance(files, list) else [files], "code": code,
                            "match": match, "note": note})


def image(dtype, c, h=H, w=W):
    if dtype == np.float32:
        a = rng.normal(100, 40, size=(c, h, w)).astype(np.float32)
        a[:, 0, 0] = -0.0
        a[:, 1, 1] = 3.4e38
        return a
    info = np.iinfo(dtype)
    return rng.integers(0, int(info.max) + 1, size=(c, h, w), dtype=np.int64).astype(dtype)


def pil_multipage(file, planes, compression):
    ims = [Image.fromarray(p) for p in planes]
    ims[0].save(file, compression=compression, save_all=True, append_images=ims[1:])


# OME-TIFF UUIDs are fixed (tifffile draws a time-based uuid1 otherwise), so the files are reproducible.


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    # ---------------------------------------------------------------- TIFF
    a = image(np.uint16, 3)
    tifffile.imwrite(path("strips_u16_3pages.tif"), a, photometric="minisblack", rowsperstrip=8)
    case("strips_u16_3pages", "strips_u16_3pages.tif", a, "tiff", "uncompressed, 3 pages, 8 rows per strip")

    a = image(np.uint16, 2)
    tifffile.imwrite(path("strips_u16_bigendian.tif"), a, photometric="minisblack", rowsperstrip=5, byteorder=">")
    case("strips_u16_bigendian", "strips_u16_bigendian.tif", a, "tiff", "uncompressed, Motorola byte order")

    a = image(np.uint16, 2)
    pil_multipage(path("lzw_u16_2pages.tif"), a, "tiff_lzw")
    case("lzw_u16_2pages", "lzw_u16_2pages.tif", a, "tiff", "LZW (libtiff via Pillow), 2 pages")

    a = image(np.uint8, 1)
    pil_multipage(path("lzw_u8.tif"), a, "tiff_lzw")
    case("lzw_u8", "lzw_u8.tif", a, "tiff", "LZW uint8")

    # One big strip of real 16-bit data: long enough for 12-bit codes, a full dictionary and Clear codes.
    ex3 = tifffile.imread(os.path.join(EXAMPLE3, "Ch1.tif"))
    crop16 = np.ascontiguousarray(ex3[40:168, 60:220])
    from PIL import TiffImagePlugin
    saved, TiffImagePlugin.STRIP_SIZE = TiffImagePlugin.STRIP_SIZE, crop16.nbytes
    try:
        pil_multipage(path("lzw_u16_onestrip.tif"), crop16[None], "tiff_lzw")
    finally:
        TiffImagePlugin.STRIP_SIZE = saved
    case("lzw_u16_onestrip", "lzw_u16_onestrip.tif", crop16[None], "tiff",
         "LZW, one 40 KB strip (dictionary fills, Clear codes)",
         origin="scportrait_example3/Ch1.tif [40:168, 60:220] (scPortrait example 3)")

    real = tifffile.imread(os.path.join(IMAGES, PACKBITS_SOURCE))
    crop = np.ascontiguousarray(real[100:164, 150:230])
    pil_multipage(path("packbits_u8_crop.tif"), crop[None], "packbits")
    case("packbits_u8_crop", "packbits_u8_crop.tif", crop[None], "tiff",
         "PackBits re-encoding of a crop", origin=f"{PACKBITS_SOURCE} [100:164, 150:230] (BBBC038, CC0)")
    # The whole field as PackBits in 16-row strips (the layout of the CellProfiler PackBits TIFFs this replaces):
    # decoded in full (sha256) and through a window spanning several strips.
    saved, TiffImagePlugin.STRIP_SIZE = TiffImagePlugin.STRIP_SIZE, 16 * real.shape[1]
    try:
        pil_multipage(path("packbits_u8_field.tif"), real[None], "packbits")
    finally:
        TiffImagePlugin.STRIP_SIZE = saved
    manifest["real"].append({
        "path": "packbits_u8_field.tif", "compression": "PackBits", "dtype": str(real.dtype), "shape": [1, *real.shape],
        "origin": f"{PACKBITS_SOURCE} (BBBC038, CC0), re-encoded with PackBits (libtiff via Pillow), 16 rows per strip",
        "sha256": hashlib.sha256(np.ascontiguousarray(real).tobytes()).hexdigest(),
        "window": {"x": 150, "y": 100, "width": 80, "height": 64}, "windowExpected": "packbits_u8_crop.bin",
    })

    a = image(np.uint16, 2)
    tifffile.imwrite(path("deflate_pred_u16.tif"), a, photometric="minisblack", compression="zlib", predictor=True,
                     rowsperstrip=10)
    case("deflate_pred_u16", "deflate_pred_u16.tif", a, "tiff", "Deflate (8) + horizontal predictor, 10-row strips")

    a = image(np.uint16, 1)
    tifffile.imwrite(path("deflate32946_u16.tif"), a[0], compression="deflate")
    case("deflate32946_u16", "deflate32946_u16.tif", a, "tiff", "old-style Deflate code 32946")

    a = image(np.float32, 2)
    tifffile.imwrite(path("tiled_deflate_f32.tif"), a, photometric="minisblack", compression="zlib", tile=(16, 16))
    case("tiled_deflate_f32", "tiled_deflate_f32.tif", a, "tiff", "float32, 16×16 tiles, Deflate, 2 pages")

    a = image(np.uint8, 3)
    tifffile.imwrite(path("tiled_raw_u8.tif"), a, photometric="minisblack", tile=(16, 16))
    case("tiled_raw_u8", "tiled_raw_u8.tif", a, "tiff", "uncompressed 16×16 tiles, 3 pages")

    a = image(np.uint8, 3)
    tifffile.imwrite(path("rgb_contig_u8.tif"), np.moveaxis(a, 0, -1), photometric="rgb", rowsperstrip=6)
    case("rgb_contig_u8", "rgb_contig_u8.tif", a, "tiff", "RGB, 3 samples interleaved (contig)")

    a = image(np.uint16, 4)
    tifffile.imwrite(path("planar_u16_4samples.tif"), a, photometric="minisblack", planarconfig="separate",
                     rowsperstrip=7)
    case("planar_u16_4samples", "planar_u16_4samples.tif", a, "tiff", "4 samples, planar configuration 2")

    a = image(np.uint16, 4)
    tifffile.imwrite(path("pages_x_samples_u16.tif"), np.moveaxis(a.reshape(2, 2, H, W), 1, -1),
                     photometric="minisblack", planarconfig="contig")
    case("pages_x_samples_u16", "pages_x_samples_u16.tif", a, "tiff",
         "2 pages × 2 interleaved samples = 4 channels, page-major")

    a = image(np.uint16, 3)
    tifffile.imwrite(path("ome_u16_3c.ome.tif"), a, ome=True,
                     metadata={"axes": "CYX", "Channel": {"Name": ["DAPI", "WGA", "Golgi"]},
                               "UUID": "urn:uuid:bf79826a-e902-11f1-9b5e-02fc00000001"})
    case("ome_u16_3c", "ome_u16_3c.ome.tif", a, "tiff", "OME-TIFF with channel names",
         channelNames=["DAPI", "WGA", "Golgi"])

    a = image(np.float32, 2)
    tifffile.imwrite(path("bigtiff_f32.tif"), a, photometric="minisblack", bigtiff=True)
    case("bigtiff_f32", "bigtiff_f32.tif", a, "tiff", "BigTIFF, float32")

    a = image(np.uint16, 1)
    tifffile.imwrite(path("with_thumbnail.tif"), a[0])
    tifffile.imwrite(path("with_thumbnail.tif"), a[0, ::2, ::2].copy(), subfiletype=1, append=True)
    case("with_thumbnail", "with_thumbnail.tif", a, "tiff", "reduced-resolution page 2 is not a channel")

    # list of single-channel TIFFs, mixed encodings
    a = image(np.uint16, 3)
    tifffile.imwrite(path("list_c0.tif"), a[0])
    pil_multipage(path("list_c1.tif"), a[1:2], "tiff_lzw")
    tifffile.imwrite(path("list_c2.tif"), a[2], compression="zlib")
    case("tiff_list", ["list_c0.tif", "list_c1.tif", "list_c2.tif"], a, "file-list",
         "one file per channel (raw, LZW, Deflate)", channelNames=["list_c0", "list_c1", "list_c2"])
    tifffile.imwrite(path("list_other_shape.tif"), image(np.uint16, 1, H + 1, W)[0])
    bad("tiff_list_shape", ["list_c0.tif", "list_other_shape.tif"], "ERR_SCSEG_SHAPE", "does not match",
        "shapes differ")
    tifffile.imwrite(path("list_other_dtype.tif"), image(np.uint8, 1)[0])
    bad("tiff_list_dtype", ["list_c0.tif", "list_other_dtype.tif"], "ERR_SCSEG_DTYPE", "does not match",
        "dtypes differ")
    bad("tiff_list_multichannel", ["list_c0.tif", "strips_u16_3pages.tif"], "ERR_SCSEG_SHAPE", "has 3 channels",
        "a multi-channel file in a list")

    # unsupported TIFF content
    tifffile.imwrite(path("int16.tif"), rng.integers(-5, 5, size=(H, W)).astype(np.int16))
    bad("tiff_int16", "int16.tif", "ERR_SCSEG_DTYPE", "int16", "signed 16-bit")
    tifffile.imwrite(path("float64.tif"), rng.random((H, W)))
    bad("tiff_float64", "float64.tif", "ERR_SCSEG_DTYPE", "float64", "double precision")
    tifffile.imwrite(path("uint32.tif"), rng.integers(0, 9, size=(H, W)).astype(np.uint32))
    bad("tiff_uint32", "uint32.tif", "ERR_SCSEG_DTYPE", "uint32", "32-bit integer")
    Image.fromarray(rng.random((H, W)) > 0.5).save(path("bilevel.tif"))
    bad("tiff_bilevel", "bilevel.tif", "ERR_SCSEG_DTYPE", "1-bit", "bilevel")
    b = image(np.uint16, 4)
    tifffile.imwrite(path("imagej_zstack.tif"), b.reshape(2, 2, H, W), imagej=True, metadata={"axes": "ZCYX"})
    bad("tiff_imagej_z", "imagej_zstack.tif", "ERR_SCSEG_IO_FORMAT", "slices=2", "ImageJ z-stack")
    tifffile.imwrite(path("ome_zstack.ome.tif"), b.reshape(2, 2, H, W), ome=True,
                     metadata={"axes": "ZCYX", "UUID": "urn:uuid:bf80767e-e902-11f1-9b5e-02fc00000001"})
    bad("tiff_ome_z", "ome_zstack.ome.tif", "ERR_SCSEG_IO_FORMAT", "SizeZ=2", "OME z-stack")
    tifffile.imwrite(path("pages_differ.tif"), image(np.uint16, 1)[0])
    tifffile.imwrite(path("pages_differ.tif"), image(np.uint16, 1, 20, 20)[0], append=True)
    bad("tiff_pages_differ", "pages_differ.tif", "ERR_SCSEG_SHAPE", "pages used as channels must agree",
        "pages of different sizes")

    # ---------------------------------------------------------------- HDF5
    a = image(np.uint16, 3)
    with h5py.File(path("channels_u16.h5"), "w") as f:
        f.create_dataset("aaa_other", data=np.zeros((2, 4, 4), np.uint8))
        f.create_dataset("channels", data=a, chunks=(1, 16, 16), compression="gzip")
    case("h5_channels", "channels_u16.h5", a, "hdf5", "scPortrait-style `channels` (C,H,W), gzip, 16×16 chunks",
         dataset="channels")

    a = image(np.uint8, 2)
    with h5py.File(path("first3d_u8.h5"), "w") as f:
        f.create_dataset("a_vector", data=np.arange(5))
        g = f.create_group("g")
        g.create_dataset("plane", data=np.zeros((H, W), np.uint16))
        g.create_dataset("stack", data=a)
    case("h5_first3d", "first3d_u8.h5", a, "hdf5", "no `channels`: the first 3-D dataset is used", dataset="/g/stack")

    a = image(np.float32, 1)
    with h5py.File(path("nested_f32.h5"), "w") as f:
        f.create_group("img").create_dataset("data", data=a[0], chunks=(8, 8))
    case("h5_2d", "nested_f32.h5", a, "hdf5", "(H,W) float32 at a nested path", dataset="/img/data",
         openOptions={"dataset": "img/data"})

    a = image(np.uint16, 2)
    with h5py.File(path("bigendian_u16.h5"), "w") as f:
        f.create_dataset("channels", data=a.astype(">u2"))
    case("h5_bigendian", "bigendian_u16.h5", a, "hdf5", "big-endian uint16 dataset", dataset="channels")

    with h5py.File(path("u64.h5"), "w") as f:
        f.create_dataset("channels", data=np.ones((2, H, W), np.uint64))
    bad("h5_uint64", "u64.h5", "ERR_SCSEG_DTYPE", "uint64", "uint64 input")
    with h5py.File(path("rank4.h5"), "w") as f:
        f.create_dataset("channels", data=np.ones((1, 2, 4, 4), np.uint8))
    bad("h5_rank4", "rank4.h5", "ERR_SCSEG_SHAPE", "expected (C, H, W) or (H, W)", "4-D dataset")

    # ---------------------------------------------------------------- npy
    a = image(np.uint16, 3)
    np.save(path("cyx_u16.npy"), a)
    case("npy_cyx_u16", "cyx_u16.npy", a, "npy", "(C,H,W) <u2")
    a = image(np.float32, 1)
    np.save(path("yx_f32.npy"), a[0])
    case("npy_yx_f32", "yx_f32.npy", a, "npy", "(H,W) <f4")
    a = image(np.uint8, 2)
    with open(path("cyx_u8_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, a, version=(2, 0))
    case("npy_u8_v2", "cyx_u8_v2.npy", a, "npy", "(C,H,W) |u1, format version 2.0")
    np.save(path("bigendian_u16.npy"), image(np.uint16, 1).astype(">u2"))
    bad("npy_bigendian", "bigendian_u16.npy", "ERR_SCSEG_DTYPE", ">u2", "big-endian")
    np.save(path("int16.npy"), np.zeros((2, 4, 4), np.int16))
    bad("npy_int16", "int16.npy", "ERR_SCSEG_DTYPE", "<i2", "int16")
    np.save(path("fortran.npy"), np.asfortranarray(image(np.uint8, 1)[0]))
    bad("npy_fortran", "fortran.npy", "ERR_SCSEG_IO_FORMAT", "Fortran", "Fortran order")
    np.save(path("rank1.npy"), np.zeros(7, np.uint8))
    bad("npy_rank1", "rank1.npy", "ERR_SCSEG_SHAPE", "neither", "1-D")

    # ---------------------------------------------------------------- OME-Zarr
    a = image(np.uint16, 3)
    zarr_v2_image("cyx_u16_v04.ome.zarr", a, ["c", "y", "x"], chunks=(1, 16, 16), compressor="zlib", sep="/",
                  names=["DAPI", "WGA", "Golgi"], levels=2)
    case("zarr_v04_cyx", "cyx_u16_v04.ome.zarr", a, "ome-zarr", "NGFF 0.4, Zarr v2, axes c,y,x, zlib, '/' keys, 2 levels",
         channelNames=["DAPI", "WGA", "Golgi"])

    a = image(np.uint8, 2)
    zarr_v2_image("tczyx_u8_v04.ome.zarr", a[None, :, None], ["t", "c", "z", "y", "x"],
                  chunks=(1, 1, 1, 16, 20), compressor=None, sep=".")
    case("zarr_v04_tczyx", "tczyx_u8_v04.ome.zarr", a, "ome-zarr", "NGFF 0.4, axes t,c,z,y,x (t=z=1), raw chunks, '.' keys")

    a = image(np.float32, 2)
    zarr_v3_image("cyx_f32_v05.ome.zarr", a, chunks=(1, 16, 16))
    case("zarr_v05_cyx", "cyx_f32_v05.ome.zarr", a, "ome-zarr", "NGFF 0.5, Zarr v3, gzip codec, c/ chunk keys")

    a = image(np.uint16, 1)
    zarr_v2_image("yx_u16_v03.ome.zarr", a[0], ["y", "x"], chunks=(20, 20), compressor="zlib", sep=".",
                  version="0.3", string_axes=True)
    case("zarr_v03_yx", "yx_u16_v03.ome.zarr", a, "ome-zarr", "NGFF 0.3 string axes y,x")

    a = image(np.uint16, 2)
    os.makedirs(path("bare_array.zarr"))
    zarr_v2_array(path("bare_array.zarr"), a, chunks=(1, 16, 16), compressor="zlib", sep=".")
    case("zarr_bare", "bare_array.zarr", a, "ome-zarr", "bare Zarr v2 array (C,H,W), no OME metadata")

    zarr_v2_image("z2_u8.ome.zarr", image(np.uint8, 2)[None, :, :], ["c", "z", "y", "x"],
                  chunks=(1, 1, 16, 16), compressor=None, sep="/")
    bad("zarr_z2", "z2_u8.ome.zarr", "ERR_SCSEG_SHAPE", "axis z has size 2", "z-stack")
    zarr_v2_image("i16.ome.zarr", np.zeros((1, 8, 8), np.int16), ["c", "y", "x"], chunks=(1, 8, 8),
                  compressor=None, sep="/")
    bad("zarr_int16", "i16.ome.zarr", "ERR_SCSEG_DTYPE", "int16", "int16 OME-Zarr")

    with open(path("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(OUT) for x in fs)
    print(f"{len(manifest['inputs'])} inputs, {len(manifest['bad'])} bad inputs, {total / 1024:.0f} KiB in {rel(OUT)}")


def chunk_grid(shape, chunks):
    return [range(-(-s // c)) for s, c in zip(shape, chunks)]


def zarr_v2_array(d, arr, chunks, compressor, sep):
    arr = np.ascontiguousarray(arr)
    meta = {"zarr_format": 2, "shape": list(arr.shape), "chunks": list(chunks), "dtype": arr.dtype.str,
            "compressor": {"id": "zlib", "level": 5} if compressor == "zlib" else None, "fill_value": 0,
            "order": "C", "filters": None}
    if sep != ".":
        meta["dimension_separator"] = sep
    with open(os.path.join(d, ".zarray"), "w") as f:
        json.dump(meta, f)
    for idx in np.ndindex(*[len(r) for r in chunk_grid(arr.shape, chunks)]):
        block = np.zeros(chunks, arr.dtype)
        sl = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks))
        part = arr[sl]
        block[tuple(slice(0, s) for s in part.shape)] = part
        raw = block.tobytes()
        key = sep.join(str(i) for i in idx)
        p = os.path.join(d, *key.split("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(zlib.compress(raw, 5) if compressor == "zlib" else raw)


def zarr_v2_image(name, arr, axes, chunks, compressor, sep, names=None, levels=1, version="0.4", string_axes=False):
    d = path(name)
    os.makedirs(d)
    with open(os.path.join(d, ".zgroup"), "w") as f:
        json.dump({"zarr_format": 2}, f)
    datasets = []
    for level in range(levels):
        f_ = 2 ** level
        sub = arr[..., ::f_, ::f_]
        os.makedirs(os.path.join(d, str(level)))
        zarr_v2_array(os.path.join(d, str(level)), sub, chunks, compressor, sep)
        scale = [1.0] * (len(axes) - 2) + [float(f_), float(f_)]
        datasets.append({"path": str(level), "coordinateTransformations": [{"type": "scale", "scale": scale}]})
    kinds = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
    ax = axes if string_axes else [{"name": a, "type": kinds[a]} for a in axes]
    attrs = {"multiscales": [{"version": version, "name": name, "axes": ax, "datasets": datasets}]}
    if names:
        attrs["omero"] = {"channels": [{"label": n, "active": True} for n in names]}
    with open(os.path.join(d, ".zattrs"), "w") as f:
        json.dump(attrs, f)


def zarr_v3_image(name, arr, chunks):
    d = path(name)
    os.makedirs(os.path.join(d, "0"))
    attrs = {"ome": {"version": "0.5", "multiscales": [{
        "name": name,
        "axes": [{"name": "c", "type": "channel"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0, 1.0]}]}]}]}}
    with open(os.path.join(d, "zarr.json"), "w") as f:
        json.dump({"zarr_format": 3, "node_type": "group", "attributes": attrs}, f)
    meta = {"zarr_format": 3, "node_type": "array", "shape": list(arr.shape), "data_type": str(arr.dtype),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0.0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                          {"name": "gzip", "configuration": {"level": 5}}],
            "attributes": {}}
    with open(os.path.join(d, "0", "zarr.json"), "w") as f:
        json.dump(meta, f)
    for idx in np.ndindex(*[len(r) for r in chunk_grid(arr.shape, chunks)]):
        block = np.zeros(chunks, arr.dtype)
        part = arr[tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks))]
        block[tuple(slice(0, s) for s in part.shape)] = part
        p = os.path.join(d, "0", "c", *[str(i) for i in idx])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(gzip.compress(block.astype("<" + block.dtype.str[1:]).tobytes(), 5, mtime=0))


if __name__ == "__main__":
    main()
