#!/usr/bin/env node
// `npm test`: the whole jest suite once per backend (native, then WASM), then a check that the shipped
// wasm/dist build matches the C++ sources. Extra arguments are passed to jest.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const jest = path.join(path.dirname(require.resolve('jest/package.json')), 'bin', 'jest.js');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const nativeBuilt = fs.existsSync(process.env.SCSEG_NATIVE_PATH ?? path.join(root, 'build', 'Release', 'scseg_kernels.node'));
let backends = (process.env.SCSEG_TEST_BACKENDS ?? 'native,wasm').split(',');
if (!nativeBuilt && backends.includes('native') && process.env.SCSEG_REQUIRE_NATIVE !== '1') {
  // A machine without a compiler installs with the WASM fallback only; test what it has.
  console.warn('native addon not built (npm run build:native): testing the WASM backend only');
  backends = backends.filter((b) => b !== 'native');
}
let failed = false;
for (const backend of backends) {
  console.log(`\n=== jest with SCSEG_BACKEND=${backend} ===`);
  const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', jest, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SCSEG_BACKEND: backend },
  });
  if (r.status !== 0) failed = true;
}
const check = spawnSync(process.execPath, [path.join(root, 'scripts', 'build', 'build-wasm.mjs'), '--check'], { stdio: 'inherit' });
if (check.status !== 0) failed = true;
process.exit(failed ? 1 : 0);
