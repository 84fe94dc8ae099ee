import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BackendError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { moduleBackend, type Backend, type KernelBindings, type LoadedModule } from './backend.js';

const require = createRequire(import.meta.url);

/** Addon locations, first match wins: `fromEnv` (SCSEG_NATIVE_PATH) alone if set, else the cmake-js / node-gyp output. */
function candidates(fromEnv: string | undefined): string[] {
  if (fromEnv) return [path.resolve(fromEnv)];
  const root = packageRoot();
  return [
    path.join(root, 'build', 'Release', 'scseg_kernels.node'),
    path.join(root, 'build', 'Debug', 'scseg_kernels.node'),
  ];
}

function loadAddon(fromEnv: string | undefined): LoadedModule {
  const tried: string[] = [];
  for (const file of candidates(fromEnv)) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (missing)`);
      continue;
    }
    try {
      return { path: file, bindings: require(file) as KernelBindings };
    } catch (err) {
      tried.push(`${file} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  throw new BackendError(
    `native addon not available; tried:\n  ${tried.join('\n  ')}\n` +
      'Build it with cmake and a C++17 compiler installed: `npm rebuild scportrait-segmentation` where the package ' +
      'is a dependency (npm ≥ 11: `npm install-scripts approve scportrait-segmentation` first), `npm run build:native` ' +
      'in its own repository — or use SCSEG_BACKEND=wasm.',
  );
}

/** The native Node-API addon (loaded with require, so synchronously too), from `addonPath` or the build output. */
export function nativeBackend(addonPath?: string): Backend {
  const loadSync = () => loadAddon(addonPath);
  return moduleBackend('native', async () => loadSync(), loadSync);
}
