#!/usr/bin/python3
"""Golden fixtures for distanceTransform and peakLocalMax (test/kernels/distance.test.ts).

Run with Debian's interpreter: /usr/bin/python3 scripts/make_fixtures_distance.py
Writes test/fixtures/distance/<name>.bin (raw little-endian arrays) and manifest.json.

References:
  distanceTransform  scipy.ndimage.distance_transform_edt(mask)                      (float64)
  peakLocalMax       skimage.feature.peak_local_max(image, min_distance=m, footprint=disk(r)) as scikit-image
                     >= 0.20 computes it (scPortrait requires >= 0.22). Debian ships 0.19.3, which differs in two
                     private helpers of skimage/feature/peak.py; `skimage_020_semantics()` swaps them for the
                     >= 0.20 behaviour while the public function runs:
                       _get_high_intensity_peaks: np.argsort(-values, kind="stable") instead of the default
                         (unstable) quicksort -> equal values stay in row-major order;
                       _get_peak_mask: maximum_filter(mode="nearest") instead of mode="constant" (cval 0) ->
                         only matters for negative values near the border.
                     Everything else (threshold = min(image), exclude_border = min_distance, ensure_spacing with
                     p_norm = inf) is the library's own code, unchanged between 0.19 and 0.25.
                     The script checks that patched and unpatched results agree on non-negative images
                     without equal values among the candidates.

Inputs: thresholded crops of real nuclei images (../shared/data), random blobs (many EDT ties), awkward shapes.
Peaks are computed on the EDT of each mask (the segmentation path) plus a few non-EDT float64 images.
"""
import contextlib
import json
import os
import sys

import numpy as np
import scipy
import scipy.ndimage as ndi
import skimage
import skimage.feature.peak as skpeak
from skimage._shared.coord import ensure_spacing
from skimage.feature import peak_local_max
from skimage.morphology import disk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "distance")
SHARED = os.environ.get("SCSEG_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))

rng = np.random.default_rng(20261126)


def _stable_high_intensity_peaks(image, mask, num_peaks, min_distance, p_norm):
    coord = np.nonzero(mask)
    order = np.argsort(-image[coord], kind="stable")
    coord = np.transpose(coord)[order]
    max_out = int(num_peaks) if np.isfinite(num_peaks) else None
    coord = ensure_spacing(coord, spacing=min_distance, p_norm=p_norm, max_out=max_out)
    return coord[:num_peaks] if len(coord) > num_peaks else coord


def _nearest_peak_mask(image, footprint, threshold, mask=None):
    assert mask is None  # labels are never passed here
    if footprint.size == 1 or image.size == 1:
        return image > threshold
    out = image == ndi.maximum_filter(image, footprint=footprint, mode="nearest")
    if np.all(out):
        out[:] = False
    out &= image > threshold
    return out


@contextlib.contextmanager
def skimage_020_semantics():
    saved = skpeak._get_high_intensity_peaks, skpeak._get_peak_mask
    skpeak._get_high_intensity_peaks, skpeak._get_peak_mask = _stable_high_intensity_peaks, _nearest_peak_mask
    try:
        yield
    finally:
        skpeak._get_high_intensity_peaks, skpeak._get_peak_mask = saved


def peaks_reference(image, min_distance, radius):
    with skimage_020_semantics():
        return peak_local_max(image, min_distance=min_distance, footprint=disk(radius))


def peaks_debian(image, min_distance, radius):
    return peak_local_max(image, min_distance=min_distance, footprint=disk(radius))


def save(name, arr):
    arr = np.ascontiguousarray(arr)
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    return {"file": name + ".bin", "dtype": str(arr.dtype), "shape": list(arr.shape)}


def thresholded_crop(rel, y, x, h, w):
    """Nucleus-like mask: global Otsu threshold of the whole image, opened (erosion disk(2), dilation disk(1))."""
    import tifffile
    from skimage.filters import threshold_otsu
    from skimage.morphology import binary_dilation, binary_erosion

    img = tifffile.imread(os.path.join(SHARED, rel)).astype(np.float32)
    mask = binary_dilation(binary_erosion(img > threshold_otsu(img), disk(2)), disk(1))
    return mask[y : y + h, x : x + w], f"{rel} [{y}:{y + h}, {x}:{x + w}] > otsu, opened"


def random_blobs(shape, n, rmax):
    """Union of random discs and axis-aligned rectangles: straight edges and symmetric shapes give EDT ties."""
    mask = np.zeros(shape, bool)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    for i in range(n):
        cy, cx = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        r = int(rng.integers(1, rmax + 1))
        if i % 2:
            mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            mask[max(cy - r, 0) : cy + r + 1, max(cx - r // 2, 0) : cx + r // 2 + 1] = True
    return mask


def masks():
    out = []
    out.append((np.ones((1, 1), bool), "1x1 foreground"))
    out.append((np.zeros((1, 1), bool), "1x1 background"))
    out.append((np.ones((1, 7), bool), "1x7 all foreground (scipy's no-background quirk)"))
    out.append((np.ones((6, 1), bool), "6x1 all foreground"))
    out.append((np.ones((5, 8), bool), "5x8 all foreground"))
    out.append((np.zeros((4, 6), bool), "4x6 all background"))
    out.append((rng.random((1, 40)) < 0.8, "1x40 random"))
    out.append((rng.random((40, 1)) < 0.8, "40x1 random"))
    out.append((rng.random((2, 3)) < 0.7, "2x3 random"))
    out.append((rng.random((23, 31)) < 0.9, "23x31 random, sparse background"))
    m = np.ones((33, 29), bool)
    m[16, 14] = False
    out.append((m, "33x29 single background pixel"))
    m = np.ones((30, 40), bool)
    m[:, 0] = False
    out.append((m, "30x40 background only in column 0 (rows without background)"))
    out.append((random_blobs((47, 53), 12, 9), "random blobs 47x53"))
    out.append((random_blobs((64, 61), 20, 12), "random blobs 64x61"))
    out.append((random_blobs((31, 90), 10, 14), "random blobs 31x90"))
    out.append(thresholded_crop("scportrait_example3/Ch1.tif", 40, 60, 128, 120))
    out.append(thresholded_crop("scportrait_example3/Ch1.tif", 250, 200, 90, 100))
    out.append(thresholded_crop("bbbc039/images/IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif", 200, 300, 110, 130))
    out.append(thresholded_crop("bbbc039/images/IXMtest_C07_s5_w12C9F2926-A017-4962-8660-72C9C20C86E4.tif", 100, 100, 96, 96))
    return out


def float_images():
    out = []
    out.append((rng.normal(size=(25, 27)), "normal noise (negative values: skimage >= 0.20 mode='nearest')"))
    out.append((rng.integers(-2, 3, size=(30, 22)).astype(np.float64), "5 integer levels, many ties"))
    img = np.round(rng.normal(size=(19, 21)), 1)
    img[rng.random(img.shape) < 0.05] = np.inf
    img[rng.random(img.shape) < 0.05] = -np.inf
    out.append((img, "rounded noise with +-inf"))
    out.append((np.full((9, 11), 2.5), "constant"))
    out.append((np.array([[3.0]]), "1x1"))
    out.append((rng.integers(0, 4, size=(1, 33)).astype(np.float64), "1x33 ties"))
    out.append((rng.integers(0, 4, size=(33, 1)).astype(np.float64), "33x1 ties"))
    img = np.zeros((40, 40))
    img[12, 12] = img[12, 20] = img[20, 12] = img[20, 21] = img[28, 28] = 1.0
    out.append((img, "equal peaks 8 and 9 apart (Chebyshev)"))
    return out


PEAK_PARAMS_EDT = [(8, 7), (10, 7), (1, 7), (3, 2), (2, 0), (0, 1), (5, 4), (4, 9)]
PEAK_PARAMS_FLOAT = [(0, 0), (1, 1), (2, 1), (3, 2), (8, 4), (1, 0), (4, 3), (9, 1)]


def candidate_values_distinct(image, radius, min_distance):
    """True if no two peak candidates share a value (then the sort's stability cannot matter)."""
    with skimage_020_semantics():
        cand = skpeak._get_peak_mask(image, disk(radius), image.min())
    cand = skpeak._exclude_border(cand, (min_distance,) * 2)
    vals = image[cand]
    return len(np.unique(vals)) == len(vals)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    cases = []
    checked = differ = 0

    def add_peaks(idx, image, src, origin, params):
        nonlocal checked, differ
        for md, r in params:
            ref = peaks_reference(image, md, r)
            case = {"kernel": "peakLocalMax", "input": src, "origin": origin, "minDistance": md, "footprintRadius": r,
                    "expected": save(f"peaks_{idx:02d}_m{md}_r{r}", ref.astype(np.int32).reshape(-1))}
            old = peaks_debian(image, md, r)
            same = bool(np.array_equal(old, ref))
            case["sameAsDebianSkimage019"] = same
            if image.min() >= 0 and candidate_values_distinct(image, r, md):
                # Without ties and negative values the two versions must agree: a check of the patching.
                assert same, (origin, md, r)
                checked += 1
            differ += not same
            cases.append(case)

    import warnings
    warnings.simplefilter("ignore", RuntimeWarning)  # skimage warns for footprint size 1 with min_distance < 1
    for i, (mask, origin) in enumerate(masks()):
        m = mask.astype(np.uint8)
        src = save(f"mask_{i:02d}", m)
        edt = ndi.distance_transform_edt(m)
        assert edt.dtype == np.float64
        e = save(f"edt_{i:02d}", edt)
        cases.append({"kernel": "distanceTransform", "input": src, "origin": origin, "expected": e})
        add_peaks(i, edt, e, f"EDT of {origin}", PEAK_PARAMS_EDT)
    for j, (img, origin) in enumerate(float_images()):
        i = 50 + j
        src = save(f"image_{i:02d}", img.astype(np.float64))
        add_peaks(i, img, src, origin, PEAK_PARAMS_FLOAT)

    manifest = {
        "generator": "scripts/make_fixtures_distance.py",
        "reference": f"scipy {scipy.__version__} distance_transform_edt; scikit-image {skimage.__version__} "
                     "peak_local_max with the two >= 0.20 changes patched in (stable argsort, maximum_filter "
                     "mode='nearest'), numpy " + np.__version__,
        "cases": cases,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(cases)} cases, {total / 1024:.0f} KiB in {os.path.relpath(OUT, ROOT)}; patched == Debian 0.19 "
          f"verified on {checked} tie-free non-negative peak cases; {differ} cases differ from 0.19 (ties)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
