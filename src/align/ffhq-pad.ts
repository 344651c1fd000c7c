import type { RgbImage } from '../util/faceapi.js';
import { rint, type IntBox } from './ffhq.js';

/**
 * FFHQ's padding step (docs/reference.md section 4, step 5) on raw RGB: reflect-pad, blend towards
 * a Gaussian blur with weight clip(mask*3+1, 0, 1), then towards the per-channel median with
 * weight clip(mask, 0, 1), round half to even and clip to 8 bits.
 */
export function ffhqPad(src: RgbImage, pad: IntBox, sigma: number): RgbImage {
  const [pl, pt, pr, pb] = pad;
  const W = src.width + pl + pr;
  const H = src.height + pt + pb;
  const n = W * H;
  const colMap = reflectIndices(src.width, pl, W);
  const rowMap = reflectIndices(src.height, pt, H);
  // mask = max(1 - min(x/pl, (W-1-x)/pr), 1 - min(y/pt, (H-1-y)/pb)), split into its column and row parts
  const mx = new Float32Array(W);
  for (let x = 0; x < W; x++) mx[x] = 1 - Math.min(x / pl, (W - 1 - x) / pr);
  const my = new Float32Array(H);
  for (let y = 0; y < H; y++) my[y] = 1 - Math.min(y / pt, (H - 1 - y) / pb);

  const out = Buffer.alloc(n * 3);
  const plane = new Float32Array(n);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) {
      const srcRow = rowMap[y]! * src.width * 3 + c;
      const o = y * W;
      for (let x = 0; x < W; x++) plane[o + x] = src.data[srcRow + colMap[x]! * 3]!;
    }
    const blurred = gaussianBlur(plane, W, H, sigma);
    for (let y = 0; y < H; y++) {
      const o = y * W;
      const rowMask = my[y]!;
      for (let x = 0; x < W; x++) {
        const m = Math.max(mx[x]!, rowMask);
        const wb = Math.min(Math.max(m * 3 + 1, 0), 1);
        if (wb > 0) plane[o + x]! += (blurred[o + x]! - plane[o + x]!) * wb;
      }
    }
    const med = median(plane);
    for (let y = 0; y < H; y++) {
      const o = y * W;
      const rowMask = my[y]!;
      for (let x = 0; x < W; x++) {
        const m = Math.min(Math.max(Math.max(mx[x]!, rowMask), 0), 1);
        const v = rint(plane[o + x]! + (med - plane[o + x]!) * m);
        out[(o + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { data: out, width: W, height: H };
}

/** Source index of every padded index for numpy's 'reflect' mode (mirror without repeating the edge). */
export function reflectIndices(n: number, before: number, total: number): Int32Array {
  const map = new Int32Array(total);
  const period = 2 * (n - 1);
  for (let i = 0; i < total; i++) {
    if (n === 1) continue;
    let j = Math.abs(i - before) % period;
    if (j >= n) j = period - j;
    map[i] = j;
  }
  return map;
}

/** scipy.ndimage's 'reflect' mode (mirror repeating the edge: d c b a | a b c d). */
function symmetricIndex(i: number, n: number): number {
  const period = 2 * n;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - 1 - j;
  return j;
}

/** The normalised 1-D Gaussian of scipy.ndimage.gaussian_filter (truncate 4). */
export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Exact separable Gaussian of one float plane, as scipy.ndimage.gaussian_filter(mode='reflect'). */
export function gaussianBlurExact(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float32Array(w * h);
  const line = new Float32Array(w + 2 * r);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let i = -r; i < w + r; i++) line[i + r] = src[o + symmetricIndex(i, w)]!;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let t = 0; t < k.length; t++) acc += line[x + t]! * k[t]!;
      tmp[o + x] = acc;
    }
  }
  const out = new Float32Array(w * h);
  const acc = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    for (let t = -r; t <= r; t++) {
      const row = symmetricIndex(y + t, h) * w;
      const kv = k[t + r]!;
      for (let x = 0; x < w; x++) acc[x]! += tmp[row + x]! * kv;
    }
    out.set(acc, y * w);
  }
  return out;
}

/**
 * The same blur, fast for large sigma: mirror-extend by the kernel's reach (so the borders
 * follow scipy's 'reflect' exactly), block-average by k, blur the small plane with the sigma
 * left after the block's own spread, upsample bilinearly. For sigma >= 3k the result stays
 * within a fraction of a grey level of the exact one on average (pinned by a test); FFHQ's
 * sigma (2% of the face size) is 10-20 px on typical photos, where the exact blur costs seconds.
 */
export function gaussianBlur(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  const k = Math.max(1, Math.floor(sigma / 3));
  if (k === 1) return gaussianBlurExact(src, w, h, sigma);
  const margin = k * Math.ceil((4 * sigma + 2 * k) / k);
  const sw = Math.ceil((w + 2 * margin) / k), sh = Math.ceil((h + 2 * margin) / k);
  const ew = sw * k, eh = sh * k;
  // block sums over the mirror-extended plane, without materialising it
  const cols = new Int32Array(ew);
  for (let x = 0; x < ew; x++) cols[x] = symmetricIndex(x - margin, w);
  const small = new Float32Array(sw * sh);
  const rowSums = new Float64Array(sw);
  for (let by = 0; by < sh; by++) {
    rowSums.fill(0);
    for (let yy = 0; yy < k; yy++) {
      const row = symmetricIndex(by * k + yy - margin, h) * w;
      for (let x = 0; x < ew; x++) rowSums[(x / k) | 0]! += src[row + cols[x]!]!;
    }
    for (let bx = 0; bx < sw; bx++) small[by * sw + bx] = rowSums[bx]! / (k * k);
  }
  const smallSigma = Math.sqrt(Math.max(sigma * sigma - (k * k - 1) / 12, 0.25)) / k;
  const blurred = gaussianBlurExact(small, sw, sh, smallSigma);
  const out = new Float32Array(w * h);
  const x0 = new Int32Array(w), fx = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const u = (x + margin + 0.5) / k - 0.5; // block j's centre sits at j*k + (k-1)/2 in extended pixels
    x0[x] = Math.floor(u);
    fx[x] = u - x0[x]!;
  }
  for (let y = 0; y < h; y++) {
    const v = (y + margin + 0.5) / k - 0.5;
    const ya = Math.floor(v), fy = v - ya;
    const ra = ya * sw, rb = ra + sw, o = y * w;
    for (let x = 0; x < w; x++) {
      const i = x0[x]!;
      const a = blurred[ra + i]! + (blurred[ra + i + 1]! - blurred[ra + i]!) * fx[x]!;
      const b = blurred[rb + i]! + (blurred[rb + i + 1]! - blurred[rb + i]!) * fx[x]!;
      out[o + x] = a + (b - a) * fy;
    }
  }
  return out;
}

/** numpy.median of values in [0, 255]: a histogram finds the bin of each middle rank, a sort of that bin the value. */
export function median(values: Float32Array): number {
  const n = values.length;
  const BINS = 1 << 16;
  const scale = BINS / 256;
  const hist = new Uint32Array(BINS);
  const bin = (v: number) => Math.min(BINS - 1, Math.max(0, Math.floor(v * scale)));
  for (let i = 0; i < n; i++) hist[bin(values[i]!)]!++;
  const select = (rank: number): number => {
    let before = 0;
    let b = 0;
    while (before + hist[b]! <= rank) before += hist[b++]!;
    const inBin: number[] = [];
    for (let i = 0; i < n; i++) if (bin(values[i]!) === b) inBin.push(values[i]!);
    inBin.sort((p, q) => p - q);
    return inBin[rank - before]!;
  };
  return n % 2 === 1 ? select((n - 1) / 2) : (select(n / 2 - 1) + select(n / 2)) / 2;
}
