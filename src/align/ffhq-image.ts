import sharp from 'sharp';
import type { RgbImage } from '../util/faceapi.js';
import { ffhqPlan, ffhqQuad, type FfhqKeyPoints, type FfhqPlan, type Quad } from './ffhq.js';
import { ffhqPad } from './ffhq-pad.js';
import type { Affine } from './similarity.js';
import { cropRgb, transformResize } from './warp.js';

/** Antialiased resize (Lanczos 3, PIL's ANTIALIAS) of raw RGB. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Output pixel centres to source pixel centres for PIL's QUAD transform of FFHQ
 * (`transform(..., QUAD, quad + 0.5, BILINEAR)`): the quad is a parallelogram, so the map is affine.
 */
export function quadInverse(quad: Quad, size: number): Affine {
  const [nw, sw, , ne] = quad;
  const m0 = (ne[0] - nw[0]) / size, m1 = (sw[0] - nw[0]) / size;
  const m3 = (ne[1] - nw[1]) / size, m4 = (sw[1] - nw[1]) / size;
  // PIL samples output pixel X at X + 0.5 in corner coordinates; +0.5 on the quad and -0.5 on the sample cancel
  return [m0, m1, nw[0] + 0.5 * (m0 + m1), m3, m4, nw[1] + 0.5 * (m3 + m4)];
}

export interface FfhqResult {
  image: RgbImage;
  plan: FfhqPlan;
}

/** Steps 3-5 of the plan on the photo: the image that step 6 transforms (the photo itself when the plan changes nothing). */
export async function ffhqSource(img: RgbImage, plan: FfhqPlan): Promise<RgbImage> {
  let cur = img;
  if (plan.shrink > 1) cur = await resizeRgb(cur, plan.shrunkSize[0], plan.shrunkSize[1]);
  if (plan.crop) cur = cropRgb(cur, plan.crop);
  if (plan.pad) cur = ffhqPad(cur, plan.pad, plan.blurSigma);
  return cur;
}

/**
 * The FFHQ alignment of one face: shrink, crop, pad, transform at `transformSize` and
 * antialiased downscale to `outputSize` (transformSize = 4 * outputSize is the published one),
 * the last two in one pass at `plan.samples` samples per output pixel.
 */
export async function alignFfhq(img: RgbImage, keys: FfhqKeyPoints, outputSize: number, transformSize: number): Promise<FfhqResult> {
  const plan = ffhqPlan(ffhqQuad(keys), img.width, img.height, outputSize, transformSize);
  const source = await ffhqSource(img, plan);
  return { image: transformResize(source, quadInverse(plan.quad, transformSize), outputSize, transformSize, plan.samples), plan };
}
