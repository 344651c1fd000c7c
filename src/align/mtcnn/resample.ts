import type { RgbImage } from '../../util/faceapi.js';

/** Fixed-point bits of PIL's 8-bit resampler (Pillow libImaging/Resample.c: 32 - 8 - 2). */
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

/** Taps of one output pixel: the first source index and the integer weights. */
interface Taps {
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

/** PIL's clip8: the fixed-point sum back to a byte (sums stay below 2^31: int32 arithmetic). */
const clip8 = (v: number): number => (v <= 0 ? 0 : v >= 256 * ONE ? 255 : v >> PRECISION_BITS);

/**
 * `Image.resize((width, height), Image.BILINEAR)` of Pillow on RGB, byte for byte: separable,
 * horizontal pass first into bytes, then vertical (Resample.c). MTCNN's pyramid and its 24/48
 * crops are made with it in ECAF's aligner (TropComplique/mtcnn-pytorch); pinned against PIL by
 * test/align/mtcnn.test.ts.
 */
export function resizeBilinearPil(img: RgbImage, width: number, height: number): RgbImage {
  if (width === img.width && height === img.height) return { data: Buffer.from(img.data), width, height };
  let src: Uint8Array = img.data;
  if (width !== img.width) {
    const t = bilinearTaps(img.width, width);
    const out = Buffer.alloc(width * img.height * 3);
    for (let y = 0; y < img.height; y++) {
      const row = y * img.width * 3, orow = y * width * 3;
      for (let xx = 0; xx < width; xx++) {
        const s = t.start[xx]!, n = t.count[xx]!, base = xx * t.size;
        let r = HALF, g = HALF, b = HALF;
        for (let i = 0; i < n; i++) {
          const w = t.weights[base + i]!, p = row + (s + i) * 3;
          r = (r + src[p]! * w) | 0;
          g = (g + src[p + 1]! * w) | 0;
          b = (b + src[p + 2]! * w) | 0;
        }
        const o = orow + xx * 3;
        out[o] = clip8(r);
        out[o + 1] = clip8(g);
        out[o + 2] = clip8(b);
      }
    }
    if (height === img.height) return { data: out, width, height };
    src = out;
  }
  const t = bilinearTaps(img.height, height);
  const stride = width * 3;
  const out = Buffer.alloc(stride * height);
  const acc = new Int32Array(stride);
  for (let yy = 0; yy < height; yy++) {
    const s = t.start[yy]!, n = t.count[yy]!, base = yy * t.size;
    acc.fill(HALF);
    // row by row into an accumulator: the source is read in order
    for (let i = 0; i < n; i++) {
      const w = t.weights[base + i]!, row = (s + i) * stride;
      for (let x = 0; x < stride; x++) acc[x] = (acc[x]! + src[row + x]! * w) | 0;
    }
    const orow = yy * stride;
    for (let x = 0; x < stride; x++) out[orow + x] = clip8(acc[x]!);
  }
  return { data: out, width, height };
}
