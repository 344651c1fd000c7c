import type { RgbImage } from '../util/faceapi.js';
import type { Affine } from './similarity.js';
import { simdKernels } from './simd/kernels.js';
import { transformResizeSimd } from './simd/ffhq.js';

/**
 * Bilinear warp of raw RGB into an exact-size output, as OpenCV's warpAffine with BORDER_CONSTANT 0
 * (what insightface/MTCNN alignment uses): taps outside the image read black, values round to
 * nearest. The matrix maps OUTPUT pixel centres to SOURCE pixel centres (the inverse transform).
 */
export function warpAffine(src: RgbImage, inverse: Affine, outWidth: number, outHeight: number): RgbImage {
  const { data, width: w, height: h } = src;
  const out = Buffer.alloc(outWidth * outHeight * 3);
  const [m0, m1, m2, m3, m4, m5] = inverse;
  const stride = w * 3;
  let o = 0;
  for (let Y = 0; Y < outHeight; Y++) {
    let sx = m1 * Y + m2;
    let sy = m4 * Y + m5;
    for (let X = 0; X < outWidth; X++, sx += m0, sy += m3, o += 3) {
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
        // fast path: all four taps inside
        const i00 = y0 * stride + x0 * 3;
        const i10 = i00 + 3;
        const i01 = i00 + stride;
        const i11 = i01 + 3;
        const w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
        out[o] = data[i00]! * w00 + data[i10]! * w10 + data[i01]! * w01 + data[i11]! * w11 + 0.5;
        out[o + 1] = data[i00 + 1]! * w00 + data[i10 + 1]! * w10 + data[i01 + 1]! * w01 + data[i11 + 1]! * w11 + 0.5;
        out[o + 2] = data[i00 + 2]! * w00 + data[i10 + 2]! * w10 + data[i01 + 2]! * w01 + data[i11 + 2]! * w11 + 0.5;
        continue;
      }
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let dy = 0; dy < 2; dy++) {
          const yy = y0 + dy;
          if (yy < 0 || yy >= h) continue;
          const wy = dy === 0 ? 1 - fy : fy;
          for (let dx = 0; dx < 2; dx++) {
            const xx = x0 + dx;
            if (xx < 0 || xx >= w) continue;
            v += data[yy * stride + xx * 3 + c]! * wy * (dx === 0 ? 1 - fx : fx);
          }
        }
        out[o + c] = v + 0.5;
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}

/** PIL's LANCZOS filter (Lanczos 3), exactly 0 at the non-zero integers. */
function lanczos3(t: number): number {
  if (t === 0) return 1;
  if (t <= -3 || t >= 3 || Number.isInteger(t)) return 0;
  const p = Math.PI * t;
  return (3 * Math.sin(p) * Math.sin(p / 3)) / (p * p);
}

/** Resize weights: output index i takes `weights[i * taps + j]` of input index `start[i] + j`. */
export interface ResizeTaps {
  taps: number;
  /** The window of output i is [lo[i], hi[i]); `start[i]` <= lo[i] keeps `start[i] + taps` inside the input. */
  start: Int32Array;
  lo: Int32Array;
  hi: Int32Array;
  weights: Float64Array;
}

/**
 * The weights of PIL's `resize(..., LANCZOS)` to `size` of a line of `samples * size` samples, sample u
 * sitting at (u + 0.5) / samples output pixels: each output's window is cut at the ends and renormalised,
 * as PIL does (samples = the scale factor gives PIL's own weights).
 */
export function lanczosTaps(size: number, samples: number): ResizeTaps {
  const n = size * samples;
  const at = (u: number, i: number): number => lanczos3((u + 0.5) / samples - (i + 0.5));
  const lo = new Int32Array(size), hi = new Int32Array(size);
  let taps = 1;
  for (let i = 0; i < size; i++) {
    let a = Math.max(0, Math.floor(samples * (i - 2.5) - 0.5)), b = Math.min(n, Math.ceil(samples * (i + 3.5) - 0.5));
    while (at(a, i) === 0) a++;
    while (at(b - 1, i) === 0) b--;
    lo[i] = a;
    hi[i] = b;
    taps = Math.max(taps, b - a);
  }
  const start = new Int32Array(size);
  const weights = new Float64Array(size * taps);
  for (let i = 0; i < size; i++) {
    start[i] = Math.min(lo[i]!, n - taps);
    let sum = 0;
    for (let u = lo[i]!; u < hi[i]!; u++) sum += at(u, i);
    for (let u = lo[i]!; u < hi[i]!; u++) weights[i * taps + u - start[i]!] = at(u, i) / sum;
  }
  return { taps, start, lo, hi, weights };
}

/** A source image with each pixel's RGB packed in one Int32 (r | g << 8 | b << 16): one load per bilinear tap. */
interface PackedRgb {
  px: Int32Array;
  width: number;
  height: number;
}

function packRgb(src: RgbImage): PackedRgb {
  const { data, width, height } = src;
  const px = new Int32Array(width * height);
  for (let p = 0, i = 0; p < px.length; p++, i += 3) px[p] = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16);
  return { px, width, height };
}

/**
 * `count` PIL BILINEAR samples (Image.transform's) at (sx + u dx, sy + u dy), source pixel-centre
 * coordinates, into `out` (RGB) from `to`: a point outside the image reads black, taps clamp to the edge.
 */
function sampleRow(src: PackedRgb, sx: number, sy: number, dx: number, dy: number, count: number, out: Float32Array, to: number): void {
  const { px, width: w, height: h } = src;
  const ex = sx + (count - 1) * dx, ey = sy + (count - 1) * dy;
  if (Math.min(sx, ex) >= 0 && Math.min(sy, ey) >= 0 && Math.max(sx, ex) < w - 1 && Math.max(sy, ey) < h - 1) {
    // the whole row inside: no clamping, and `| 0` floors the non-negative coordinates
    for (let u = 0, o = to; u < count; u++, o += 3) {
      const x = sx + u * dx, y = sy + u * dy;
      const x0 = x | 0, y0 = y | 0;
      const fx = x - x0, fy = y - y0;
      const i = y0 * w + x0, j = i + w;
      const p0 = px[i]!, p1 = px[i + 1]!, p2 = px[j]!, p3 = px[j + 1]!;
      const r0 = p0 & 255, g0 = (p0 >> 8) & 255, b0 = p0 >> 16, r2 = p2 & 255, g2 = (p2 >> 8) & 255, b2 = p2 >> 16;
      const rt = r0 + ((p1 & 255) - r0) * fx, gt = g0 + (((p1 >> 8) & 255) - g0) * fx, bt = b0 + ((p1 >> 16) - b0) * fx;
      out[o] = rt + (r2 + ((p3 & 255) - r2) * fx - rt) * fy;
      out[o + 1] = gt + (g2 + (((p3 >> 8) & 255) - g2) * fx - gt) * fy;
      out[o + 2] = bt + (b2 + ((p3 >> 16) - b2) * fx - bt) * fy;
    }
    return;
  }
  for (let u = 0, o = to; u < count; u++, o += 3) {
    const x = sx + u * dx, y = sy + u * dy;
    if (x < -0.5 || y < -0.5 || x >= w - 0.5 || y >= h - 0.5) {
      out[o] = out[o + 1] = out[o + 2] = 0;
      continue;
    }
    const x0 = Math.floor(x), y0 = Math.floor(y);
    const fx = x - x0, fy = y - y0;
    const xa = Math.max(x0, 0), xb = Math.min(x0 + 1, w - 1);
    const ya = Math.max(y0, 0) * w, yb = Math.min(y0 + 1, h - 1) * w;
    for (let c = 0, shift = 0; c < 3; c++, shift += 8) {
      const tl = (px[ya + xa]! >> shift) & 255, tr = (px[ya + xb]! >> shift) & 255;
      const bl = (px[yb + xa]! >> shift) & 255, br = (px[yb + xb]! >> shift) & 255;
      const top = tl + (tr - tl) * fx;
      out[o + c] = top + (bl + (br - bl) * fx - top) * fy;
    }
  }
}

/** Sums within this of the next integer count as it: a flat area's weights sum to 1 only up to rounding. */
const FLOOR_SLACK = 1e-6;

// `| 0` floors the values in range
const floorByte = (v: number): number => (v < -FLOOR_SLACK ? 0 : v >= 255 ? 255 : (v + FLOOR_SLACK) | 0);

/** The horizontal half of transformResize's Lanczos shrink: lanczosTaps, and the interior pixels' shared window. */
interface RowFilter extends ResizeTaps {
  /** Output pixels [xa, xb) have whole windows, with `pattern`'s weights (padded with zeros to a multiple of six). */
  xa: number;
  xb: number;
  pattern: Float64Array;
  /** The output pixels whose windows are cut (at the ends, or where rounding drops a zero tap), filtered on their own weights. */
  cut: number[];
}

function rowFilter(size: number, samples: number): RowFilter {
  const t = lanczosTaps(size, samples);
  const whole = (X: number): boolean => t.hi[X]! - t.lo[X]! === t.taps && t.start[X] === t.lo[X];
  let xa = 0, xb = size;
  while (xa < size && !whole(xa)) xa++;
  while (xb > xa && !whole(xb - 1)) xb--;
  const pattern = new Float64Array(Math.ceil(t.taps / 6) * 6);
  const mid = (xa + xb) >> 1;
  pattern.set(t.weights.subarray(mid * t.taps, mid * t.taps + t.taps));
  const cut = Array.from({ length: size }, (_, X) => X).filter((X) => !whole(X));
  return { ...t, xa, xb, pattern, cut };
}

/**
 * One row of samples (RGB, with 18 zeros past the end) filtered horizontally into out[to..]: the whole
 * windows six taps at a time with the weights in registers, then the cut ones over.
 * Small functions of their own: V8 optimises them whole instead of inside one long loop.
 */
function filterRow(f: RowFilter, row: Float32Array, out: Float64Array, to: number): void {
  const { taps, pattern, xa, xb, start, lo, hi, weights } = f;
  for (let t = 0; t < taps; t += 6) {
    filterSix(row, start, t * 3, xa, xb, out, to, pattern[t]!, pattern[t + 1]!, pattern[t + 2]!, pattern[t + 3]!, pattern[t + 4]!, pattern[t + 5]!, t === 0);
  }
  for (const X of f.cut) {
    let r = 0, g = 0, b = 0;
    for (let u = lo[X]!, wi = X * taps - start[X]!, i = u * 3; u < hi[X]!; u++, i += 3) {
      const wt = weights[wi + u]!;
      r += wt * row[i]!;
      g += wt * row[i + 1]!;
      b += wt * row[i + 2]!;
    }
    out[to + X * 3] = r;
    out[to + X * 3 + 1] = g;
    out[to + X * 3 + 2] = b;
  }
}

/** Six taps, from `from` past each window's start, of the output pixels [xa, xb) into out[to..] (=, or += unless `first`). */
function filterSix(
  row: Float32Array, start: Int32Array, from: number, xa: number, xb: number, out: Float64Array, to: number,
  w0: number, w1: number, w2: number, w3: number, w4: number, w5: number, first: boolean,
): void {
  if (first) {
    for (let X = xa, o = to + xa * 3; X < xb; X++, o += 3) {
      const i = start[X]! * 3 + from;
      out[o] = w0 * row[i]! + w1 * row[i + 3]! + w2 * row[i + 6]! + w3 * row[i + 9]! + w4 * row[i + 12]! + w5 * row[i + 15]!;
      out[o + 1] = w0 * row[i + 1]! + w1 * row[i + 4]! + w2 * row[i + 7]! + w3 * row[i + 10]! + w4 * row[i + 13]! + w5 * row[i + 16]!;
      out[o + 2] = w0 * row[i + 2]! + w1 * row[i + 5]! + w2 * row[i + 8]! + w3 * row[i + 11]! + w4 * row[i + 14]! + w5 * row[i + 17]!;
    }
  } else {
    for (let X = xa, o = to + xa * 3; X < xb; X++, o += 3) {
      const i = start[X]! * 3 + from;
      out[o]! += w0 * row[i]! + w1 * row[i + 3]! + w2 * row[i + 6]! + w3 * row[i + 9]! + w4 * row[i + 12]! + w5 * row[i + 15]!;
      out[o + 1]! += w0 * row[i + 1]! + w1 * row[i + 4]! + w2 * row[i + 7]! + w3 * row[i + 10]! + w4 * row[i + 13]! + w5 * row[i + 16]!;
      out[o + 2]! += w0 * row[i + 2]! + w1 * row[i + 5]! + w2 * row[i + 8]! + w3 * row[i + 11]! + w4 * row[i + 14]! + w5 * row[i + 17]!;
    }
  }
}

/** sum (=, or += unless `first`) the six rows of `ring` at a..f weighted by wa..wf, over sum's length. */
function addRows(
  ring: Float64Array, a: number, b: number, c: number, d: number, e: number, f: number,
  wa: number, wb: number, wc: number, wd: number, we: number, wf: number, sum: Float64Array, first: boolean,
): void {
  const len = sum.length;
  if (first) {
    for (let i = 0; i < len; i++) sum[i] = wa * ring[a + i]! + wb * ring[b + i]! + wc * ring[c + i]! + wd * ring[d + i]! + we * ring[e + i]! + wf * ring[f + i]!;
  } else {
    for (let i = 0; i < len; i++) sum[i]! += wa * ring[a + i]! + wb * ring[b + i]! + wc * ring[c + i]! + wd * ring[d + i]! + we * ring[e + i]! + wf * ring[f + i]!;
  }
}

/**
 * PIL's `transform((T, T), ..., BILINEAR)` by the affine `inverse` (transform pixel centres to source
 * pixel centres), then `resize((size, size), LANCZOS)`, in one pass without the T x T image: the square
 * is sampled at `samples` points per output pixel and axis (T / size is the procedure itself; fewer
 * integrate the same Lanczos window more coarsely), each row of samples filtered horizontally into a ring
 * of the rows that one output row's window spans, and each output row their weighted sum. Values are floored:
 * PIL truncates each transform sample, which the Lanczos average carries as about -0.5.
 * Runs on the SIMD kernels where they load (simd/), else in JavaScript: the same bytes.
 */
export function transformResize(src: RgbImage, inverse: Affine, size: number, transformSize: number, samples: number): RgbImage {
  if (!Number.isInteger(samples) || samples < 1 || samples * size > transformSize) {
    throw new RangeError(`transformResize: samples must be an integer from 1 to ${transformSize / size}, got ${samples}`);
  }
  const n = size * samples, n3 = n * 3, out3 = size * 3;
  const step = transformSize / n; // transform pixels per sample
  const [m0, m1, m2, m3, m4, m5] = inverse;
  const g0 = 0.5 * step - 0.5; // transform coordinate of sample 0
  const packed = packRgb(src);
  const simd = simdKernels();
  if (simd) {
    const setup = { ...packed, inverse, size, samples, step, g0 };
    return { data: transformResizeSimd(simd, samples === 1 ? setup : { ...setup, filter: rowFilter(size, samples) }), width: size, height: size };
  }
  const sampleLine = (v: number, into: Float32Array, to: number): void => {
    const g = (v + 0.5) * step - 0.5;
    sampleRow(packed, m0 * g0 + m1 * g + m2, m3 * g0 + m4 * g + m5, m0 * step, m3 * step, n, into, to);
  };
  const out = Buffer.alloc(size * out3);
  if (samples === 1) {
    // the Lanczos window on the output grid is the identity
    const row = new Float32Array(n3);
    for (let v = 0; v < size; v++) {
      sampleLine(v, row, 0);
      for (let i = 0, o = v * out3; i < out3; i++, o++) out[o] = floorByte(row[i]!);
    }
    return { data: out, width: size, height: size };
  }
  const filter = rowFilter(size, samples);
  const { taps, start, lo, hi, weights } = filter;
  // one row of samples, and six zeros past its end: the last group of six taps may reach past a window (weight 0)
  const row = new Float32Array(n3 + 18);
  // sample row v filtered horizontally lives at ring[(v % taps) * out3]: an output row's window spans at most `taps` rows
  const ring = new Float64Array(taps * out3);
  const sum = new Float64Array(out3);
  let next = 0; // next sample row to take
  for (let Y = 0; Y < size; Y++) {
    for (; next < hi[Y]!; next++) {
      sampleLine(next, row, 0);
      filterRow(filter, row, ring, (next % taps) * out3);
    }
    // vertical: the window's rows, six at a time (the missing ones weigh 0)
    const wy = Y * taps - start[Y]!;
    for (let v = lo[Y]!; v < hi[Y]!; v += 6) {
      const at = (j: number): number => ((v + j < hi[Y]! ? v + j : v) % taps) * out3;
      const wt = (j: number): number => (v + j < hi[Y]! ? weights[wy + v + j]! : 0);
      addRows(ring, at(0), at(1), at(2), at(3), at(4), at(5), wt(0), wt(1), wt(2), wt(3), wt(4), wt(5), sum, v === lo[Y]!);
    }
    for (let i = 0, o = Y * out3; i < out3; i++, o++) out[o] = floorByte(sum[i]!);
  }
  return { data: out, width: size, height: size };
}

/** A copy of the integer box [left, top, right, bottom) of an image (inside its bounds). */
export function cropRgb(src: RgbImage, box: [number, number, number, number]): RgbImage {
  const [l, t, r, b] = box;
  const w = r - l, h = b - t;
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) src.data.copy(out, y * w * 3, ((t + y) * src.width + l) * 3, ((t + y) * src.width + r) * 3);
  return { data: out, width: w, height: h };
}
