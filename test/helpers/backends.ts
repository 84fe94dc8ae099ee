import { loadBackend } from '../../lib/kernels/index.js';

/**
 * Whether the native addon loads here. Without a compiler the package runs on WASM only, and tests that need
 * both backends are skipped — except under SCSEG_REQUIRE_NATIVE=1 (CI), where a missing addon is an error.
 */
export const nativeAvailable: boolean = (() => {
  try {
    loadBackend('native');
    return true;
  } catch (err) {
    if (process.env.SCSEG_REQUIRE_NATIVE === '1') throw err;
    return false;
  }
})();

export const testBackends: ('native' | 'wasm')[] = nativeAvailable ? ['native', 'wasm'] : ['wasm'];
/** `describe` when the native addon loads; otherwise the block is not even collected (its body would load it). */
export const describeIfNative = nativeAvailable
  ? describe
  : (name: string, _fn: () => void) => describe.skip(name, () => it.skip('needs the native addon', () => {}));
export const itIfNative = nativeAvailable ? it : it.skip;
