#!/usr/bin/python3
"""Golden fixtures for the kernel tests, computed with Debian's scikit-image / numpy (the reference semantics).

Run with Debian's interpreter (it has python3-skimage): /usr/bin/python3 scripts/make_fixtures.py
Writes test/fixtures/kernels/<name>.bin (raw little-endian arrays) and manifest.json describing every case.
Inputs are seeded random images of awkward shapes plus small crops of real images from ../shared/data
(crops are committed with their provenance in the manifest).
"""
import json
import os
import sys

import numpy as np
import skimage
from skimage.filters import median
from skimage.morphology import disk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "kernels")
SHARED = os.environ.get("SCSEG_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))

rng = np.random.default_rng(20261125)
cases = []


def save(name, arr):
    arr = np.ascontiguousarray(arr)
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    return {"file": name + ".bin", "dtype": str(arr.dtype), "shape": list(arr.shape)}


def random_image(dtype, shape, levels=None):
    if dtype == np.float32:
        img = rng.normal(0.5, 0.25, size=shape).astype(np.float32)
        img[rng.random(shape) < 0.1] = 0.25  # ties, as real float images have
        return img
    hi = levels if levels is not None else np.iinfo(dtype).max + 1
    return rng.integers(0, hi, size=shape).astype(dtype)


def real_crop(rel, y, x, h, w):
    import tifffile

    path = os.path.join(SHARED, rel)
    img = tifffile.imread(path)
    if img.ndim > 2:
        img = img[..., 0] if img.shape[-1] <= 4 else img[0]
    return np.ascontiguousarray(img[y : y + h, x : x + w]), f"{rel} [{y}:{y + h}, {x}:{x + w}]"


def percentile_norm_reference(img, lo, hi):
    """scPortrait percentile_normalization on one 2-D channel, numpy 1.x semantics."""
    im = img.astype(np.float32) if not np.issubdtype(img.dtype, np.floating) else img.copy()
    lower = np.quantile(np.ravel(im), lo)
    upper = np.quantile(np.ravel(im), hi)
    ipr = upper - lower
    out = im - lower
    if ipr != 0:
        out = out / ipr
    return np.clip(out, 0, 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    inputs = []
    for dtype in (np.uint8, np.uint16, np.float32):
        for shape in [(1, 1), (1, 9), (9, 1), (2, 3), (13, 17), (40, 33)]:
            inputs.append((random_image(dtype, shape), "random"))
    inputs.append((random_image(np.uint16, (31, 29), levels=4096), "random 12-bit"))
    inputs.append((random_image(np.uint8, (24, 26), levels=3), "random 3 levels"))
    inputs.append((np.full((10, 12), 7, np.uint16), "constant"))
    inputs.append(real_crop("scportrait_example3/Ch1.tif", 120, 150, 64, 72))
    inputs.append(real_crop("scportrait_example3/Ch2.tif", 200, 40, 48, 50))
    inputs.append(real_crop("cellprofiler_human/AS_09125_050116030001_D03f00d0.tif", 100, 100, 50, 64))
    inputs.append((real_crop("scportrait_example3/Ch2.tif", 10, 10, 40, 41)[0].astype(np.float32) / 65535.0, "Ch2 crop / 65535 (float32)"))

    for i, (img, origin) in enumerate(inputs):
        src = save(f"input_{i:02d}", img)
        radii = [0, 1, 2, 3, 4] + ([7, 9] if min(img.shape) >= 13 else [12])
        for r in radii:
            out = median(img, disk(r))
            assert out.dtype == img.dtype
            cases.append({"kernel": "medianFilter", "input": src, "origin": origin, "radius": r,
                          "expected": save(f"median_{i:02d}_r{r}", out)})
        for lo, hi in [(0.001, 0.999), (0.01, 0.99), (0.0, 1.0), (0.3, 0.7), (0.5, 0.5), (0.02, 0.98)]:
            out = percentile_norm_reference(img, lo, hi)
            assert out.dtype == np.float32, out.dtype
            if (lo, hi) in [(0.001, 0.999), (0.02, 0.98)]:
                q = np.array([np.quantile(np.ravel(img.astype(np.float32) if img.dtype != np.float32 else img), v) for v in (lo, hi)], dtype=np.float64)
                cases.append({"kernel": "quantiles", "input": src, "origin": origin, "q": [lo, hi],
                              "expected": save(f"quant_{i:02d}_{lo}_{hi}", q)})
            cases.append({"kernel": "percentileNormalize", "input": src, "origin": origin, "lower": lo, "upper": hi,
                          "expected": save(f"pnorm_{i:02d}_{lo}_{hi}", out)})

    manifest = {
        "generator": "scripts/make_fixtures.py",
        "reference": f"scikit-image {skimage.__version__}, numpy {np.__version__} (Debian python3-skimage)",
        "cases": cases,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"{len(cases)} cases written to {os.path.relpath(OUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
