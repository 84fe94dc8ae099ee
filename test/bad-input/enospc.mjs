// A full disk, simulated (no tiny filesystem needed): once installed, every write under `dir` fails with ENOSPC
// after `after` bytes have been written there — as a disk that fills up mid-run. It patches the fs module's write
// entry points that our writers and h5wasm's NODERAWFS use. Loaded with `node --import` (the CLI, and through
// NODE_OPTIONS its worker threads), it installs itself from SCSEG_TEST_ENOSPC_DIR / SCSEG_TEST_ENOSPC_AFTER.
import fs from 'node:fs';
import path from 'node:path';

/** Installs the failure; returns the function that removes it. */
export function installEnospc(dirPath, after = 0) {
  const dir = path.resolve(dirPath);
  let budget = after;
  const inside = (p) => typeof p === 'string' && (path.resolve(p) === dir || path.resolve(p).startsWith(dir + path.sep));
  const fds = new Set();
  const full = (bytes) => bytes > 0 && (budget -= bytes) < 0;
  const enospc = (where) => {
    const err = new Error(`ENOSPC: no space left on device, write${where ? ` '${where}'` : ''}`);
    return Object.assign(err, { code: 'ENOSPC', errno: -28, syscall: 'write' });
  };
  const size = (data, length) => (typeof length === 'number' ? length : typeof data === 'string' ? Buffer.byteLength(data) : data?.byteLength ?? 0);
  const original = { openSync: fs.openSync, closeSync: fs.closeSync, writeSync: fs.writeSync, writeFileSync: fs.writeFileSync, writeFile: fs.promises.writeFile };

  fs.openSync = function (p, ...rest) {
    const fd = original.openSync.call(this, p, ...rest);
    if (inside(String(p))) fds.add(fd);
    return fd;
  };
  fs.closeSync = function (fd, ...rest) {
    fds.delete(fd);
    return original.closeSync.call(this, fd, ...rest);
  };
  fs.writeSync = function (fd, data, offsetOrPosition, length, ...rest) {
    if (fds.has(fd) && full(typeof data === 'string' ? Buffer.byteLength(data) : size(data, length))) throw enospc();
    return original.writeSync.call(this, fd, data, offsetOrPosition, length, ...rest);
  };
  fs.writeFileSync = function (p, data, ...rest) {
    if (inside(String(p)) && full(size(data))) {
      original.writeFileSync.call(this, p, '', ...rest); // created, then found the disk full
      throw enospc(String(p));
    }
    return original.writeFileSync.call(this, p, data, ...rest);
  };
  fs.promises.writeFile = async function (p, data, ...rest) {
    if (inside(String(p)) && full(size(data))) {
      await original.writeFile.call(this, p, '', ...rest);
      throw enospc(String(p));
    }
    return original.writeFile.call(this, p, data, ...rest);
  };
  return () => {
    fs.openSync = original.openSync;
    fs.closeSync = original.closeSync;
    fs.writeSync = original.writeSync;
    fs.writeFileSync = original.writeFileSync;
    fs.promises.writeFile = original.writeFile;
  };
}

if (process.env.SCSEG_TEST_ENOSPC_DIR) installEnospc(process.env.SCSEG_TEST_ENOSPC_DIR, Number(process.env.SCSEG_TEST_ENOSPC_AFTER ?? '0'));
