import sharp from 'sharp';
import { decodeRgb, type RgbImage } from '../util/faceapi.js';
import type { Preprocessing } from './embedder.js';

/** Floats in one image of `pre` (3 x size x size). */
export const tensorLength = (pre: Preprocessing): number => 3 * pre.size * pre.size;

/**
 * The aligned face (a file, or its encoded bytes) as `size` x `size` RGB: decoded once (EXIF orientation applied), padded to
 * a square with black, centred, when it is not one (as face-api does), then resized with
 * sharp's default Lanczos-3 when its side differs.
 */
export async function loadFace(file: string | Buffer, size: number): Promise<RgbImage> {
  const img = await decodeRgb(file);
  if (img.width === size && img.height === size) return img;
  // 'contain' letterboxes: the face centred on a black square, resized in the same step
  const { data } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: size, height: size };
}

/**
 * Write one image into `out` at `offset` as the model takes it: (pixel / 255 - mean) / std per
 * channel, channels in RGB or BGR order, NCHW or NHWC; `mirror` flips it left to right.
 */
export function writeTensor(img: RgbImage, pre: Preprocessing, out: Float32Array, offset: number, mirror: boolean): void {
  const S = pre.size;
  if (img.width !== S || img.height !== S) throw new Error(`image is ${img.width}x${img.height}, the model takes ${S}x${S}`);
  const src = img.data;
  const order = pre.bgr ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const from = order[c]!;
    // (p / 255 - mean) / std as p * scale + shift, computed once per channel
    const scale = 1 / (255 * pre.std[c]!);
    const shift = -pre.mean[c]! / pre.std[c]!;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const sx = mirror ? S - 1 - x : x;
        const v = src[(y * S + sx) * 3 + from]! * scale + shift;
        if (pre.layout === 'nchw') out[offset + c * S * S + y * S + x] = v;
        else out[offset + (y * S + x) * 3 + c] = v;
      }
    }
  }
}
