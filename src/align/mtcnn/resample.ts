import type { RgbImage } from '../../util/faceapi.js';
import { simdKernels } from '../simd/kernels.js';
import { identityTaps, resizeRegionSimd } from '../simd/pil-resize.js';

/** Fixed-point bits of PIL's 8-bit resampler (Pillow libImaging/Resample.c: 32 - 8 - 2). */
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

/** Taps of each output pixel: its first source index, its tap count and its integer weights. */
export interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  /** Weights per output pixel (stride of `weights`). */
  size: number;
}

/**
 * PIL's `precompute_coeffs` + `normalize_coeffs_8bpc` for the bilinear filter (support 1, widened by
 * the shrink factor: the resize is antialiased), in the same double arithmetic.
 */
function bilinearTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale;
  const size = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize), count = new Int32Array(outSize), weights = new Int32Array(outSize * size);
  const k = new Float64Array(size);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const d = Math.abs((x + xmin - center + 0.5) * ss);
      k[x] = d < 1 ? 1 - d : 0;
      ww += k[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x]! / ww : k[x]!;
      weights[xx * size + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, size };
}

/** Tables by (in size, out size): a photo's pyramid and its many same-size crops reuse them. */
const tapsCache = new Map<number, Taps>();
const TAPS_CACHE_LIMIT = 512;

function cachedTaps(inSize: number, outSize: number): Taps {
  const key = inSize * 65536 + outSize;
  let t = tapsCache.get(key);
  if (!t) {
    if (tapsCache.size >= TAPS_CACHE_LIMIT) tapsCache.clear();
    t = bilinearTaps(inSize, outSize);
    tapsCache.set(key, t);
  }
  return t;
}

/** An RGB image with each pixel's 3 bytes in one int32 (r | g << 8 | b << 16): one load per tap. */
export interface PackedRgb {
  px: Int32Array;
  width: number;
  height: number;
}

export function packRgb(img: RgbImage): PackedRgb {
  const px = new Int32Array(img.width * img.height), d = img.data;
  for (let i = 0, p = 0; i < px.length; i++, p += 3) px[i] = d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16);
  return { px, width: img.width, height: img.height };
}

/** A rectangle of the image to resize, in its pixels; it may pass the image's edges, which read as black. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/*
 * Bilinear weights are never negative and sum to about ONE, so a sum stays in [0, 256 * ONE + a few
 * ulps] (int32): PIL's clip8 is then `sum >> PRECISION_BITS` clamped at 255. A black pixel adds
 * nothing to a sum: taps outside the image are skipped, and a row outside it comes out black
 * (HALF >> PRECISION_BITS is 0).
 */
// a comparison, not Math.min: a global lookup per pixel costs 40x more inside a vm context (jest)
const clip8 = (v: number): number => {
  const s = v >> PRECISION_BITS;
  return s > 255 ? 255 : s;
};
const pack = (r: number, g: number, b: number): number => clip8(r) | (clip8(g) << 8) | (clip8(b) << 16);

/**
 * The horizontal pass over the region's rows into packed pixels (width `t.start.length`), 3
 * channels and 2 rows at once: the rows share each weight load and the loop's overhead.
 */
function horizontal(img: PackedRgb, r: Region, t: Taps): PackedRgb {
  const src = img.px, inW = img.width;
  const { start, count, weights, size } = t;
  const outW = start.length;
  const out = new Int32Array(outW * r.height);
  // each output pixel's taps inside the image: first image column, first weight, end weight
  const col = new Int32Array(outW), first = new Int32Array(outW), end = new Int32Array(outW);
  for (let xx = 0; xx < outW; xx++) {
    const c0 = r.x + start[xx]!;
    const lo = Math.max(0, -c0), hi = Math.min(count[xx]!, inW - c0);
    col[xx] = c0 + lo;
    first[xx] = xx * size + lo;
    end[xx] = xx * size + Math.max(lo, hi);
  }
  const y1 = Math.min(r.height, img.height - r.y);
  let y = Math.max(0, -r.y);
  for (; y + 1 < y1; y += 2) {
    const row = (r.y + y) * inW;
    for (let xx = 0, o = y * outW; xx < outW; xx++, o++) {
      const e = end[xx]!;
      let r0 = HALF, g0 = HALF, b0 = HALF, r1 = HALF, g1 = HALF, b1 = HALF;
      for (let k = first[xx]!, p = row + col[xx]!; k < e; k++, p++) {
        const w = weights[k]!, v = src[p]!, u = src[p + inW]!;
        r0 = (r0 + (v & 255) * w) | 0;
        g0 = (g0 + ((v >> 8) & 255) * w) | 0;
        b0 = (b0 + (v >> 16) * w) | 0;
        r1 = (r1 + (u & 255) * w) | 0;
        g1 = (g1 + ((u >> 8) & 255) * w) | 0;
        b1 = (b1 + (u >> 16) * w) | 0;
      }
      out[o] = pack(r0, g0, b0);
      out[o + outW] = pack(r1, g1, b1);
    }
  }
  if (y < y1) {
    const row = (r.y + y) * inW;
    for (let xx = 0, o = y * outW; xx < outW; xx++, o++) {
      const e = end[xx]!;
      let r0 = HALF, g0 = HALF, b0 = HALF;
      for (let k = first[xx]!, p = row + col[xx]!; k < e; k++, p++) {
        const w = weights[k]!, v = src[p]!;
        r0 = (r0 + (v & 255) * w) | 0;
        g0 = (g0 + ((v >> 8) & 255) * w) | 0;
        b0 = (b0 + (v >> 16) * w) | 0;
      }
      out[o] = pack(r0, g0, b0);
    }
  }
  return { px: out, width: outW, height: r.height };
}

/** The region as it is (black outside the image): PIL skips a pass whose size does not change. */
function cut(img: PackedRgb, r: Region): PackedRgb {
  const out = new Int32Array(r.width * r.height);
  const x0 = Math.max(r.x, 0), x1 = Math.min(r.x + r.width, img.width);
  for (let y = Math.max(r.y, 0); y < Math.min(r.y + r.height, img.height) && x1 > x0; y++) {
    out.set(img.px.subarray(y * img.width + x0, y * img.width + x1), (y - r.y) * r.width + x0 - r.x);
  }
  return { px: out, width: r.width, height: r.height };
}

/** The vertical pass into RGB bytes, each output pixel's taps summed down its column, 2 pixels at once. */
function vertical(img: PackedRgb, t: Taps): Uint8ClampedArray {
  const src = img.px, width = img.width;
  const { start, count, weights, size } = t;
  const out = new Uint8ClampedArray(width * start.length * 3);
  for (let yy = 0, o = 0; yy < start.length; yy++) {
    const base = yy * size, e = base + count[yy]!, row = start[yy]! * width;
    for (let x = 0; x < width; x++, o += 3) {
      let r = HALF, g = HALF, b = HALF;
      for (let k = base, p = row + x; k < e; k++, p += width) {
        const w = weights[k]!, v = src[p]!;
        r = (r + (v & 255) * w) | 0;
        g = (g + ((v >> 8) & 255) * w) | 0;
        b = (b + (v >> 16) * w) | 0;
      }
      out[o] = r >> PRECISION_BITS;
      out[o + 1] = g >> PRECISION_BITS;
      out[o + 2] = b >> PRECISION_BITS;
    }
  }
  return out;
}

function unpack(img: PackedRgb): Uint8ClampedArray {
  const out = new Uint8ClampedArray(img.px.length * 3);
  for (let i = 0, o = 0; i < img.px.length; i++, o += 3) {
    const v = img.px[i]!;
    out[o] = v & 255;
    out[o + 1] = (v >> 8) & 255;
    out[o + 2] = v >> 16;
  }
  return out;
}

/**
 * Pillow's `img.crop(region).resize((width, height), Image.BILINEAR)` on RGB, byte for byte:
 * separable, horizontal pass first into bytes, then vertical (Resample.c). MTCNN's pyramid and its
 * 24/48 crops are made with it in ECAF's aligner (TropComplique/mtcnn-pytorch); pinned against PIL
 * by test/align/mtcnn.test.ts. Returns RGB bytes, pixel after pixel. Runs on the SIMD kernels
 * where they load (simd/), else in JavaScript (resizeRegionJs): the same bytes.
 */
export function resizeRegionPil(img: PackedRgb, r: Region, width: number, height: number): Uint8ClampedArray {
  const k = simdKernels();
  return k ? resizeRegionSimd(k, img, r, width, height, ...simdTaps(r, width, height))! : resizeRegionJs(img, r, width, height);
}

const simdTaps = (r: Region, width: number, height: number): [Taps, Taps] => [
  width !== r.width ? cachedTaps(r.width, width) : identityTaps(width),
  height !== r.height ? cachedTaps(r.height, height) : identityTaps(height),
];

/** A byte's value in the nets' input: (p - 127.5) * 0.0078125. */
const NORMALIZED = Float32Array.from({ length: 256 }, (_, p) => (p - 127.5) * 0.0078125);

/** RGB bytes to the nets' input, channels first, written at `at`. */
function toInput(rgb: Uint8ClampedArray, out: Float32Array, at: number): void {
  const plane = rgb.length / 3;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[at + i] = NORMALIZED[rgb[p]!]!;
    out[at + plane + i] = NORMALIZED[rgb[p + 1]!]!;
    out[at + 2 * plane + i] = NORMALIZED[rgb[p + 2]!]!;
  }
}

/** resizeRegionPil, then the nets' input ((p - 127.5) / 128, channels first) written into `input` at `at`. */
export function resizeToInput(img: PackedRgb, r: Region, width: number, height: number, input: Float32Array, at = 0): void {
  const k = simdKernels();
  if (k) resizeRegionSimd(k, img, r, width, height, ...simdTaps(r, width, height), { input, at });
  else toInput(resizeRegionJs(img, r, width, height), input, at);
}

/** resizeRegionPil in JavaScript: the reference of the SIMD kernels, and where they do not load. */
export function resizeRegionJs(img: PackedRgb, r: Region, width: number, height: number): Uint8ClampedArray {
  const mid = width !== r.width ? horizontal(img, r, cachedTaps(r.width, width)) : cut(img, r);
  return height !== r.height ? vertical(mid, cachedTaps(r.height, height)) : unpack(mid);
}

/** `Image.resize((width, height), Image.BILINEAR)` of Pillow on RGB, byte for byte (resizeRegionPil). */
export function resizeBilinearPil(img: RgbImage, width: number, height: number): RgbImage {
  const out = resizeRegionPil(packRgb(img), { x: 0, y: 0, width: img.width, height: img.height }, width, height);
  return { data: Buffer.from(out.buffer, out.byteOffset, out.byteLength), width, height };
}
