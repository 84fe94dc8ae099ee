#!/usr/bin/python3
"""Cellpose 3.1.1.3's side of benchmarks/cellpose-eval.bench.ts: builds the benchmark image, times Cellpose's eval
with the stand-in network.

usage: CELLPOSE_SRC=... PYTHONPATH=<fastremap/fill_voids stand-ins> cellpose_eval.py OUT_DIR SIZE REPEAT

Input: the BBBC039 nucleus fields of the shared data folder (SCSEG_SHARED_DATA, default ../shared/data beside the
repository; uint16, 520 × 696) tiled 4 × 3 in sorted file order and cropped to SIZE² (the same tiling as
cellpose_dynamics.py), written as OUT_DIR/image.tif (tifffile, uncompressed) and OUT_DIR/image.u16 (raw); the
field's ground-truth labels tiled the same way give the object count.

Cellpose: CellposeModel(pretrained_model=False, device=cpu, mkldnn=False, nchan=2) whose .net is the stand-in torch
module (scripts/fixtures/cellpose_onnx.py stand_in_net — the network exported as
test/fixtures/cellpose-onnx/stand_in.onnx) with diam_mean = diam_labels = 17, set up as
scripts/fixtures/make_cellpose_onnx_fixtures.py does (its load_cellpose: the int64 patch of get_masks_torch);
eval(image, channels=[1, 0]) with every other argument at its default (diameter None → rescale 1, flow_threshold
0.4, cellprob_threshold 0, min_size 15). Torch threads: torch's default, and all cores (os.cpu_count()) when that
differs. Per thread setting, REPEAT runs of [tifffile.imread(image.tif); eval]: best eval time and best
read + eval time. Every run's masks must be identical.

Writes OUT_DIR/masks.u32 (eval's masks) and OUT_DIR/masks_noedge.u32 (scPortrait's remove_edge_labels of them),
raw little-endian uint32, and prints one JSON line with the timings.
"""
import glob
import json
import os
import sys
import time

T_START = time.perf_counter()
SCRIPT = "cellpose_eval.py"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))

import cellpose_onnx as co  # noqa: E402
import cellpose_source as cs  # noqa: E402

if len(sys.argv) != 4:
    cs.die(SCRIPT, "usage: cellpose_eval.py OUT_DIR SIZE REPEAT")
out_dir, size, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cs.cellpose_on_path(SCRIPT, "models.py")  # exit 2, saying why, without a usable CELLPOSE_SRC

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import tifffile  # noqa: E402
import torch  # noqa: E402
from make_cellpose_onnx_fixtures import load_cellpose  # noqa: E402

_, dynamics, models, _, _, _ = load_cellpose()
T_IMPORTED = time.perf_counter()

shared = os.environ.get("SCSEG_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
images = sorted(glob.glob(os.path.join(shared, "bbbc039", "images", "*.tif")))
labels = sorted(glob.glob(os.path.join(shared, "bbbc039", "labels", "*.png")))
if not images or len(images) != len(labels):
    cs.die(SCRIPT, f"no BBBC039 images and labels under {shared}/bbbc039 (set SCSEG_SHARED_DATA)")


def tiled(tiles, relabel):
    th, tw = tiles[0].shape
    rows, cols = -(-size // th), -(-size // tw)
    big = np.zeros((rows * th, cols * tw), np.int64)
    offset = 0
    for i in range(rows * cols):
        t = tiles[i % len(tiles)].astype(np.int64)
        r, c = divmod(i, cols)
        big[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = np.where(t > 0, t + offset, 0) if relabel else t
        if relabel:
            offset = int(big.max())
    return big[:size, :size]


image = tiled([tifffile.imread(f) for f in images], False).astype(np.uint16)
gt = tiled([cv2.imread(f, cv2.IMREAD_UNCHANGED) for f in labels], True)
gt_objects = int(len(np.unique(gt)) - 1)
tif = os.path.join(out_dir, "image.tif")
tifffile.imwrite(tif, image)
image.astype("<u2").tofile(os.path.join(out_dir, "image.u16"))


def remove_edge_labels(m):
    """scPortrait's remove_edge_labels: every id on the first/last row/column set to 0 everywhere."""
    edge = set(np.unique(np.concatenate([m[0], m[-1], m[:, 0], m[:, -1]]))) - {0}
    return np.where(np.isin(m, list(edge)), 0, m)


cpu = torch.device("cpu")
net = co.stand_in_net(torch)
m = models.CellposeModel(pretrained_model=False, device=cpu, mkldnn=False, diam_mean=17.0, nchan=2)
m.net = net
m.diam_mean = float(net.diam_mean.item())
m.diam_labels = float(net.diam_labels.item())

default_threads = torch.get_num_threads()
settings = [default_threads] + ([os.cpu_count()] if os.cpu_count() != default_threads else [])
runs, masks = [], None
for threads in settings:
    torch.set_num_threads(threads)
    evals, totals = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        x = tifffile.imread(tif)
        t1 = time.perf_counter()
        out = m.eval(x, channels=[1, 0])[0]
        t2 = time.perf_counter()
        evals.append(t2 - t1)
        totals.append(t2 - t0)
        if masks is None:
            masks = out
        elif not np.array_equal(out, masks):
            cs.die(SCRIPT, f"eval's masks differ between runs (torch threads {threads})")
    runs.append({"torchThreads": threads, "default": threads == default_threads, "eval": min(evals),
                 "readAndEval": min(totals), "evalRuns": evals})
    print(f"{SCRIPT}: torch threads {threads}: eval best {min(evals):.2f} s, read + eval best {min(totals):.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in evals)})", file=sys.stderr)

noedge = remove_edge_labels(masks)
masks.astype("<u4").tofile(os.path.join(out_dir, "masks.u32"))
noedge.astype("<u4").tofile(os.path.join(out_dir, "masks_noedge.u32"))
print(json.dumps({
    "size": size, "groundTruthObjects": gt_objects, "masks": int(len(np.unique(masks)) - 1),
    "masksNoEdge": int(len(np.unique(noedge)) - 1), "runs": runs, "cpuCount": os.cpu_count(),
    "importSeconds": T_IMPORTED - T_START, "torch": torch.__version__, "numpy": np.__version__,
    "tifffile": tifffile.__version__}))
