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
// The CLI tests spawn the command dozens of times: from a fresh build of lib/ (dist/, what users run) each spawn
// starts in a fraction of the time tsx needs to compile the sources again. A failed build is a failed run.
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('npm test: building lib/ into dist/ failed (see above)');
  process.exit(1);
}
const cliEntry = path.join(root, 'dist', 'lib', 'cli', 'main.js');
// Suites whose result does not depend on SCSEG_BACKEND run in the first pass only: pure TypeScript (config, the
// image readers and writers, the metrics), the distributed transport (its kernels are the sharded run's, tested per backend
// elsewhere), and the kernel suites that test every backend themselves (describe.each(testBackends)).
const ONCE = [
  '/test/(config|benchmarks|fuzz|distributed)/',
  '/test/io/(readers|windows|h5-coalesce|writers|label-writers)\\.test\\.ts$',
  '/test/kernels/(bad-input|cellpose|fmm|fuzz-regressions|labels|morphology|threads)\\.test\\.ts$',
  // the browser page runs the WASM kernels in Chromium whatever SCSEG_BACKEND is (its Node reference uses WASM too)
  '/test/web/',
];
let failed = false;
for (const [pass, backend] of backends.entries()) {
  console.log(`\n=== jest with SCSEG_BACKEND=${backend} ===`);
  // After the caller's arguments: jest's array options swallow the positional test paths that follow them.
  // (--passWithNoTests: `npm test -- test/config` has nothing left to run in the later passes.)
  const once = pass > 0 ? ['--passWithNoTests', ...['/node_modules/', ...ONCE].map((p) => `--testPathIgnorePatterns=${p}`)] : [];
  const r = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', jest, ...process.argv.slice(2), ...once], {
    stdio: 'inherit',
    env: { ...process.env, SCSEG_BACKEND: backend, SCSEG_TEST_CLI: cliEntry, SCSEG_TEST_BUILD: path.join(root, 'dist') },
  });
  if (r.status !== 0) failed = true;
}
const check = spawnSync(process.execPath, [path.join(root, 'scripts', 'build', 'build-wasm.mjs'), '--check'], { stdio: 'inherit' });
if (check.status !== 0) failed = true;
process.exit(failed ? 1 : 0);
