#!/usr/bin/python3
"""Run the ORIGINAL scPortrait classical segmentation (WGASegmentation / DAPISegmentation) on one image + config.

The original code is never vendored: point the environment variable SCPORTRAIT_SRC at a scPortrait source tree
(the directory that contains `src/scportrait`) and run this file with Debian's interpreter, which has the
scientific stack (python3-skimage, scipy, scikit-fmm, numba, sklearn, h5py, tifffile):

    SCPORTRAIT_SRC=/path/to/scPortrait /usr/bin/python3 benchmarks/python-original/run_original.py \
        --workflow WGASegmentation --config cfg.yml --input nuc.tif --input wga.tif --out /tmp/run [--repeat 3]

Writes out_dir/masks.npy ((n_masks, H, W), uint32 unless an id needs uint64) and out_dir/result.json.

What is the original and what is ours:
- The workflow class, its parameter parsing, channel selection (`Segmentation._select_relevant_channels`), and
  `_execute_segmentation` with every helper it calls are scPortrait's own code, imported from SCPORTRAIT_SRC.
  We call exactly what `Segmentation.process()` calls, minus `_save_benchmarking_times` (a CSV write), and
  replace `_save_segmentation_sdata` (SpatialData file plumbing) by capturing the (n_masks, H, W) array it is
  handed. The workflow still writes its own `processing.log` into out_dir/scportrait_log/.
- Import shims (ours): scPortrait's package `__init__`s pull in spatialdata, alphabase, torch... which are not
  installed. We register empty package objects whose `__path__` points at the real folders, so the submodules we
  need are imported from the real files while the `__init__`s never run, and stub the few third-party modules the
  needed submodules name but never use on this path (torch: only `cuda`/`mps.is_available()` in `_clear_cache`;
  alphabase.io.tempmmap; xarray: only `isinstance(x, xarray.DataArray)`; matplotlib_scalebar: plotting only). A stub is installed only if the real
  module cannot be imported. Touching anything else on a stub raises, so a stub can never silently change results.
- Input loading mimics `Project.load_input_from_tif_files`: uint8 channels become uint16 * 255, everything is
  cast to uint16 (DEFAULT_IMAGE_DTYPE), channels stacked in the order given (--keep-dtype skips the cast).
- Parity patch (ours, documented in SPEC "Parity target"): upstream requires scikit-image >= 0.22, whose
  `peak_local_max` sorts candidates with a STABLE argsort (equal distance-transform values stay in row-major
  order). Debian's 0.19.3 uses numpy's default (unstable) argsort there. With skimage < 0.20 we replace the `np`
  global of `skimage.feature.peak` by a proxy that is numpy except that `argsort` defaults to kind="stable" —
  the only call affected on our path is the candidate sort in `_get_high_intensity_peaks`. A self-check on a
  plateau image verifies the patch is active before anything runs.
- Timing: one warm-up run first (numba JIT compilation, lazy imports) on a central crop (falls back to the full
  image if the crop makes the original crash, e.g. no nucleus in the crop), then --repeat timed runs on the full
  image; `seconds` is the best wall time of channel selection + `_execute_segmentation`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import re
import subprocess
import sys
import time
import traceback
import types

WORKFLOWS = ("WGASegmentation", "DAPISegmentation")
WORKFLOW_MODULE = "scportrait.pipeline.segmentation.workflows._wga_segmentation"
WARMUP_CROP = 256


class HarnessError(Exception):
    """A problem with the harness inputs (not with the original code)."""


# ----------------------------------------------------------------------------------------------------------------
# Locating and importing the original


def locate_source() -> tuple[str, str]:
    """Return (tree root, package parent dir) from SCPORTRAIT_SRC, or raise HarnessError with what is expected."""
    src = os.environ.get("SCPORTRAIT_SRC")
    if not src:
        raise HarnessError(
            "SCPORTRAIT_SRC is not set. Point it at a scPortrait source tree, i.e. the directory that contains "
            "src/scportrait (e.g. a clone of https://github.com/MannLabs/scPortrait)."
        )
    root = os.path.abspath(os.path.expanduser(src))
    rel = os.path.join("scportrait", *WORKFLOW_MODULE.split(".")[1:]) + ".py"
    for parent in (os.path.join(root, "src"), root):
        if os.path.isfile(os.path.join(parent, rel)):
            return root, parent
    raise HarnessError(
        f"SCPORTRAIT_SRC={src!r} is not a scPortrait source tree: expected {os.path.join(root, 'src', rel)} "
        "(SCPORTRAIT_SRC must be the directory containing src/scportrait)."
    )


class _Stub(types.ModuleType):
    """A stand-in for an absent third-party module; any attribute not explicitly provided raises."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(
            f"run_original.py: the original touched {self.__name__}.{name}, which is stubbed because "
            f"{self.__name__} is not installed; this code path is outside what the harness supports."
        )


def _stub(name: str, **attrs) -> types.ModuleType:
    mod = _Stub(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, mod)
    return mod


def _unavailable_class(qualname: str) -> type:
    """A class that can be imported and used in isinstance checks, but not instantiated."""

    def init(self, *args, **kwargs):
        raise RuntimeError(f"run_original.py: {qualname} is stubbed (not installed)")

    return type(qualname.rpartition(".")[2], (), {"__init__": init})


def _importable(name: str) -> bool:
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def install_import_shims(pkg_parent: str) -> list[str]:
    """Register scPortrait's packages without running their __init__, and stub absent unused deps.

    Returns the names of the stubbed third-party modules (recorded in result.json).
    """
    stubbed = []
    if not _importable("torch"):  # only `torch.cuda/backends.mps.is_available()` in Logable._clear_cache

        def _false():
            return False

        _stub("torch")
        _stub("torch.cuda", is_available=_false)
        _stub("torch.backends")
        _stub("torch.backends.mps", is_available=_false)
        stubbed.append("torch")
    if not _importable("alphabase.io.tempmmap"):  # imported by segmentation.py, used only by Project/sharding
        for name in ("alphabase", "alphabase.io", "alphabase.io.tempmmap"):
            if name not in sys.modules:
                _stub(name)
        stubbed.append("alphabase")
    if not _importable("xarray"):  # only `isinstance(x, xarray.DataArray)` on our path
        _stub("xarray", DataArray=_unavailable_class("xarray.DataArray"))
        stubbed.append("xarray")
    if not _importable("matplotlib_scalebar.scalebar"):  # imported by scportrait.plotting._utils; plots only
        _stub("matplotlib_scalebar")
        _stub("matplotlib_scalebar.scalebar", ScaleBar=_unavailable_class("matplotlib_scalebar.scalebar.ScaleBar"))
        stubbed.append("matplotlib_scalebar")

    # Empty package objects over the real folders: submodules load from the real files, __init__s never run.
    base = os.path.join(pkg_parent, "scportrait")
    for pkg in (
        "scportrait",
        "scportrait._utils",
        "scportrait.io",
        "scportrait.plotting",
        "scportrait.processing",
        "scportrait.processing.images",
        "scportrait.processing.masks",
        "scportrait.pipeline",
        "scportrait.pipeline._utils",
        "scportrait.pipeline.segmentation",
        "scportrait.pipeline.segmentation.workflows",
    ):
        path = os.path.join(base, *pkg.split(".")[1:])
        mod = types.ModuleType(pkg)
        mod.__path__ = [path]
        mod.__package__ = pkg
        sys.modules[pkg] = mod
        parent, _, child = pkg.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, mod)
    return stubbed


def import_workflow(name: str):
    import importlib

    module = importlib.import_module(WORKFLOW_MODULE)
    return getattr(module, name)


def scportrait_provenance(root: str, pkg_parent: str) -> dict:
    version = None
    try:
        with open(os.path.join(pkg_parent, "scportrait", "__init__.py"), encoding="utf-8") as f:
            m = re.search(r'__version__\s*=\s*["\']([^"\']+)["\']', f.read())
            version = m.group(1) if m else None
    except OSError:
        pass
    commit, how = os.environ.get("SCPORTRAIT_COMMIT"), "env SCPORTRAIT_COMMIT"
    if not commit:
        try:
            out = subprocess.run(
                ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
            )
            # only trust git if root is the top of that work tree (not an export inside another repo)
            top = subprocess.run(
                ["git", "-C", root, "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10
            )
            if out.returncode == 0 and os.path.realpath(top.stdout.strip()) == os.path.realpath(root):
                commit, how = out.stdout.strip(), "git rev-parse HEAD"
        except (OSError, subprocess.SubprocessError):
            pass
    if not commit:
        how = None
    return {"src": root, "version": version, "commit": commit, "commit_source": how}


# ----------------------------------------------------------------------------------------------------------------
# Parity patch: stable peak sort on scikit-image < 0.20


class _StableArgsortNumpy(types.ModuleType):
    """numpy, except that argsort defaults to a stable sort (as skimage >= 0.20 asks for in peak_local_max)."""

    def __init__(self, np):
        super().__init__("numpy")
        self._np = np

    def __getattr__(self, name):
        return getattr(self._np, name)

    def argsort(self, a, axis=-1, kind=None, order=None):
        return self._np.argsort(a, axis=axis, kind="stable" if kind is None else kind, order=order)


def make_peak_sort_stable() -> str | None:
    import numpy as np
    import skimage
    import skimage.feature.peak as peak

    major, minor = (int(x) for x in skimage.__version__.split(".")[:2])
    note = None
    if (major, minor) < (0, 20):
        peak.np = _StableArgsortNumpy(np)
        note = (
            f"skimage {skimage.__version__}: skimage.feature.peak uses a numpy proxy whose argsort defaults to "
            "kind='stable' (peak_local_max candidate order as in skimage >= 0.20)"
        )
    # Self-check: a distance map with many equal maxima must yield peaks in row-major order among ties.
    from skimage.feature import peak_local_max

    img = np.zeros((40, 300))
    img[5:35:3, 5:295:3] = 1.0  # 10 x 97 isolated equal peaks
    got = peak_local_max(img, min_distance=1, footprint=np.ones((3, 3), bool))
    want = np.argwhere(img == 1.0)
    if not np.array_equal(got, want):
        raise HarnessError("peak_local_max tie order is not row-major (stable sort patch not effective)")
    return note



# ----------------------------------------------------------------------------------------------------------------
# Inputs


def load_channels(paths: list[str], keep_dtype: bool):
    """Stack the channel files to (C, H, W) like Project.load_input_from_tif_files (uint8 -> uint16*255, cast uint16)."""
    import numpy as np
    import tifffile

    channels = []
    for p in paths:
        if not os.path.isfile(p):
            raise HarnessError(f"input not found: {p}")
        im = np.squeeze(tifffile.imread(p))
        if im.ndim == 3 and im.shape[0] <= 8:
            planes = list(im)  # a multi-page file: one page per channel
        elif im.ndim == 2:
            planes = [im]
        else:
            raise HarnessError(f"{p}: expected a 2-D image or (C, H, W) stack, got shape {im.shape}")
        for plane in planes:
            if not keep_dtype:
                if plane.dtype == np.uint8:
                    plane = plane.astype(np.uint16) * np.iinfo(np.uint8).max
                plane = np.array(plane, dtype=np.uint16)
            channels.append(plane)
    shapes = {c.shape for c in channels}
    dtypes = {c.dtype for c in channels}
    if len(shapes) != 1:
        raise HarnessError(f"channel shapes differ: {sorted(shapes)}")
    if len(dtypes) != 1:
        raise HarnessError(f"channel dtypes differ (use the default uint16 conversion): {sorted(map(str, dtypes))}")
    return np.stack(channels)


# ----------------------------------------------------------------------------------------------------------------
# Running


def make_workflow(cls, config: dict, log_dir: str):
    wf = cls(
        config=copy.deepcopy(config),
        directory=log_dir,
        nuc_seg_name="seg_all_nucleus",
        cyto_seg_name="seg_all_cytosol",
        _tmp_image_path=None,
        project_location=None,
        debug=False,
        overwrite=True,
        project=None,
        filehandler=None,
    )
    captured = {}

    def capture(labels, classes, masks=None):  # replaces SpatialData writing
        captured["labels"], captured["classes"], captured["masks"] = labels, classes, masks

    wf._save_segmentation_sdata = capture
    return wf, captured


def run_once(cls, config: dict, image, log_dir: str) -> dict:
    wf, captured = make_workflow(cls, config, log_dir)
    t0 = time.perf_counter()
    selected = wf._select_relevant_channels(image)  # what Segmentation.process() does ...
    wf._execute_segmentation(selected)  # ... minus _save_benchmarking_times
    seconds = time.perf_counter() - t0
    return {
        "labels": captured["labels"],
        "classes": captured["classes"],
        "mask_names": list(captured["masks"] or wf.MASK_NAMES),
        "seconds": seconds,
        "original_total_time": getattr(wf, "total_time", None),
        "original_segmentation_time": getattr(wf, "segmentation_time", None),
        "segmentation_channels": list(wf.segmentation_channels),
    }


def warm_up(cls, config: dict, image, log_dir: str) -> dict:
    _, h, w = image.shape
    attempts = []
    if h > WARMUP_CROP or w > WARMUP_CROP:
        y0, x0 = max(0, (h - WARMUP_CROP) // 2), max(0, (w - WARMUP_CROP) // 2)
        attempts.append(("crop", image[:, y0 : y0 + WARMUP_CROP, x0 : x0 + WARMUP_CROP].copy()))
    attempts.append(("full", image))
    errors = []
    for kind, img in attempts:
        try:
            r = run_once(cls, config, img, log_dir)
            return {"on": kind, "shape": list(img.shape), "seconds": r["seconds"], "errors": errors}
        except Exception as e:  # the original may crash on a crop without nuclei (empty centroid list)
            errors.append(f"{kind} {list(img.shape)}: {type(e).__name__}: {e}")
    raise RuntimeError("warm-up failed: " + " | ".join(errors))


def versions() -> dict:
    import numba
    import numpy
    import scipy
    import skfmm
    import skimage
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "skimage": skimage.__version__,
        "scipy": scipy.__version__,
        "skfmm": getattr(skfmm, "__version__", None),
        "numba": numba.__version__,
        "sklearn": sklearn.__version__,
    }


_SETUP: dict = {}


def setup() -> dict:
    """Locate SCPORTRAIT_SRC, install the import shims and the parity patch (once per process)."""
    if not _SETUP:
        root, pkg_parent = locate_source()
        os.environ.setdefault("MPLBACKEND", "Agg")  # the original saves QC histograms with matplotlib
        stubbed = install_import_shims(pkg_parent)
        for name in WORKFLOWS:
            import_workflow(name)
        _SETUP.update(
            root=root,
            pkg_parent=pkg_parent,
            stubbed=stubbed,
            patch=make_peak_sort_stable(),
            provenance=scportrait_provenance(root, pkg_parent),
        )
    return _SETUP


def read_config(path: str) -> dict:
    import yaml

    if not os.path.isfile(path):
        raise HarnessError(f"config not found: {path}")
    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f)  # as scportrait.pipeline._utils.helper.read_config
    if not isinstance(config, dict):
        raise HarnessError(f"{path}: not a YAML mapping")
    return config


def run(
    workflow: str,
    config_path: str,
    inputs: list[str],
    out: str,
    repeat: int = 1,
    keep_dtype: bool = False,
    warmup: bool = True,
) -> dict:
    """Run the original once for warm-up and `repeat` times timed; write masks.npy + result.json into `out`."""
    import numpy as np

    if workflow not in WORKFLOWS:
        raise HarnessError(f"unknown workflow {workflow!r}, expected one of {WORKFLOWS}")
    if repeat < 1:
        raise HarnessError("repeat must be >= 1")
    env = setup()
    config = read_config(config_path)
    sections = [k for k in config if isinstance(config[k], dict) and k.endswith("Segmentation")]
    if sections and workflow not in config:
        raise HarnessError(f"{config_path} has sections {sections} but none for {workflow}")
    image = load_channels(inputs, keep_dtype)
    cls = import_workflow(workflow)

    os.makedirs(out, exist_ok=True)
    log_dir = os.path.join(out, "scportrait_log")

    warm = warm_up(cls, config, image, log_dir) if warmup else None
    runs = [run_once(cls, config, image, log_dir) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    labels = np.asarray(runs[-1]["labels"])
    deterministic = all(np.array_equal(np.asarray(r["labels"]), labels) for r in runs[:-1])

    out_dtype = np.uint32 if labels.size == 0 or labels.max() <= np.iinfo(np.uint32).max else np.uint64
    np.save(os.path.join(out, "masks.npy"), labels.astype(out_dtype))

    names = runs[-1]["mask_names"]
    result = {
        "workflow": workflow,
        "config": os.path.abspath(config_path),
        "inputs": [os.path.abspath(p) for p in inputs],
        "input_shape": list(image.shape),
        "input_dtype": str(image.dtype),
        "segmentation_channels": runs[-1]["segmentation_channels"],
        "shape": list(labels.shape),
        "mask_names": names,
        "mask_dtype": np.dtype(out_dtype).name,
        "original_mask_dtype": str(labels.dtype),
        "n_cells": {n: int(np.count_nonzero(np.unique(labels[i]))) for i, n in enumerate(names)},
        "n_classes_reported": len(runs[-1]["classes"]),
        "seconds": best["seconds"],
        "seconds_all": [r["seconds"] for r in runs],
        "original_total_time": best["original_total_time"],
        "original_segmentation_time": best["original_segmentation_time"],
        "repeat": repeat,
        "deterministic_across_repeats": deterministic,
        "warmup": warm,
        "scportrait": env["provenance"],
        "versions": versions(),
        "patches": [p for p in [env["patch"]] if p],
        "stubbed_modules": env["stubbed"],
        "cpu_count": os.cpu_count(),
    }
    with open(os.path.join(out, "result.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workflow", required=True, choices=WORKFLOWS)
    ap.add_argument("--config", required=True, help="YAML config (a top-level <workflow> section is used if present)")
    ap.add_argument("--input", required=True, action="append", help="channel TIFF, repeat in channel order")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs after the warm-up (best is reported)")
    ap.add_argument("--keep-dtype", action="store_true", help="do not convert inputs to uint16 as a Project does")
    ap.add_argument("--no-warmup", action="store_true", help="skip the warm-up run (timing then includes JIT)")
    args = ap.parse_args(argv)
    try:
        result = run(
            args.workflow, args.config, args.input, args.out, args.repeat, args.keep_dtype, not args.no_warmup
        )
    except HarnessError as e:
        print(f"run_original.py: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: result[k] for k in ("workflow", "shape", "n_cells", "seconds")}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        print("run_original.py: the original (or the harness) failed, see the traceback above", file=sys.stderr)
        sys.exit(1)
