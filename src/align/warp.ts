import type { RgbImage } from '../util/faceapi.js';
import type { Affine } from './similarity.js';

/**
 * Bilinear affine warps of raw RGB buffers into exact-size outputs. The matrix maps OUTPUT
 * pixel centres to SOURCE pixel centres (the inverse transform), both with integer centres.
 *
 * Borders:
 * - `zero`: taps outside the image read black, as OpenCV's warpAffine with BORDER_CONSTANT 0
 *   (what insightface/MTCNN alignment uses).
 * - `pil`: a sample point outside the image gives black, one inside reads edge-clamped taps,
 *   as PIL's Image.transform with BILINEAR (what the FFHQ script uses), truncating as PIL does.
 */
export type WarpBorder = 'zero' | 'pil';

export function warpAffine(src: RgbImage, inverse: Affine, outWidth: number, outHeight: number, border: WarpBorder): RgbImage {
  const { data, width: w, height: h } = src;
  const out = Buffer.alloc(outWidth * outHeight * 3);
  const [m0, m1, m2, m3, m4, m5] = inverse;
  const stride = w * 3;
  // OpenCV rounds to nearest; PIL truncates (its (UINT8) cast)
  const bias = border === 'pil' ? 0 : 0.5;
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
        out[o] = data[i00]! * w00 + data[i10]! * w10 + data[i01]! * w01 + data[i11]! * w11 + bias;
        out[o + 1] = data[i00 + 1]! * w00 + data[i10 + 1]! * w10 + data[i01 + 1]! * w01 + data[i11 + 1]! * w11 + bias;
        out[o + 2] = data[i00 + 2]! * w00 + data[i10 + 2]! * w10 + data[i01 + 2]! * w01 + data[i11 + 2]! * w11 + bias;
        continue;
      }
      if (border === 'pil') {
        if (sx < -0.5 || sy < -0.5 || sx >= w - 0.5 || sy >= h - 0.5) continue; // PIL fills outside with black
        const xa = Math.min(Math.max(x0, 0), w - 1), xb = Math.min(Math.max(x0 + 1, 0), w - 1);
        const ya = Math.min(Math.max(y0, 0), h - 1), yb = Math.min(Math.max(y0 + 1, 0), h - 1);
        for (let c = 0; c < 3; c++) {
          const top = data[ya * stride + xa * 3 + c]! * (1 - fx) + data[ya * stride + xb * 3 + c]! * fx;
          const bottom = data[yb * stride + xa * 3 + c]! * (1 - fx) + data[yb * stride + xb * 3 + c]! * fx;
          out[o + c] = top * (1 - fy) + bottom * fy;
        }
      } else {
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
  }
  return { data: out, width: outWidth, height: outHeight };
}

/** A copy of the integer box [left, top, right, bottom) of an image (inside its bounds). */
export function cropRgb(src: RgbImage, box: [number, number, number, number]): RgbImage {
  const [l, t, r, b] = box;
  const w = r - l, h = b - t;
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) src.data.copy(out, y * w * 3, ((t + y) * src.width + l) * 3, ((t + y) * src.width + r) * 3);
  return { data: out, width: w, height: h };
}
