#!/usr/bin/python3
"""Golden fixtures for the fast-marching kernels (fmmDistance, travelTime), computed with Debian's scikit-fmm.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_fixtures_fmm.py
Writes test/fixtures/fmm/<name>.bin (raw little-endian arrays) and manifest.json.

Every case is called the way scPortrait calls scikit-fmm: phi = 1 everywhere, 0 at the seed pixels, a masked array
masked where the pixel is NOT allowed; skfmm.distance(phi, dx=1) and skfmm.travel_time(phi, speed, dx=1), order 2.
Expected outputs store skfmm's masked entries (not allowed or not reached) as +inf, which is our kernels' convention;
where skfmm raises (no usable seed) the case records the error and expects +inf everywhere.

Inputs: small synthetic cases (single seed, ties, masked holes, unreachable parts, 1×N, N×1, masked seeds, tiny
speeds) and crops of pipeline-like maps computed from scportrait_example3 (Ch1 nuclei, Ch2 WGA), see real_maps().
"""
import json
import os
import sys

import numpy as np
import skfmm
import tifffile
from scipy import ndimage
from skimage.feature import peak_local_max
from skimage.filters import median, threshold_otsu
from skimage.morphology import binary_erosion, binary_opening, dilation, disk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "fmm")
SHARED = os.environ.get("SCSEG_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))

rng = np.random.default_rng(20261126)
KERNELS = ("distance", "travelTime")


def save(name, arr):
    arr = np.ascontiguousarray(arr)
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    return {"file": name + ".bin", "dtype": str(arr.dtype), "shape": list(arr.shape)}


def skfmm_reference(seeds, allowed, speed=None):
    """(result with masked entries as +inf, None) or (None, error message) when skfmm raises."""
    phi = np.ones(seeds.shape, dtype=np.float64)
    phi[seeds] = 0
    m = np.ma.MaskedArray(phi, np.logical_not(allowed))
    try:
        r = skfmm.distance(m, dx=1) if speed is None else skfmm.travel_time(m, speed, dx=1)
    except ValueError as e:
        return None, str(e)
    if isinstance(r, np.ma.MaskedArray):
        return np.where(np.ma.getmaskarray(r), np.inf, r.data).astype(np.float64), None
    return np.asarray(r, dtype=np.float64), None


def percentile_normalization(img, lo, hi):
    im = img.astype(np.float32)
    lower, upper = np.quantile(im, lo), np.quantile(im, hi)
    return np.clip((im - lower) / (upper - lower), 0, 1)


def real_maps():
    """Pipeline-like FMM inputs for the whole scportrait_example3 field (a simplified WGA workflow, SPEC §3-4):
    nucleus step: seeds = EDT peaks of the thresholded nuclei, allowed = nuclear mask dilated by 2;
    cytosol step: seeds = rounded centroids of the nuclei, allowed = not-background of the WGA channel,
    speed = the workflow's potential map formula (min_clip 0, max_clip 0.2), float64 in [0.1, 1]."""
    ch1 = tifffile.imread(os.path.join(SHARED, "scportrait_example3/Ch1.tif"))
    ch2 = tifffile.imread(os.path.join(SHARED, "scportrait_example3/Ch2.tif"))
    nuc = median(percentile_normalization(ch1, 0.01, 0.99), disk(4))
    wga = median(percentile_normalization(ch2, 0.01, 0.99), disk(4))

    fg = binary_opening(nuc > threshold_otsu(nuc), disk(3))
    edt = ndimage.distance_transform_edt(fg)
    peaks = peak_local_max(edt, min_distance=8, footprint=disk(7))
    peak_seeds = np.zeros(fg.shape, bool)
    peak_seeds[tuple(peaks.T)] = True
    nucleus_allowed = dilation(fg, disk(2))

    labels, count = ndimage.label(fg)
    centers = np.array(ndimage.center_of_mass(fg, labels, range(1, count + 1)))
    px = np.round(centers).astype(np.int64)
    centroid_seeds = np.zeros(fg.shape, bool)
    centroid_seeds[px[:, 0], px[:, 1]] = True

    background = np.clip((wga < 0.15).astype(float) - fg, 0, 1)
    background = dilation(background, disk(2))
    background = binary_erosion(background, disk(7))
    cytosol_allowed = np.logical_not(background)

    p = (wga - np.quantile(wga, 0.02)) / np.quantile(wga, 0.98)
    p = np.clip(p, 0, 1)
    p = np.clip(p - fg, 0, 1)
    p = 1 - p
    p = (np.clip(p, 0, 0.2) - 0) / (0.2 - 0)
    speed = (p * 0.9 + 0.1).astype(float)
    return peak_seeds, nucleus_allowed, centroid_seeds, cytosol_allowed, speed


def synthetic_cases():
    cases = []

    def add(name, seeds, allowed, speed, origin):
        cases.append((name, seeds.astype(bool), allowed.astype(bool), speed.astype(np.float64), origin, KERNELS))

    one = lambda shape: np.ones(shape, np.float64)  # noqa: E731
    s = np.zeros((15, 17), bool); s[7, 8] = True
    add("single_seed", s, np.ones_like(s), one(s.shape), "one seed, nothing masked, speed 1 (many equal keys)")
    add("single_seed_speed", s, np.ones_like(s), rng.uniform(0.1, 1, s.shape), "one seed, random speed")

    s = np.zeros((20, 23), bool); s[3, 4] = s[15, 18] = True
    a = rng.random(s.shape) < 0.9; a[3, 4] = a[15, 18] = True
    add("two_seeds", s, a, rng.uniform(0.1, 1, s.shape), "two seeds, 10% masked pixels")

    s = np.zeros((31, 29), bool); s[2, 2] = s[28, 5] = s[10, 25] = True
    a = np.ones(s.shape, bool)
    for y, x, r in [(8, 8, 3), (20, 14, 5), (15, 24, 2)]:
        yy, xx = np.ogrid[: s.shape[0], : s.shape[1]]
        a[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = False
    add("masked_holes", s, a, np.round(rng.uniform(0.1, 1, s.shape) * 4) / 4 + 0.05, "three seeds around round holes")

    s = np.zeros((24, 20), bool); s[5, 5] = True
    a = np.ones(s.shape, bool); a[12, :] = False; a[:, 14] = False
    add("unreachable", s, a, rng.uniform(0.1, 1, s.shape), "walls cut off three seedless regions")

    s = np.zeros((1, 40), bool); s[0, 5] = s[0, 31] = True
    a = np.ones(s.shape, bool); a[0, 20] = False
    add("row_1xN", s, a, rng.uniform(0.1, 1, s.shape), "1×40, two seeds, one masked pixel")

    s = np.zeros((33, 1), bool); s[30, 0] = True
    add("column_Nx1", s, np.ones_like(s), rng.uniform(0.1, 1, s.shape), "33×1, one seed")

    s = np.zeros((12, 14), bool); s[3, 3] = s[8, 10] = True
    a = np.ones(s.shape, bool); a[8, 10] = a[7, 10] = False
    add("masked_seed", s, a, rng.uniform(0.1, 1, s.shape), "the second seed lies on a masked pixel (ignored)")

    s = rng.random((26, 27)) < 0.02; s[0, 0] = True
    add("no_mask", s, np.ones_like(s), rng.uniform(0.1, 1, s.shape), "random seeds, nothing masked (plain ndarray)")

    s = np.zeros((18, 18), bool); s[4::8, 4::8] = True
    add("lattice_ties", s, np.ones_like(s), np.full(s.shape, 0.5), "seed lattice, constant speed 0.5 (ties)")

    s = np.zeros((16, 19), bool); s[8, 9] = True
    v = rng.uniform(0.1, 1, s.shape); v[5, :] = 1e-17; v[5, 3] = 0.3
    add("tiny_speed", s, np.ones_like(s), v, "speed 1e-17 < DBL_EPSILON masks a row except one gap")

    s = rng.random((37, 41)) < 0.01
    a = rng.random(s.shape) < 0.75
    add("sparse_random", s, a, rng.uniform(0.1, 1, s.shape), "random seeds, 25% masked pixels")

    add("one_pixel_seed", np.ones((1, 1), bool), np.ones((1, 1), bool), one((1, 1)), "1×1 seed")
    add("no_seed", np.zeros((5, 6), bool), np.ones((5, 6), bool), one((5, 6)), "no seed: skfmm raises ValueError")
    s = np.zeros((5, 6), bool); s[2, 2] = True; a = np.ones(s.shape, bool); a[2, 2] = False
    add("only_masked_seed", s, a, one(s.shape), "the only seed is masked: skfmm raises ValueError")
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    inputs = synthetic_cases()

    peak_seeds, nucleus_allowed, centroid_seeds, cytosol_allowed, speed = real_maps()
    for i, (y, x, h, w) in enumerate([(40, 60, 96, 112), (250, 230, 90, 120)]):
        crop = np.s_[y : y + h, x : x + w]
        where = f"scportrait_example3 Ch1/Ch2 [{y}:{y + h}, {x}:{x + w}]"
        # The nucleus step only runs distance, the cytosol step only travel time (keeps the fixtures small).
        inputs.append((f"real{i}_nucleus", peak_seeds[crop], nucleus_allowed[crop], None,
                       f"{where}: EDT peaks of thresholded nuclei, allowed = nuclei dilated by 2", ("distance",)))
        inputs.append((f"real{i}_cytosol", centroid_seeds[crop], cytosol_allowed[crop], speed[crop],
                       f"{where}: rounded nucleus centroids, allowed = WGA foreground, workflow speed map",
                       ("travelTime",)))

    cases = []
    for name, seeds, allowed, spd, origin, kernels in inputs:
        case = {"name": name, "origin": origin,
                "seeds": save(name + "_seeds", seeds.astype(np.uint8)),
                "allowed": save(name + "_allowed", allowed.astype(np.uint8))}
        if "distance" in kernels:
            dist, err = skfmm_reference(seeds, allowed)
            case["distance"] = save(name + "_distance", dist) if err is None else None
        if "travelTime" in kernels:
            case["speed"] = save(name + "_speed", spd)
            tt, err = skfmm_reference(seeds, allowed, spd)
            case["travelTime"] = save(name + "_travel", tt) if err is None else None
        if err is not None:
            case["skfmmError"] = err
        cases.append(case)

    manifest = {
        "generator": "scripts/make_fixtures_fmm.py",
        "reference": f"scikit-fmm {skfmm.__version__} (Debian python3-scikit-fmm), numpy {np.__version__}",
        "convention": "masked / unreached entries of skfmm's result are stored as +inf; an output that is null "
                      "(skfmmError set) means skfmm raised, and our kernels return +inf everywhere",
        "cases": cases,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    size = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(cases)} cases, {size / 1024:.0f} KiB written to {os.path.relpath(OUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
