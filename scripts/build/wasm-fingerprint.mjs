// SHA-256 over every file the WASM build reads from this repository (kernels, binding, build files).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// native/fuzz holds the libFuzzer harnesses (npm run fuzz): the WASM build never reads them.
const NOT_BUILT = new Set(['native/fuzz']);

function listSources(root, dir) {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? NOT_BUILT.has(`${dir}/${e.name}`) ? [] : listSources(root, `${dir}/${e.name}`)
      : /\.(hpp|cpp|h)$/.test(e.name) ? [`${dir}/${e.name}`] : [],
  );
}

export function wasmSourceFingerprint(root) {
  const files = [
    ...listSources(root, 'native'),
    'CMakeLists.txt',
    'wasm/toolchain-wasi.cmake',
  ].sort();
  const hash = crypto.createHash('sha256');
  for (const f of files) {
    hash.update(`${f}\0`);
    hash.update(fs.readFileSync(path.join(root, f)).toString('utf8').replace(/\r\n/g, '\n'));
    hash.update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}
