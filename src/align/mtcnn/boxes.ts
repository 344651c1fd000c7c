import type { Point } from '../similarity.js';

/**
 * The box math of MTCNN as ECAF's aligner runs it (TropComplique/mtcnn-pytorch `detect_faces`,
 * `first_stage.py`, `box_utils.py`), as pure functions; pinned with the whole procedure against an
 * independent numpy/torch version (test/align/mtcnn_reference.py).
 */

/** [x1, y1, x2, y2] in pixels with both ends inside the box: its width is x2 - x1 + 1. */
export type Corners = [number, number, number, number];

/** Box regression of a net: how far each edge moves, as a fraction of the box's width or height. */
export type Offsets = [number, number, number, number];

export interface Candidate {
  box: Corners;
  score: number;
  offsets: Offsets;
}

/** P-Net looks at 12x12 windows, one every 2 pixels of a pyramid level. */
export const PNET_CELL = 12;
export const PNET_STRIDE = 2;
/** The pyramid's step between levels (sqrt(0.5), as written there). */
export const PYRAMID_FACTOR = 0.707;

/** numpy's `np.round`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Pyramid scales: `m = 12 / minFace` times 0.707^k while the shorter side at that scale stays over
 * 12 px (the side is multiplied step by step, as there).
 */
export function pyramidScales(width: number, height: number, minFace: number): number[] {
  const m = PNET_CELL / minFace;
  const scales: number[] = [];
  let side = Math.min(width, height) * m;
  for (let k = 0; side > PNET_CELL; k++) {
    scales.push(m * PYRAMID_FACTOR ** k);
    side *= PYRAMID_FACTOR;
  }
  return scales;
}

/** A pyramid level's size: the photo's, times the scale, rounded up. */
export const levelSize = (width: number, height: number, scale: number): [number, number] => [Math.ceil(width * scale), Math.ceil(height * scale)];

/**
 * P-Net's map to candidate boxes in photo pixels: each cell over the threshold, row-major, its
 * 12x12 window mapped back through the scale (`round((2 * col + 1) / s)` ...).
 * `probs` is the face probability [rows, cols]; `offsets` is [4, rows, cols].
 */
export function pnetCandidates(probs: ArrayLike<number>, offsets: ArrayLike<number>, rows: number, cols: number, scale: number, threshold: number): Candidate[] {
  const out: Candidate[] = [];
  const plane = rows * cols;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const score = probs[i]!;
      if (!(score > threshold)) continue;
      const x = PNET_STRIDE * c + 1, y = PNET_STRIDE * r + 1;
      out.push({
        box: [roundHalfEven(x / scale), roundHalfEven(y / scale), roundHalfEven((x + PNET_CELL) / scale), roundHalfEven((y + PNET_CELL) / scale)],
        score,
        offsets: [offsets[i]!, offsets[plane + i]!, offsets[2 * plane + i]!, offsets[3 * plane + i]!],
      });
    }
  }
  return out;
}

const lesser = (a: number, b: number): number => (a < b ? a : b);
const greater = (a: number, b: number): number => (a > b ? a : b);

/** `union`: intersection over union; `min`: intersection over the smaller box. */
export type NmsMode = 'union' | 'min';

/**
 * Greedy non-maximum suppression (box_utils.nms): the highest score is kept and every box that
 * overlaps it by more than `limit` dropped, and so on. Areas and intersections count both end
 * pixels (+1). Ties: a stable ascending sort read from its end, so the later box goes first.
 * Returns the kept indices, best first.
 */
export function nms(boxes: readonly Corners[], scores: readonly number[], limit: number, mode: NmsMode): number[] {
  const n = boxes.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || b - a);
  const x1 = new Float64Array(n), y1 = new Float64Array(n), x2 = new Float64Array(n), y2 = new Float64Array(n), area = new Float64Array(n);
  order.forEach((k, i) => {
    const b = boxes[k]!;
    [x1[i], y1[i], x2[i], y2[i]] = b;
    area[i] = (b[2] - b[0] + 1) * (b[3] - b[1] + 1);
  });
  // a box is dropped once a kept, better box overlaps it: the same as the original's shrinking list
  const dropped = new Uint8Array(n);
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    if (dropped[i]) continue;
    kept.push(order[i]!);
    for (let j = i + 1; j < n; j++) {
      if (dropped[j]) continue;
      // comparisons, not Math.min/max: a global lookup per pair costs 40x more inside a vm context (jest)
      const w = lesser(x2[i]!, x2[j]!) - greater(x1[i]!, x1[j]!) + 1;
      const h = lesser(y2[i]!, y2[j]!) - greater(y1[i]!, y1[j]!) + 1;
      const inter = w > 0 && h > 0 ? w * h : 0;
      const overlap = inter / (mode === 'min' ? lesser(area[i]!, area[j]!) : area[i]! + area[j]! - inter);
      if (overlap > limit) dropped[j] = 1;
    }
  }
  return kept;
}

/** Box regression (calibrate_box): each edge moves by its offset times the box's width or height. */
export function calibrate(box: Corners, o: Offsets): Corners {
  const w = box[2] - box[0] + 1, h = box[3] - box[1] + 1;
  return [box[0] + o[0] * w, box[1] + o[1] * h, box[2] + o[2] * w, box[3] + o[3] * h];
}

/** The square of side max(w, h) around the box's centre, corners rounded (convert_to_square + np.round). */
export function squareBox(box: Corners): Corners {
  const w = box[2] - box[0] + 1, h = box[3] - box[1] + 1;
  const side = Math.max(w, h);
  const x1 = box[0] + w * 0.5 - side * 0.5, y1 = box[1] + h * 0.5 - side * 0.5;
  return [roundHalfEven(x1), roundHalfEven(y1), roundHalfEven(x1 + side - 1), roundHalfEven(y1 + side - 1)];
}

/**
 * The box clipped to the photo. box_utils.correct_bboxes does this to the stage's box array in
 * place while cutting the crops (numpy views), so R-Net's and O-Net's regression and O-Net's
 * landmarks apply to the clipped box, though the crop was taken from the whole one: kept as is.
 */
export function clipBox(box: Corners, width: number, height: number): Corners {
  return [Math.max(box[0], 0), Math.max(box[1], 0), Math.min(box[2], width - 1), Math.min(box[3], height - 1)];
}

/** O-Net's landmarks (5 x then 5 y, fractions of the box) in photo pixels. */
export function decodePoints(box: Corners, l: ArrayLike<number>): Point[] {
  const w = box[2] - box[0] + 1, h = box[3] - box[1] + 1;
  return [0, 1, 2, 3, 4].map((i) => [box[0] + w * l[i]!, box[1] + h * l[5 + i]!]);
}
