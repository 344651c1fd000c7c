/**
 * Jest's node environment with the typed-array constructors of the main realm: onnxruntime-node's
 * native binding creates its output arrays there, and onnxruntime-common's `instanceof
 * Float32Array` checks fail against the sandbox's own constructors otherwise.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['ArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'];

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxEnvironment;
