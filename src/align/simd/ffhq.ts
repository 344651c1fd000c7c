import type { Affine } from '../similarity.js';
import type { simdKernels } from './kernels.js';

type Kernels = NonNullable<ReturnType<typeof simdKernels>>;

/** What warp.ts's transformResize has set up: the source packed one Int32 per RGB pixel, and its row filter (none at 1 sample). */
export interface TransformSetup {
  px: Int32Array;
  width: number;
  height: number;
  inverse: Affine;
  size: number;
  samples: number;
  /** Transform pixels per sample, and the transform coordinate of sample 0. */
  step: number;
  g0: number;
  filter?: {
    taps: number;
    pattern: Float64Array;
    xa: number;
    xb: number;
    start: Int32Array;
    lo: Int32Array;
    hi: Int32Array;
    weights: Float64Array;
    cut: readonly number[];
  };
}

/** transformResize's pass on the SIMD kernels (wasm/ffhq-transform.ts): the same f64 arithmetic in the same order, the same bytes. */
export function transformResizeSimd(kern: Kernels, s: TransformSetup): Buffer {
  const { exports: k, scratch } = kern;
  scratch.reset(true);
  const f = s.filter;
  const n3 = s.size * s.samples * 3, out3 = s.size * 3, taps = f?.taps ?? 1;
  const src = scratch.alloc(s.px.length * 4);
  const pattern = scratch.alloc((f?.pattern.length ?? 0) * 8);
  const start = scratch.alloc(s.size * 4), lo = scratch.alloc(s.size * 4), hi = scratch.alloc(s.size * 4);
  const weights = scratch.alloc((f?.weights.length ?? 0) * 8);
  const cut = scratch.alloc((f?.cut.length ?? 0) * 4);
  // one row of samples, and six samples of zeros past its end (the last group of six taps may reach past a window)
  const row = scratch.alloc((n3 + 18) * 4);
  const ring = scratch.alloc(taps * out3 * 8), sum = scratch.alloc(out3 * 8), out = scratch.alloc(s.size * out3);
  const buf = scratch.ready();
  new Int32Array(buf, src, s.px.length).set(s.px);
  new Float32Array(buf, row + n3 * 4, 18).fill(0);
  if (f) {
    new Float64Array(buf, pattern, f.pattern.length).set(f.pattern);
    new Int32Array(buf, start, s.size).set(f.start);
    new Int32Array(buf, lo, s.size).set(f.lo);
    new Int32Array(buf, hi, s.size).set(f.hi);
    new Float64Array(buf, weights, f.weights.length).set(f.weights);
    new Int32Array(buf, cut, f.cut.length).set(f.cut);
  }
  const [m0, m1, m2, m3, m4, m5] = s.inverse;
  k.transformResize(
    src, s.width, s.height, m0, m1, m2, m3, m4, m5, s.size, s.samples, s.step, s.g0,
    taps, pattern, f?.xa ?? 0, f?.xb ?? 0, start, lo, hi, weights, cut, f?.cut.length ?? 0,
    row, ring, sum, out,
  );
  return Buffer.from(buf.slice(out, out + s.size * out3));
}
