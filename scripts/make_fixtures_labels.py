#!/usr/bin/python3
"""Golden fixtures for the marker watershed and the label utilities, from the exact calls the original makes.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_fixtures_labels.py
Writes test/fixtures/labels/<name>.bin (raw little-endian arrays, identical arrays stored once) and manifest.json.

References (Debian scikit-image 0.19.3, numpy 1.24.2, scipy 1.10.1, scikit-learn, scikit-fmm, numba):
  watershed            skimage.segmentation.watershed(surface, markers, mask=mask); again under scikit-image
                       >= 0.25.2 ($SCSEG_SKIMAGE_NEW_PATH) for the raiseToParent variant
  labelCentroids       scPortrait numba_mask_centroid(mask)                        } the ORIGINAL module files,
  removeEdgeLabels     scPortrait remove_edge_labels(mask)                         } exported from the read-only
  contactFilter        scPortrait contact_filter(mask, threshold)                  } mirror checkout into a temp
  sizeFilter           scPortrait SizeFilter(...).filter(mask) (+ filter_threshold)} dir at generation time and
  matchNucleusCytosol  scPortrait MatchNucleusCytosolIds(threshold).filter(n, c)   } imported with importlib
  normalQuantile       scipy.stats.norm.ppf                                          (never committed)
The original package cannot be imported here (its __init__ needs spatialdata, torch, ...): the three module files
are loaded on their own, with stubs for the plotting/logging helpers they import but these functions never use.
Mirror location: $SCSEG_SCPORTRAIT_MIRROR (default /work/.mirror/MannLabs+scPortrait/repo, a bare git repo).

Watershed surfaces: the nucleus step of the classical workflow on real crops (threshold, EDT peaks, skfmm distance
from the peaks inside the mask — every marker at value 0, so marker ties are decided by skimage's heap), the
cytosol step (skfmm travel time from nucleus centres), -EDT with plateau-maximum markers, and random plateaus with
markers on ties, outside the mask, with ids ≥ 2^31, on awkward shapes.
"""
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import types
import warnings

import numpy as np
import scipy
import skfmm
import skimage
from scipy import ndimage as ndi
from scipy.stats import norm
from skimage.feature import peak_local_max
from skimage.filters import threshold_otsu
from skimage.measure import label as cc_label
from skimage.morphology import disk
from skimage.segmentation import watershed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "labels")
SHARED = os.environ.get("SCSEG_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
MIRROR = os.environ.get("SCSEG_SCPORTRAIT_MIRROR", "/work/.mirror/MannLabs+scPortrait/repo")
# A scikit-image >= 0.25.2 (raises pushed priorities to the parent's: Kernels.watershed raiseToParent) importable
# with Debian's numpy, e.g.:  pip download scikit-image==0.26.0 lazy_loader --no-deps --only-binary=:all: -d W
# && unzip W/*.whl into one directory; pass that directory here.
SKIMAGE_NEW = os.environ.get("SCSEG_SKIMAGE_NEW_PATH")

RAISE_SCRIPT = """
import sys, numpy as np, skimage
from skimage.segmentation import watershed
v = tuple(int(p) for p in skimage.__version__.split(".")[:3])
assert v >= (0, 25, 2), skimage.__version__
data = np.load(sys.argv[1], allow_pickle=True)
out = {}
for k in sorted({k.rsplit("__", 1)[0] for k in data.files}):
    mask = data[k + "__mask"] if k + "__mask" in data.files else None
    out[k] = watershed(data[k + "__surface"], data[k + "__markers"], mask=mask)
np.savez(sys.argv[2], version=skimage.__version__, **out)
"""

rng = np.random.default_rng(20261127)
cases = []
saved = {}  # content hash -> array ref, so identical outputs are stored once


def save(name, arr):
    """Stores `arr`; uint32 label arrays whose ids fit are stored as uint16 (the tests widen them again)."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if arr.dtype == np.uint32 and (arr.size == 0 or arr.max() < 2**16):
        arr = arr.astype(np.uint16)
    name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name).strip("_")
    data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    key = hashlib.sha256(str(arr.dtype).encode() + str(arr.shape).encode() + data).hexdigest()
    if key not in saved:
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)
        saved[key] = {"file": name + ".bin", "dtype": str(arr.dtype), "shape": list(arr.shape)}
    return saved[key]


def load_original():
    """Imports scPortrait's segmentation.py / mask_filtering.py from the mirror without the package __init__."""
    import matplotlib

    matplotlib.use("Agg")
    tmp = tempfile.mkdtemp(prefix="scseg-original-")

    def stub(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m

    for pkg in ["scportrait", "scportrait.pipeline", "scportrait.pipeline._utils", "scportrait.plotting",
                "scportrait.processing", "scportrait.processing.images", "scportrait.processing.masks"]:
        stub(pkg, __path__=[])

    class Logable:  # the filters only call self.log
        def __init__(self, *args, directory=None, **kwargs):
            self.directory = directory

        def log(self, *args, **kwargs):
            pass

    stub("scportrait.pipeline._base", Logable=Logable)
    stub("scportrait.plotting._vis", plot_image_array=None)
    stub("scportrait.plotting._utils", _custom_cmap=None)
    stub("scportrait.processing.images._image_processing", downsample_img_pxs=None)
    modules = {}
    for name, rel in [("scportrait.pipeline._utils.constants", "pipeline/_utils/constants.py"),
                      ("scportrait.pipeline._utils.segmentation", "pipeline/_utils/segmentation.py"),
                      ("scportrait.processing.masks.mask_filtering", "processing/masks/mask_filtering.py")]:
        src = subprocess.run(["git", "-C", MIRROR, "show", f"HEAD:src/scportrait/{rel}"], check=True,
                             capture_output=True).stdout
        path = os.path.join(tmp, rel.replace("/", "__"))
        with open(path, "wb") as f:
            f.write(src)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        modules[name.rsplit(".", 1)[1]] = module
    commit = subprocess.run(["git", "-C", MIRROR, "rev-parse", "HEAD"], check=True, capture_output=True,
                            text=True).stdout.strip()
    return modules["segmentation"], modules["mask_filtering"], commit, tmp


def read_tif(rel):
    import tifffile

    img = tifffile.imread(os.path.join(SHARED, rel))
    return img if img.ndim == 2 else img[0]


def normalise(img):
    im = img.astype(np.float32)
    lo, hi = np.quantile(im, 0.01), np.quantile(im, 0.99)
    return np.clip((im - lo) / (hi - lo), 0, 1)


# ── watershed ─────────────────────────────────────────────────────────────────────────────────────────────────

ws_inputs = {}  # name -> (surface, markers, mask) for the scikit-image >= 0.25.2 run


def add_watershed(name, surface, markers, mask, origin):
    ref = watershed(surface, markers, mask=mask)
    assert ref.dtype == np.int32
    ws_inputs[name] = (surface, markers, mask)
    cases.append({
        "kernel": "watershed", "name": name, "origin": origin,
        "surface": save(f"ws_{name}_surface", surface),
        "markers": save(f"ws_{name}_markers", markers.astype(np.uint32)),
        "mask": None if mask is None else save(f"ws_{name}_mask", mask.astype(np.uint8)),
        "expected": save(f"ws_{name}_expected", ref.astype(np.uint32)),
    })
    return ref.astype(np.uint32)


def nucleus_watershed(img, origin, name):
    """The classical nucleus step on a real crop: returns the label image (uint32)."""
    x = normalise(img)
    fg = x > threshold_otsu(x)
    fg = ndi.binary_erosion(fg, disk(2), border_value=1)
    fg = ndi.binary_dilation(fg, disk(1))
    edt = ndi.distance_transform_edt(fg)
    peaks = peak_local_max(edt, min_distance=4, footprint=disk(3))
    markers = np.zeros(img.shape, np.int64)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    phi = np.ones(img.shape)
    phi[tuple(peaks.T)] = 0
    dist = skfmm.distance(np.ma.MaskedArray(phi, ~fg), dx=1)
    surface = np.ma.filled(dist, 0).astype(np.float64)
    assert (surface[markers > 0] == 0).all() and (markers > 0).sum() >= 2
    return add_watershed(name, surface, markers, fg, f"{origin}: nucleus step (skfmm distance from EDT peaks, mask)")


def cytosol_watershed(nuc_labels, membrane, origin, name, seg):
    """The WGA cytosol step: travel time from the (rounded) nucleus centres through the foreground."""
    x = normalise(membrane)
    background = (x < threshold_otsu(x)) & (nuc_labels == 0)
    background = ndi.binary_erosion(background, disk(2), border_value=1)
    speed = 0.9 * (1 - np.clip(x, 0, 0.8) / 0.8) + 0.1
    centers, _, ids = seg.numba_mask_centroid(nuc_labels.astype(np.uint64))
    px = np.round(centers).astype(np.uint64)
    phi = np.ones(x.shape)
    phi[px[:, 0], px[:, 1]] = 0
    tt = skfmm.travel_time(np.ma.MaskedArray(phi, background), speed, dx=1)
    tt = np.ma.filled(tt, tt.max()).astype(np.float64)
    markers = np.zeros(x.shape, np.int64)
    markers[px[:, 0], px[:, 1]] = nuc_labels[px[:, 0], px[:, 1]]
    ref = add_watershed(name, tt, markers, ~background, f"{origin}: cytosol step (skfmm travel time from centres)")
    return np.where(background, 0, ref).astype(np.uint32)


def watershed_cases(seg):
    ch1 = read_tif("scportrait_example3/Ch1.tif")
    ch2 = read_tif("scportrait_example3/Ch2.tif")
    bb = read_tif("bbbc039/images/IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif")
    real = {}
    real["ex3_nucleus"] = nucleus_watershed(ch1[24:88, 216:288], "scportrait_example3/Ch1.tif [24:88, 216:288]", "ex3_nucleus")
    real["bbbc_nucleus"] = nucleus_watershed(bb[0:56, 108:180], "bbbc039 IXMtest_A02_s1 [0:56, 108:180]", "bbbc_nucleus")
    nuc = nucleus_watershed(ch1[0:64, 240:304], "scportrait_example3/Ch1.tif [0:64, 240:304]", "ex3_nucleus2")
    real["ex3_nucleus2"] = nuc
    real["ex3_cytosol"] = cytosol_watershed(nuc, ch2[0:64, 240:304], "scportrait_example3/Ch2.tif [0:64, 240:304]", "ex3_cytosol", seg)

    # -EDT with every plateau maximum as a marker region (many equal-valued marker pixels), no mask.
    fg = ndi.gaussian_filter(rng.random((30, 34)), 2) > 0.5
    edt = ndi.distance_transform_edt(fg)
    markers = cc_label(edt >= max(edt.max() - 1, 1)).astype(np.int64)
    add_watershed("edt_plateaus", -edt, markers, None, "random blobs: -EDT, markers = top plateaus")
    add_watershed("edt_plateaus_masked", -edt, markers, fg, "random blobs: -EDT, mask = blobs")

    # Random integer plateaus: ties everywhere, markers of equal value, some outside the mask.
    for i, (h, w, levels, density, masked) in enumerate([(17, 23, 3, 0.05, True), (24, 19, 2, 0.1, False),
                                                         (20, 20, 1, 0.03, True), (9, 31, 4, 0.2, True),
                                                         (23, 22, 3, 0.01, False)]):
        surface = rng.integers(0, levels, (h, w)).astype(np.float64)
        markers = ((rng.random((h, w)) < density) * rng.integers(1, 6, (h, w))).astype(np.int64)
        mask = (rng.random((h, w)) < 0.8) if masked else None
        add_watershed(f"plateaus_{i}", surface, markers, mask, f"random {levels}-level plateaus, markers density {density}")

    # float32 surface (promoted to float64 by skimage), quarter-step levels.
    surface = (np.round(rng.random((21, 26)) * 4) / 4).astype(np.float32)
    markers = ((rng.random((21, 26)) < 0.04) * rng.integers(1, 9, (21, 26))).astype(np.int64)
    add_watershed("float32_levels", surface, markers, rng.random((21, 26)) < 0.9, "float32 quarter-step levels")

    # Marker ids >= 2^31 (skimage stores int32: the bit pattern survives), -0.0 vs 0.0 ties, ±inf values.
    surface = rng.integers(0, 2, (14, 15)).astype(np.float64)
    surface[rng.random((14, 15)) < 0.2] = -0.0
    surface[3, 4] = np.inf
    surface[7, 1] = -np.inf
    markers = np.zeros((14, 15), np.uint32)
    idx = rng.choice(14 * 15, 8, replace=False)
    markers.flat[idx] = np.array([2**31, 2**32 - 1, 5, 2**31 + 7, 9, 2**32 - 1, 1, 3000000000], np.uint32)
    add_watershed("big_ids", surface, markers, None, "marker ids >= 2^31, signed zeros, infinities")

    # Awkward shapes.
    add_watershed("row", np.array([[0, 1, 2, 3, 4, 5, 1, 0]], np.float64), np.array([[1, 0, 0, 0, 0, 0, 0, 2]]), None, "1×8 row")
    add_watershed("column", np.array([[3], [2], [2], [2], [2]], np.float64), np.array([[0], [4], [0], [0], [5]]), None, "5×1 column")
    add_watershed("single", np.zeros((1, 1)), np.array([[7]]), None, "1×1 marker")
    add_watershed("single_masked_out", np.zeros((1, 1)), np.array([[7]]), np.zeros((1, 1), bool), "1×1 marker outside the mask")
    add_watershed("no_markers", rng.random((5, 6)), np.zeros((5, 6), np.int64), None, "no markers: all zero")

    # Masks of many small parts over 2^16 pixels, which the kernel floods part by part: a real nucleus step (all
    # markers tied at 0) and random blobs on integer plateaus with tied markers of several values (own rng, so
    # the cases above and below keep their random draws).
    nucleus_watershed(ch1[0:272, 0:272], "scportrait_example3/Ch1.tif [0:272, 0:272]", "ex3_nucleus_parts")
    parts_rng = np.random.default_rng(20261125)
    h, w = 260, 270
    yy, xx = np.mgrid[0:h, 0:w]
    blobs = np.zeros((h, w), bool)
    markers = np.zeros((h, w), np.int64)
    for k in range(60):
        cy, cx, r = parts_rng.integers(0, h), parts_rng.integers(0, w), parts_rng.integers(3, 16)
        blobs |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        for _ in range(parts_rng.integers(1, 4)):
            my, mx = np.clip(cy + parts_rng.integers(-2, 3), 0, h - 1), np.clip(cx + parts_rng.integers(-2, 3), 0, w - 1)
            markers[my, mx] = parts_rng.integers(1, 200)
    surface = parts_rng.integers(0, 3, (h, w)).astype(np.float32)
    add_watershed("parts_plateaus", surface, markers, blobs, "random blobs (many parts) on 3-level plateaus, tied markers")
    return real


# ── label utilities ───────────────────────────────────────────────────────────────────────────────────────────

def random_labels(h, w, k, background=0.3, sparse=False):
    seeds = np.zeros((h, w), np.int64)
    seeds.flat[rng.choice(h * w, k, replace=False)] = np.arange(1, k + 1)
    lab = watershed(rng.random((h, w)), seeds).astype(np.uint64)
    lab[rng.random((h, w)) < background] = 0
    if sparse:
        lab = np.where(lab > 0, (lab * 2654435761) % (2**32 - 1) + 1, 0).astype(np.uint64)
    return lab


def label_cases(seg, mf, real, tmp):
    dsb = read_tif("dsb_nuclei/dsb_256_labels.tif").astype(np.uint64)
    inputs = [(v.astype(np.uint64), f"watershed fixture {k}") for k, v in real.items()]
    inputs += [
        (dsb[60:124, 100:164].copy(), "dsb_nuclei/dsb_256_labels.tif [60:124, 100:164]"),
        (random_labels(24, 31, 12), "random labels with background"),
        (random_labels(19, 22, 9, background=0.0), "random labels, no background pixel"),
        (random_labels(23, 17, 10, sparse=True), "sparse ids up to 2^32-1"),
        (random_labels(2, 9, 3), "2 rows (no interior pixel)"),
        (np.array([[4]], np.uint64), "1×1 label"),
        (np.zeros((3, 4), np.uint64), "all background"),
    ]
    label_refs = []
    for i, (lab, origin) in enumerate(inputs):
        ref = save(f"labels_{i:02d}", lab.astype(np.uint32))
        label_refs.append((ref, lab, origin))
        ids, counts = np.unique(lab, return_counts=True)
        keep = ids != 0
        cases.append({"kernel": "labelAreas", "labels": ref, "origin": origin,
                      "ids": [int(v) for v in ids[keep]], "areas": [int(v) for v in counts[keep]]})
        if 0 < lab.max() < 2**20:
            centers, _, cids = seg.numba_mask_centroid(lab)
        elif lab.max() > 0:  # numba_mask_centroid allocates max(id)+1 rows: same sums, by id, in raster order
            cids = ids[keep]
            ys, xs = np.nonzero(lab)
            order = np.searchsorted(cids, lab[ys, xs])
            sy, sx, n = np.zeros(len(cids)), np.zeros(len(cids)), np.zeros(len(cids), np.uint64)
            for j, y, x in zip(order, ys, xs):
                sy[j] += y
                sx[j] += x
                n[j] += 1
            centers = np.stack((sy / n, sx / n)).T
        if lab.max() > 0:
            cases.append({"kernel": "labelCentroids", "labels": ref, "origin": origin,
                          "ids": save(f"centroids_{i:02d}_ids", cids.astype(np.uint32)),
                          "y": save(f"centroids_{i:02d}_y", np.ascontiguousarray(centers[:, 0])),
                          "x": save(f"centroids_{i:02d}_x", np.ascontiguousarray(centers[:, 1]))})
        cases.append({"kernel": "removeEdgeLabels", "labels": ref, "origin": origin,
                      "expected": save(f"edges_{i:02d}", seg.remove_edge_labels(lab).astype(np.uint32))})
        if lab.max() < 2**20:  # contact_filter allocates max(id)+1 counters
            for t in [0.0, 0.3, 0.5, 0.75, 1.0, 1.2]:
                out = seg.contact_filter(lab, threshold=t)
                cases.append({"kernel": "contactFilter", "labels": ref, "origin": origin, "threshold": t,
                              "expected": save(f"contact_{i:02d}_{t}", out.astype(np.uint32))})
        fg_areas = np.unique(lab, return_counts=True)[1][1:]
        explicit = [[200, 5000]]
        if len(fg_areas) > 0:  # quartiles (strict < / >), and an exact area (equal sizes are kept)
            q1, med, q3 = (int(v) for v in np.percentile(fg_areas, [25, 50, 75], method="nearest"))
            explicit += [[q1, q3], [med, med], [med - 0.5, float(med)]]
        for thresholds in explicit + [None]:
            for ci in ([0.95, 0.5, 0.99] if thresholds is None else [None]):
                counts_fg = np.unique(lab, return_counts=True)[1][1:]
                if thresholds is None and len(counts_fg) < 2:
                    continue  # sklearn cannot fit fewer than two samples: the original raises
                f = mf.SizeFilter(label=f"case{i}", log=True, plot_qc=False, directory=tmp,
                                  confidence_interval=ci if ci is not None else 0.95, filter_threshold=thresholds)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = f.filter(lab.copy())
                applied = [float(v) for v in f.filter_threshold]
                # Our mean/variance may differ from sklearn's BLAS sums in the last bits: keep fixtures away
                # from thresholds that sit on an integer area.
                assert all(abs(a - round(a)) > 1e-6 for a in applied) or thresholds is not None, applied
                cases.append({"kernel": "sizeFilter", "labels": ref, "origin": origin,
                              "thresholds": thresholds, "confidenceInterval": ci, "applied": applied,
                              "removed": sorted(int(v) for v in f.ids_to_remove),
                              "expected": save(f"size_{i:02d}_{'auto' if thresholds is None else '-'.join(map(str, thresholds))}_{ci}",
                                                  out.astype(np.uint32))})
    return label_refs


def match_cases(mf, real, label_refs):
    pairs = [
        (real["ex3_nucleus2"], real["ex3_cytosol"], "watershed fixtures ex3_nucleus2 / ex3_cytosol (same crop)"),
    ]
    # Synthetic: cytosols grown from nuclei, one cytosol spanning two nuclei, nuclei on cytosol background,
    # cytosols without nucleus, renamed ids colliding with other cytosol ids.
    nuc = np.zeros((30, 40), np.uint64)
    nuc[3:7, 3:8] = 5
    nuc[3:7, 12:16] = 2
    nuc[14:18, 4:9] = 9
    nuc[14:18, 12:15] = 11
    nuc[22:27, 25:30] = 3
    nuc[5:9, 30:34] = 14
    cyto = np.zeros((30, 40), np.uint64)
    cyto[1:10, 1:20] = 7       # holds nuclei 5 and 2 → multinucleated, all discarded
    cyto[12:20, 2:10] = 2      # nucleus 9 → renamed 9 (id 2 is also a nucleus id)
    cyto[12:20, 10:17] = 9     # nucleus 11 → renamed 11
    cyto[15:18, 13:15] = 4     # part of nucleus 11: proportions decide
    cyto[21:29, 22:33] = 1     # nucleus 3, except a corner on background
    cyto[22, 25] = 0
    cyto[2:12, 28:38] = 6      # nucleus 14
    cyto[25:29, 2:8] = 8       # no nucleus → discarded
    pairs.append((nuc, cyto, "synthetic: multinucleated, background overlap, id collisions, empty cytosol"))
    nuc2 = random_labels(26, 28, 9, background=0.5)
    cyto2 = np.where(ndi.grey_dilation(nuc2, size=5) > 0, ndi.grey_dilation(nuc2, size=5) * 3 + 1, 0).astype(np.uint64)
    cyto2[rng.random(cyto2.shape) < 0.1] = 0
    pairs.append((nuc2, cyto2, "random nuclei, dilated ×3+1 cytosols with holes"))
    pairs.append((random_labels(21, 25, 8, background=0.0), random_labels(21, 25, 5, background=0.0),
                  "random, neither mask has background (first-unique quirk on both)"))
    pairs.append((random_labels(20, 22, 8, sparse=True), random_labels(20, 22, 6, background=0.1, sparse=True),
                  "sparse ids up to 2^32-1"))
    for i, (n, c, origin) in enumerate(pairs):
        nref = save(f"match_{i}_nucleus", n.astype(np.uint32))
        cref = save(f"match_{i}_cytosol", c.astype(np.uint32))
        for t in [0.95, 0.5, 0.0, 1.0, 0.3]:
            f = mf.MatchNucleusCytosolIds(filtering_threshold=t)
            rn, rc = f.filter(nucleus_mask=n.copy(), cytosol_mask=c.copy())
            cases.append({"kernel": "matchNucleusCytosol", "origin": origin, "threshold": t,
                          "nucleus": nref, "cytosol": cref,
                          "expectedNucleus": save(f"match_{i}_{t}_nucleus", rn.astype(np.uint32)),
                          "expectedCytosol": save(f"match_{i}_{t}_cytosol", rc.astype(np.uint32))})


def raise_to_parent_references():
    """Runs the watershed cases again under scikit-image >= 0.25.2 (a separate interpreter environment)."""
    if not SKIMAGE_NEW:
        sys.exit("set SCSEG_SKIMAGE_NEW_PATH to a scikit-image >= 0.25.2 directory (see the top of this script)")
    tmp = tempfile.mkdtemp(prefix="scseg-ws-")
    arrays = {}
    for name, (surface, markers, mask) in ws_inputs.items():
        arrays[name + "__surface"] = surface
        arrays[name + "__markers"] = markers
        if mask is not None:
            arrays[name + "__mask"] = mask
    np.savez(os.path.join(tmp, "in.npz"), **arrays)
    env = {**os.environ, "PYTHONPATH": SKIMAGE_NEW}
    subprocess.run([sys.executable, "-c", RAISE_SCRIPT, os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")],
                   check=True, env=env)
    out = np.load(os.path.join(tmp, "out.npz"))
    for c in cases:
        if c["kernel"] == "watershed":
            c["expectedRaiseToParent"] = save(f"ws_{c['name']}_expected_raise", out[c["name"]].astype(np.uint32))
    return str(out["version"])


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".bin"):
            os.remove(os.path.join(OUT, f))
    seg, mf, commit, tmp = load_original()
    real = watershed_cases(seg)
    new_version = raise_to_parent_references()
    label_refs = label_cases(seg, mf, real, tmp)
    match_cases(mf, real, label_refs)
    ps = [1e-300, 1e-20, 1e-10, 1e-5, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5,
          0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 1 - 1e-10, 1 - 2**-53]
    assert norm.ppf(0.0) == -np.inf and norm.ppf(1.0) == np.inf  # checked directly by the tests
    cases.append({"kernel": "normalQuantile", "p": ps, "ppf": [float(norm.ppf(p)) for p in ps]})
    manifest = {
        "generator": "scripts/make_fixtures_labels.py",
        "reference": f"scikit-image {skimage.__version__} (raiseToParent: scikit-image {new_version}), numpy "
                     f"{np.__version__}, scipy {scipy.__version__}, scikit-fmm; scPortrait {commit} "
                     "(segmentation.py, mask_filtering.py)",
        "cases": cases,
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:  # one case per line
        head = json.dumps({k: v for k, v in manifest.items() if k != "cases"}, indent=1)[:-2]
        f.write(head + ',\n "cases": [\n' + ",\n".join("  " + json.dumps(c, allow_nan=False) for c in cases) + "\n ]\n}\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(cases)} cases, {len(saved)} arrays, {total / 1024:.0f} KiB in {os.path.relpath(OUT, ROOT)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
