import { readFileSync } from 'node:fs';
import { distFile } from '../../util/paths.js';

// the global of Node's WebAssembly, as far as it is used here (the ES2022 lib has no WebAssembly types)
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

/** dist/wasm/kernels.wasm, built from wasm/ by scripts/build-wasm.mjs (npm run build). */
export const KERNELS_FILE = distFile('wasm/kernels.wasm');

/** The exports of kernels.wasm (wasm/index.ts): pointers are byte offsets into `memory`. */
export interface KernelExports {
  memory: WasmMemory;
  heapBase(): number;
  toQuads(src: number, w: number, h: number, q: number): void;
  horizontal(q: number, srcW: number, srcH: number, rx: number, ry: number, rh: number, outW: number, start: number, count: number, weights: number, size: number, out: number): void;
  vertical(src: number, width: number, outH: number, start: number, count: number, weights: number, size: number, out: number): void;
  normalize(rgb: number, n: number, out: number): void;
  transformResize(
    src: number, w: number, h: number, m0: number, m1: number, m2: number, m3: number, m4: number, m5: number, size: number, samples: number, step: number, g0: number,
    taps: number, pattern: number, xa: number, xb: number, start: number, lo: number, hi: number, weights: number, cut: number, cuts: number,
    row: number, ring: number, sum: number, out: number,
  ): void;
}

/**
 * The module's memory as one scratch stack per call: `alloc` every buffer first, then `views`
 * (growing the memory detaches earlier views, so none is made before the last alloc). Below the
 * stack, one pinned image: MTCNN's pyramid and crops all read the same photo, copied in once.
 */
export class Scratch {
  private top: number;
  private base: number;
  private pinned?: { px: Int32Array; at: number };
  constructor(readonly k: KernelExports) {
    this.top = this.base = k.heapBase();
  }
  /** An empty stack above the pinned image (`unpin`: drop it too). */
  reset(unpin = false): this {
    if (unpin) {
      this.pinned = undefined;
      this.base = this.k.heapBase();
    }
    this.top = this.base;
    return this;
  }
  /**
   * The offset of the packed image `px` (width w) in the quad layout (wasm/pil-resize.ts toQuads),
   * made unless it is the image pinned already (same array); resets the stack.
   */
  pin(px: Int32Array, w: number): number {
    if (this.pinned?.px !== px) {
      this.reset(true);
      const h = px.length / w;
      const at = this.alloc(Math.ceil(h / 4) * w * 16 * 3);
      this.base = this.top;
      // the packed copy lives on the stack above, only while it is converted
      const packed = this.alloc(px.length * 4);
      new Int32Array(this.ready(), packed, px.length).set(px);
      this.k.toQuads(packed, w, h, at);
      this.pinned = { px, at };
    }
    this.reset();
    return this.pinned.at;
  }
  /** `bytes` more (16-byte aligned, 16 bytes of slack for the kernels' whole-vector stores); the offset. */
  alloc(bytes: number): number {
    const at = (this.top + 15) & ~15;
    this.top = at + bytes + 16;
    return at;
  }
  /** Grow the memory to hold every buffer allocated; then views stay valid until the next grow. */
  ready(): ArrayBuffer {
    const mem = this.k.memory, need = this.top - mem.buffer.byteLength;
    if (need > 0) mem.grow(Math.ceil(need / 65536));
    return mem.buffer;
  }
}

let loaded: { exports: KernelExports; scratch: Scratch } | null | undefined;
let enabled = true;

function load(): { exports: KernelExports; scratch: Scratch } | null {
  try {
    const bytes = readFileSync(KERNELS_FILE);
    // a runtime without WebAssembly SIMD fails to validate the module: the JavaScript kernels run instead
    if (!WebAssembly.validate(bytes)) return null;
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as KernelExports;
    return { exports, scratch: new Scratch(exports) };
  } catch {
    return null; // not built (a checkout without npm run build): the JavaScript kernels
  }
}

/** The SIMD kernels and their scratch memory (one instance per thread), or null: unavailable, or switched off. */
export function simdKernels(): { exports: KernelExports; scratch: Scratch } | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** Whether the SIMD kernels load here (dist/wasm/kernels.wasm built, WebAssembly SIMD on). */
export const simdAvailable = (): boolean => {
  if (loaded === undefined) loaded = load();
  return loaded !== null;
};

/** Use the SIMD kernels (default) or the JavaScript ones, in this thread; returns the previous choice. */
export function useSimd(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}
