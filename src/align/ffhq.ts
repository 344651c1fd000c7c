import type { Point } from './similarity.js';

/**
 * The pure geometry of the FFHQ alignment (NVlabs ffhq-dataset `recreate_aligned_images`,
 * docs/reference.md section 4): where the oriented square sits, and how the image is shrunk,
 * cropped and padded before the square is mapped onto the output. Pixel work: ffhq-image.ts.
 */

/** What FFHQ reads from the landmarks: the two eye centres and the two mouth corners. */
export interface FfhqKeyPoints {
  eyeLeft: Point;
  eyeRight: Point;
  mouthLeft: Point;
  mouthRight: Point;
}

/** Corners in FFHQ's order: c-x-y, c-x+y, c+x+y, c+x-y (top-left, bottom-left, bottom-right, top-right). */
export type Quad = [Point, Point, Point, Point];

export interface FfhqQuad {
  quad: Quad;
  qsize: number;
  center: Point;
  x: Point;
  y: Point;
}

/** numpy's rint: round half to even. */
export function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function meanOf(points: readonly Point[], from: number, to: number): Point {
  let x = 0, y = 0;
  for (let i = from; i <= to; i++) {
    x += points[i]![0];
    y += points[i]![1];
  }
  return [x / (to - from + 1), y / (to - from + 1)];
}

/** FFHQ's key points from 68 landmarks: means of 36-41 and 42-47, points 48 and 54. */
export function ffhqKeyPointsFrom68(lm: readonly Point[]): FfhqKeyPoints {
  if (lm.length !== 68) throw new Error(`ffhqKeyPointsFrom68: need 68 points, got ${lm.length}`);
  return { eyeLeft: meanOf(lm, 36, 41), eyeRight: meanOf(lm, 42, 47), mouthLeft: [...lm[48]!], mouthRight: [...lm[54]!] };
}

/** The same key points from the 5-point order (eyes, nose, mouth corners): FFHQ never uses the nose. */
export function ffhqKeyPointsFrom5(p: readonly Point[]): FfhqKeyPoints {
  if (p.length !== 5) throw new Error(`ffhqKeyPointsFrom5: need 5 points, got ${p.length}`);
  return { eyeLeft: [...p[0]!], eyeRight: [...p[1]!], mouthLeft: [...p[3]!], mouthRight: [...p[4]!] };
}

/** Step 2: the oriented square (quad) around the face. */
export function ffhqQuad(k: FfhqKeyPoints): FfhqQuad {
  const eyeAvg: Point = [(k.eyeLeft[0] + k.eyeRight[0]) / 2, (k.eyeLeft[1] + k.eyeRight[1]) / 2];
  const eyeToEye: Point = [k.eyeRight[0] - k.eyeLeft[0], k.eyeRight[1] - k.eyeLeft[1]];
  const mouthAvg: Point = [(k.mouthLeft[0] + k.mouthRight[0]) / 2, (k.mouthLeft[1] + k.mouthRight[1]) / 2];
  const eyeToMouth: Point = [mouthAvg[0] - eyeAvg[0], mouthAvg[1] - eyeAvg[1]];
  // x = eye_to_eye - flipud(eye_to_mouth) * [-1, 1]
  let x: Point = [eyeToEye[0] + eyeToMouth[1], eyeToEye[1] - eyeToMouth[0]];
  const xLen = Math.hypot(x[0], x[1]);
  if (!(xLen > 0)) throw new Error('ffhqQuad: degenerate landmarks (eyes and mouth coincide)');
  const scale = Math.max(Math.hypot(eyeToEye[0], eyeToEye[1]) * 2.0, Math.hypot(eyeToMouth[0], eyeToMouth[1]) * 1.8);
  x = [(x[0] / xLen) * scale, (x[1] / xLen) * scale];
  const y: Point = [-x[1], x[0]]; // flipud(x) * [-1, 1]
  const c: Point = [eyeAvg[0] + eyeToMouth[0] * 0.1, eyeAvg[1] + eyeToMouth[1] * 0.1];
  const quad: Quad = [
    [c[0] - x[0] - y[0], c[1] - x[1] - y[1]],
    [c[0] - x[0] + y[0], c[1] - x[1] + y[1]],
    [c[0] + x[0] + y[0], c[1] + x[1] + y[1]],
    [c[0] + x[0] - y[0], c[1] + x[1] - y[1]],
  ];
  return { quad, qsize: Math.hypot(x[0], x[1]) * 2, center: c, x, y };
}

/** Integer box [left, top, right, bottom) in pixels. */
export type IntBox = [number, number, number, number];

/** Every decision FFHQ takes before the final transform, for an image of the given size. */
export interface FfhqPlan {
  /** Step 3: integer downscale factor (1 = none) and the size after it. */
  shrink: number;
  shrunkSize: [number, number];
  /** Step 4: crop of the (shrunk) image, or null when the crop is the whole image. */
  crop: IntBox | null;
  /** Step 5: reflect padding [left, top, right, bottom] of the cropped image, or null. */
  pad: IntBox | null;
  /** Gaussian sigma of the padding blur (qsize * 0.02 after the shrink). */
  blurSigma: number;
  /** The quad in the coordinates of the final (shrunk, cropped, padded) image. */
  quad: Quad;
  qsize: number;
  /** Size of the final image the transform samples. */
  sourceSize: [number, number];
  outputSize: number;
  transformSize: number;
  /** Step 6: samples per output pixel and axis at which the transform square is evaluated (ffhqSamples). */
  samples: number;
}

function bounds(quad: Quad): IntBox {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  return [Math.floor(Math.min(...xs)), Math.floor(Math.min(...ys)), Math.ceil(Math.max(...xs)), Math.ceil(Math.max(...ys))];
}

const shift = (quad: Quad, dx: number, dy: number): Quad => quad.map((p) => [p[0] + dx, p[1] + dy]) as Quad;

/** Steps 3-5 of the procedure for an image of `width` x `height`. */
export function ffhqPlan(q: FfhqQuad, width: number, height: number, outputSize: number, transformSize: number, enablePadding = true): FfhqPlan {
  let quad = q.quad.map((p) => [...p]) as Quad;
  let qsize = q.qsize;
  let w = width, h = height;

  const shrink = Math.floor((qsize / outputSize) * 0.5);
  if (shrink > 1) {
    w = rint(width / shrink);
    h = rint(height / shrink);
    quad = quad.map((p) => [p[0] / shrink, p[1] / shrink]) as Quad;
    qsize /= shrink;
  }
  const shrunkSize: [number, number] = [w, h];

  const border = Math.max(rint(qsize * 0.1), 3);
  const b = bounds(quad);
  const grown: IntBox = [Math.max(b[0] - border, 0), Math.max(b[1] - border, 0), Math.min(b[2] + border, w), Math.min(b[3] + border, h)];
  let crop: IntBox | null = null;
  if (grown[2] - grown[0] < w || grown[3] - grown[1] < h) {
    crop = grown;
    quad = shift(quad, -grown[0], -grown[1]);
    w = grown[2] - grown[0];
    h = grown[3] - grown[1];
  }

  const pb = bounds(quad);
  let pad: IntBox | null = [Math.max(-pb[0] + border, 0), Math.max(-pb[1] + border, 0), Math.max(pb[2] - w + border, 0), Math.max(pb[3] - h + border, 0)];
  if (enablePadding && Math.max(...pad) > border - 4) {
    const least = rint(qsize * 0.3);
    pad = pad.map((v) => Math.max(v, least)) as IntBox;
    quad = shift(quad, pad[0], pad[1]);
    w += pad[0] + pad[2];
    h += pad[1] + pad[3];
  } else {
    pad = null;
  }

  const samples = ffhqSamples(qsize, outputSize, transformSize);
  return { shrink: shrink > 1 ? shrink : 1, shrunkSize, crop, pad, blurSigma: qsize * 0.02, quad, qsize, sourceSize: [w, h], outputSize, transformSize, samples };
}

/** Most source pixels between two samples of the transform square (bench/ffhq-warp.ts, BENCHMARKS.md: align). */
export const SAMPLE_SPACING = 0.4;
/** Most source pixels per output pixel for one sample per output pixel, which drops the Lanczos window. */
export const SINGLE_SAMPLE_SPACING = 0.1;

/**
 * How densely step 6 evaluates the transform square: transformSize / outputSize samples per output
 * pixel and axis is the procedure itself; where the (shrunk) quad is small, the bilinear surface is
 * smooth at that scale and fewer samples, at most SAMPLE_SPACING source pixels apart, give the same
 * Lanczos average to about a grey level (one sample: the ffhqFast transform).
 */
export function ffhqSamples(qsize: number, outputSize: number, transformSize: number): number {
  const factor = transformSize / outputSize;
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`ffhq: transform size ${transformSize} is not a multiple of the output size ${outputSize}`);
  const spacing = qsize / outputSize; // source pixels per output pixel
  if (spacing <= SINGLE_SAMPLE_SPACING) return 1;
  return Math.min(factor, Math.max(2, Math.ceil(spacing / SAMPLE_SPACING)));
}
