#!/usr/bin/env node
// Builds native/ to WebAssembly (clang wasm32-wasi + wasi-libc + emnapi) into wasm/dist/, together with a
// fingerprint of the sources it was built from, so tests can tell when the shipped .wasm is stale.
//   node scripts/build/build-wasm.mjs            build (fails with advice if the toolchain is missing)
//   node scripts/build/build-wasm.mjs --check    only verify that wasm/dist matches the current sources
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmSourceFingerprint } from './wasm-fingerprint.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = path.join(root, 'build-wasm');
const distDir = path.join(root, 'wasm', 'dist');
const fingerprintFile = path.join(distDir, 'scseg_kernels.wasm.sources');

if (process.argv.includes('--check')) {
  const shipped = fs.existsSync(fingerprintFile) ? fs.readFileSync(fingerprintFile, 'utf8').trim() : '(none)';
  const current = wasmSourceFingerprint(root);
  if (shipped !== current) {
    console.error(`wasm/dist is stale: built from ${shipped}, sources are ${current}. Run npm run build:wasm.`);
    process.exit(1);
  }
  console.log(`wasm/dist matches the sources (${current})`);
  process.exit(0);
}

const suffix = process.env.SCSEG_CLANG_SUFFIX ?? '-19';
const probe = spawnSync(`clang++${suffix}`, ['--version'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error(
    `clang++${suffix} not found. The WASM build needs (Debian): apt-get install -y clang-19 lld-19 ` +
      'libc++-19-dev-wasm32 libclang-rt-19-dev-wasm32 wasi-libc',
  );
  process.exit(1);
}

const run = (args) => {
  const r = spawnSync('cmake', args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run([
  '-G', 'Ninja', '-S', root, '-B', buildDir,
  `-DCMAKE_TOOLCHAIN_FILE=${path.join(root, 'wasm', 'toolchain-wasi.cmake')}`,
  `-DSCSEG_CLANG_SUFFIX=${suffix}`, '-DCMAKE_BUILD_TYPE=Release',
]);
run(['--build', buildDir]);

fs.mkdirSync(distDir, { recursive: true });
const tmp = path.join(distDir, `.scseg_kernels.wasm.${process.pid}`);
fs.copyFileSync(path.join(buildDir, 'scseg_kernels.wasm'), tmp);
fs.renameSync(tmp, path.join(distDir, 'scseg_kernels.wasm'));
fs.writeFileSync(fingerprintFile, `${wasmSourceFingerprint(root)}\n`);
console.log(`wrote ${path.relative(root, path.join(distDir, 'scseg_kernels.wasm'))}`);
