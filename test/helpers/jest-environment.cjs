/**
 * jest's node environment, with the sandbox's typed-array constructors replaced by this realm's. onnxruntime-node
 * builds its output tensors from arrays its native binding made in the outer realm and checks them with
 * `instanceof Float32Array` inside the sandbox, which fails across realms (the CLI and the library, outside jest,
 * have one realm and never see this).
 */
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

const TYPED = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer',
];

class SharedTypedArraysEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArraysEnvironment;
