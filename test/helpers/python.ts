import { spawnSync } from 'node:child_process';

/** The interpreter with Debian's scientific packages (the `python3` first on PATH may lack them). */
export const PYTHON = process.env.SCSEG_PYTHON ?? '/usr/bin/python3';

const cache = new Map<string, boolean>();

/**
 * Whether `PYTHON` can import every module. Tests that need a Python reference skip without it — unless
 * SCSEG_REQUIRE_PYTHON=1 (CI), where a missing module is an error, so a green CI always ran them.
 */
export function pythonHas(...modules: string[]): boolean {
  const key = modules.join(',');
  let ok = cache.get(key);
  if (ok === undefined) {
    ok = spawnSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' }).status === 0;
    cache.set(key, ok);
  }
  if (!ok && process.env.SCSEG_REQUIRE_PYTHON === '1') {
    throw new Error(`SCSEG_REQUIRE_PYTHON=1 but ${PYTHON} cannot import ${modules.join(', ')}`);
  }
  if (!ok) console.warn(`skipping tests that need ${PYTHON} with ${modules.join(', ')}`);
  return ok;
}

/**
 * An independent Zarr v2 reader (numpy + zlib) for `PYTHON`: argv[1] the array directory, argv[2] where its values
 * go as raw little-endian uint64; prints the array's metadata as JSON.
 */
export const ZARR_V2_DUMP = `
import sys, os, json, zlib, numpy as np
d = sys.argv[1]
meta = json.load(open(os.path.join(d, ".zarray")))
h, w = meta["shape"]; ch, cw = meta["chunks"]; sep = meta.get("dimension_separator", ".")
out = np.zeros((h, w), np.dtype(meta["dtype"]))
for by in range(-(-h // ch)):
    for bx in range(-(-w // cw)):
        raw = open(os.path.join(d, *f"{by}{sep}{bx}".split("/")), "rb").read()
        if meta["compressor"]: raw = zlib.decompress(raw)
        block = np.frombuffer(raw, np.dtype(meta["dtype"])).reshape(ch, cw)
        out[by*ch:(by+1)*ch, bx*cw:(bx+1)*cw] = block[:min(ch, h - by*ch), :min(cw, w - bx*cw)]
out.astype("<u8").tofile(sys.argv[2])
print(json.dumps(meta))
`;
