import type { RgbImage } from '../util/faceapi.js';
import type { Affine } from './similarity.js';

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

/**
 * `count` PIL BILINEAR samples (Image.transform's, in double) at (sx + u dx, sy + u dy), source
 * pixel-centre coordinates, into `out` (RGB): a point outside the image reads black, taps clamp to the edge.
 */
function sampleRow(src: RgbImage, sx: number, sy: number, dx: number, dy: number, count: number, out: Float64Array): void {
  const { data, width: w, height: h } = src;
  const stride = w * 3;
  const ex = sx + (count - 1) * dx, ey = sy + (count - 1) * dy;
  if (Math.min(sx, ex) >= 0 && Math.min(sy, ey) >= 0 && Math.max(sx, ex) < w - 1 && Math.max(sy, ey) < h - 1) {
    // the whole row inside: no clamping
    for (let u = 0, o = 0; u < count; u++, o += 3) {
      const x = sx + u * dx, y = sy + u * dy;
      const x0 = x | 0, y0 = y | 0;
      const fx = x - x0, fy = y - y0;
      const i = y0 * stride + x0 * 3, j = i + stride;
      const r0 = data[i]!, g0 = data[i + 1]!, b0 = data[i + 2]!, r2 = data[j]!, g2 = data[j + 1]!, b2 = data[j + 2]!;
      const rt = r0 + (data[i + 3]! - r0) * fx, gt = g0 + (data[i + 4]! - g0) * fx, bt = b0 + (data[i + 5]! - b0) * fx;
      const rb = r2 + (data[j + 3]! - r2) * fx, gb = g2 + (data[j + 4]! - g2) * fx, bb = b2 + (data[j + 5]! - b2) * fx;
      out[o] = rt + (rb - rt) * fy;
      out[o + 1] = gt + (gb - gt) * fy;
      out[o + 2] = bt + (bb - bt) * fy;
    }
    return;
  }
  for (let u = 0, o = 0; u < count; u++, o += 3) {
    const x = sx + u * dx, y = sy + u * dy;
    if (x < -0.5 || y < -0.5 || x >= w - 0.5 || y >= h - 0.5) {
      out[o] = out[o + 1] = out[o + 2] = 0;
      continue;
    }
    const x0 = Math.floor(x), y0 = Math.floor(y);
    const fx = x - x0, fy = y - y0;
    const xa = Math.max(x0, 0) * 3, xb = Math.min(x0 + 1, w - 1) * 3;
    const ya = Math.max(y0, 0) * stride, yb = Math.min(y0 + 1, h - 1) * stride;
    for (let c = 0; c < 3; c++) {
      const top = data[ya + xa + c]! + (data[ya + xb + c]! - data[ya + xa + c]!) * fx;
      const bottom = data[yb + xa + c]! + (data[yb + xb + c]! - data[yb + xa + c]!) * fx;
      out[o + c] = top + (bottom - top) * fy;
    }
  }
}

/** Sums within this of the next integer count as it: a flat area's weights sum to 1 only up to rounding. */
const FLOOR_SLACK = 1e-6;

function floorRow(acc: Float64Array, from: number, count: number, out: Buffer, to: number): void {
  for (let i = 0; i < count; i++) {
    const v = Math.floor(acc[from + i]! + FLOOR_SLACK);
    out[to + i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/**
 * PIL's `transform((T, T), ..., BILINEAR)` by the affine `inverse` (transform pixel centres to source
 * pixel centres), then `resize((size, size), LANCZOS)`, in one pass without the T x T image: the square
 * is sampled at `samples` points per output pixel and axis (T / size is the procedure itself; fewer
 * integrate the same Lanczos window more coarsely) and each row of samples is added into the output
 * rows whose window holds it. Values are floored: PIL truncates each transform sample, which the
 * Lanczos average carries as about -0.5.
 */
export function transformResize(src: RgbImage, inverse: Affine, size: number, transformSize: number, samples: number): RgbImage {
  if (!Number.isInteger(samples) || samples < 1 || samples * size > transformSize) {
    throw new RangeError(`transformResize: samples must be an integer from 1 to ${transformSize / size}, got ${samples}`);
  }
  const n = size * samples, n3 = n * 3, out3 = size * 3;
  const step = transformSize / n; // transform pixels per sample
  const [m0, m1, m2, m3, m4, m5] = inverse;
  const g0 = 0.5 * step - 0.5; // transform coordinate of sample 0
  const sampleLine = (v: number, into: Float64Array): void => {
    const g = (v + 0.5) * step - 0.5;
    sampleRow(src, m0 * g0 + m1 * g + m2, m3 * g0 + m4 * g + m5, m0 * step, m3 * step, n, into);
  };
  const out = Buffer.alloc(size * out3);
  const row = new Float64Array(n3);
  if (samples === 1) {
    // the Lanczos window on the output grid is the identity
    for (let v = 0; v < size; v++) {
      sampleLine(v, row);
      floorRow(row, 0, out3, out, v * out3);
    }
    return { data: out, width: size, height: size };
  }
  const { taps, start, lo, hi, weights } = lanczosTaps(size, samples);
  // at most 6 output rows hold a sample row in their window (Lanczos 3): output row Y accumulates in
  // rows[Y % 6]; rows[6] is a sink for the unused ones
  const rows = Array.from({ length: 7 }, () => new Float64Array(n3));
  const target = new Array<Float64Array>(6);
  const w = new Float64Array(6);
  const line = new Float64Array(out3);
  let first = 0; // first output row not yet written
  for (let v = 0; v < n; v++) {
    sampleLine(v, row);
    let count = 0;
    for (let Y = first; Y < size && lo[Y]! <= v; Y++) {
      if (v >= hi[Y]!) continue;
      target[count] = rows[Y % 6]!;
      w[count++] = weights[Y * taps + v - start[Y]!]!;
    }
    for (let j = count; j < 6; j++) (target[j] = rows[6]!), (w[j] = 0);
    const A0 = target[0]!, A1 = target[1]!, A2 = target[2]!, w0 = w[0]!, w1 = w[1]!, w2 = w[2]!;
    if (count <= 3) {
      for (let i = 0; i < n3; i++) {
        const s = row[i]!;
        A0[i]! += w0 * s;
        A1[i]! += w1 * s;
        A2[i]! += w2 * s;
      }
    } else {
      const A3 = target[3]!, A4 = target[4]!, A5 = target[5]!, w3 = w[3]!, w4 = w[4]!, w5 = w[5]!;
      for (let i = 0; i < n3; i++) {
        const s = row[i]!;
        A0[i]! += w0 * s;
        A1[i]! += w1 * s;
        A2[i]! += w2 * s;
        A3[i]! += w3 * s;
        A4[i]! += w4 * s;
        A5[i]! += w5 * s;
      }
    }
    // output rows whose window ends with this sample row: filter them horizontally
    for (; first < size && hi[first]! - 1 <= v; first++) {
      const acc = rows[first % 6]!;
      for (let X = 0, o = 0; X < size; X++, o += 3) {
        let r = 0, g = 0, b = 0;
        for (let t = 0, wi = X * taps, i = start[X]! * 3; t < taps; t++, wi++, i += 3) {
          const wt = weights[wi]!;
          r += wt * acc[i]!;
          g += wt * acc[i + 1]!;
          b += wt * acc[i + 2]!;
        }
        line[o] = r;
        line[o + 1] = g;
        line[o + 2] = b;
      }
      floorRow(line, 0, out3, out, first * out3);
      acc.fill(0);
    }
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
