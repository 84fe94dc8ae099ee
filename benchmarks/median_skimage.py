#!/usr/bin/python3
"""Times skimage.filters.median(img, disk(r)) on a raw image file; prints one JSON line.

usage: median_skimage.py RAW_FILE HEIGHT WIDTH DTYPE RADIUS REPEAT [OUT_FILE]
"""
import json
import sys
import time

import numpy as np
import skimage
from skimage.filters import median
from skimage.morphology import disk

path, h, w, dtype, r, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
img = np.fromfile(path, dtype=np.dtype(dtype).newbyteorder("<")).reshape(h, w)
times = []
for _ in range(repeat):
    t0 = time.perf_counter()
    out = median(img, disk(r))
    times.append(time.perf_counter() - t0)
if len(sys.argv) > 7:
    out.astype(out.dtype.newbyteorder("<")).tofile(sys.argv[7])
print(json.dumps({"seconds": min(times), "all": times, "skimage": skimage.__version__}))
