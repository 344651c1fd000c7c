// AssemblyScript entry of ecaf's WebAssembly SIMD kernels (scripts/build-wasm.mjs builds dist/wasm/kernels.wasm).
export { toQuads, horizontal, vertical, normalize } from './pil-resize';
export { transformResize } from './ffhq-transform';

/** The first byte past the module's own data: the kernels' buffers start here (src/align/simd/memory.ts). */
export function heapBase(): usize {
  return __heap_base;
}
