import type { FaceRectangle } from '../dataset/record.js';
import type { Point } from './similarity.js';

/** A box in image pixels: [x, y, width, height], origin top-left (landmarks.jsonl's `box`). */
export type Box = [number, number, number, number];

export interface Detection {
  box: Box;
  score: number;
  /** MTCNN's 5 points (left eye, right eye, nose, left and right mouth corner); SSD has none. */
  points5?: Point[];
}

/** Face++'s {top, left, width, height} as a box. */
export function rectangleBox(r: FaceRectangle): Box {
  return [r.left, r.top, r.width, r.height];
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * MTLFace's rule for a photo without a given rectangle: area - 2 * offset^2, where offset is
 * the distance of the box centre from the image centre, x against the width and y against the
 * height (MTLFace's released code swaps them for non-square images).
 */
export function centralityScore(box: Box, width: number, height: number): number {
  const dx = box[0] + box[2] / 2 - width / 2;
  const dy = box[1] + box[3] / 2 - height / 2;
  return box[2] * box[3] - 2 * (dx * dx + dy * dy);
}

export type FaceChoice =
  /** Detection `index` is the face (by IoU with the rectangle, or by centrality). */
  | { kind: 'detection'; index: number; iou?: number }
  /** No detection overlaps the given rectangle: landmarks run on the rectangle itself. */
  | { kind: 'rectangle'; box: Box }
  | { kind: 'none' };

/** Which face of a photo the record means. */
export function chooseFace(detections: readonly Detection[], width: number, height: number, rectangle?: Box): FaceChoice {
  if (rectangle) {
    let best = -1, bestIou = 0;
    detections.forEach((d, i) => {
      const v = iou(d.box, rectangle);
      if (v > bestIou) [best, bestIou] = [i, v];
    });
    return best >= 0 ? { kind: 'detection', index: best, iou: bestIou } : { kind: 'rectangle', box: rectangle };
  }
  if (detections.length === 0) return { kind: 'none' };
  let best = 0;
  for (let i = 1; i < detections.length; i++) {
    if (centralityScore(detections[i]!.box, width, height) > centralityScore(detections[best]!.box, width, height)) best = i;
  }
  return { kind: 'detection', index: best };
}
