import type { Point } from './similarity.js';

/** insightface's ArcFace 5-point template for 112x112 (MTCNN order: eyes, nose, mouth corners). */
export const ARCFACE_TEMPLATE_112: readonly Point[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
] as Point[]);

/** The template for a `size` x `size` output, scaled as insightface's `estimate_norm` does. */
export function mtcnnTemplate(size: number): Point[] {
  // multiples of 112 scale the 112 template; other sizes use the 128 framing (+8 px on x at 128)
  const ratio = size % 112 === 0 ? size / 112 : size / 128;
  const diffX = size % 112 === 0 ? 0 : 8 * ratio;
  return ARCFACE_TEMPLATE_112.map(([x, y]) => [x * ratio + diffX, y * ratio]);
}

function mean(points: readonly Point[], from: number, to: number): Point {
  let x = 0, y = 0;
  for (let i = from; i <= to; i++) {
    x += points[i]![0];
    y += points[i]![1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

/**
 * The 5 points from 68 dlib-style landmarks (0-based): eyes are the centres of their six
 * contour points (36-41, 42-47: the eye centres FFHQ uses too), nose tip 30, mouth corners
 * 48 and 54. Order follows the face (36-41 is the eye at the smaller x in an upright face),
 * so a face rotated past 90 degrees still maps onto the template the right way up.
 */
export function points5From68(landmarks68: readonly Point[]): Point[] {
  if (landmarks68.length !== 68) throw new Error(`points5From68: need 68 points, got ${landmarks68.length}`);
  return [mean(landmarks68, 36, 41), mean(landmarks68, 42, 47), [...landmarks68[30]!], [...landmarks68[48]!], [...landmarks68[54]!]];
}
