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
