import type { PackedRgb, Region, Taps } from '../mtcnn/resample.js';
import type { simdKernels } from './kernels.js';

type Kernels = NonNullable<ReturnType<typeof simdKernels>>;

/** PIL's weight of one whole tap: an axis whose size does not change is this 1-tap filter (PIL skips the pass; same bytes). */
const ONE = 2 ** 22;
const identity = new Map<number, Taps>();

/** The 1-tap table of an axis of n pixels: output i is input i. */
export function identityTaps(n: number): Taps {
  let t = identity.get(n);
  if (!t) {
    if (identity.size >= 256) identity.clear();
    t = { start: Int32Array.from({ length: n }, (_, i) => i), count: new Int32Array(n).fill(1), weights: new Int32Array(n).fill(ONE), size: 1 };
    identity.set(n, t);
  }
  return t;
}

/** Where resizeRegionSimd leaves its result: RGB bytes, or the nets' normalised planes written into `input` at `at`. */
export interface NetInput {
  input: Float32Array;
  at: number;
}

/**
 * resample.ts's resizeRegionPil on the SIMD kernels (wasm/pil-resize.ts): the image is pinned in
 * the module's memory (copied once for all the calls on it: packed images are never changed), then
 * the two passes (`h`, `v`: PIL's coefficient tables, or identityTaps for an axis that keeps its
 * size), then the bytes come back (or go straight to the nets' input).
 */
export function resizeRegionSimd(kern: Kernels, img: PackedRgb, r: Region, width: number, height: number, h: Taps, v: Taps, into?: NetInput): Uint8ClampedArray | undefined {
  const { exports: k, scratch } = kern;
  const src = scratch.pin(img.px, img.width);
  const n = width * height;
  const hs = scratch.alloc(h.start.length * 4), hc = scratch.alloc(h.count.length * 4), hw = scratch.alloc(h.weights.length * 4);
  const vs = scratch.alloc(v.start.length * 4), vc = scratch.alloc(v.count.length * 4), vw = scratch.alloc(v.weights.length * 4);
  const mid = scratch.alloc(width * r.height * 4);
  const rgb = scratch.alloc(n * 3);
  const planes = into ? scratch.alloc(n * 12) : 0;
  const buf = scratch.ready();
  const i32 = new Int32Array(buf);
  i32.set(h.start, hs >> 2);
  i32.set(h.count, hc >> 2);
  i32.set(h.weights, hw >> 2);
  i32.set(v.start, vs >> 2);
  i32.set(v.count, vc >> 2);
  i32.set(v.weights, vw >> 2);
  k.horizontal(src, img.width, img.height, r.x, r.y, r.height, width, hs, hc, hw, h.size, mid);
  k.vertical(mid, width, height, vs, vc, vw, v.size, rgb);
  if (into) {
    k.normalize(rgb, n, planes);
    into.input.set(new Float32Array(buf, planes, n * 3), into.at);
    return undefined;
  }
  return new Uint8ClampedArray(buf.slice(rgb, rgb + n * 3));
}
