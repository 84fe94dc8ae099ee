#!/usr/bin/env node
// Install hook: builds the native addon from source with cmake-js (offline: Node-API headers come from the
// node-api-headers package). A machine without a compiler still gets a working package through the WASM
// build shipped in wasm/dist/, so a failed build only warns — unless SCSEG_REQUIRE_NATIVE=1 (used by CI).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const required = process.env.SCSEG_REQUIRE_NATIVE === '1';

if (process.env.SCSEG_SKIP_NATIVE === '1') {
  console.log('scportrait-segmentation: SCSEG_SKIP_NATIVE=1, not building the native addon (WASM will be used)');
  process.exit(0);
}

let cmakeJs;
try {
  cmakeJs = createRequire(path.join(root, 'package.json')).resolve('cmake-js/bin/cmake-js');
} catch {
  cmakeJs = undefined;
}

const result = cmakeJs
  ? spawnSync(process.execPath, [cmakeJs, 'compile', '--directory', root], { stdio: 'inherit', cwd: root })
  : { status: 1, error: new Error('cmake-js is not installed') };

if (result.status === 0) process.exit(0);

const reason = result.error ? result.error.message : `cmake-js exited with ${result.status}`;
const advice =
  'Install cmake and a C++17 compiler (Debian: apt-get install -y cmake g++), then `npm rebuild scportrait-segmentation` ' +
  '(as a dependency) or `npm run build:native` (in its repository).';
if (required) {
  console.error(`scportrait-segmentation: native build failed (${reason}). ${advice}`);
  process.exit(1);
}
console.warn(`scportrait-segmentation: native build failed (${reason}); the WebAssembly build will be used. ${advice}`);
process.exit(0);
