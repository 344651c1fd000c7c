import type { RgbImage } from '../../util/faceapi.js';
import type { Point } from '../similarity.js';
import { calibrate, clipBox, decodePoints, levelSize, nms, pnetCandidates, pyramidScales, squareBox, type Candidate, type Corners, type Offsets } from './boxes.js';
import type { MtcnnNets } from './nets.js';
import { packRgb, resizeToInput, type PackedRgb } from './resample.js';

export interface MtcnnOptions {
  /** Smallest face side looked for, in pixels of the image given (min_face_size). */
  minFace: number;
  /** Face probability each stage needs: P-Net, R-Net, O-Net. */
  thresholds: readonly [number, number, number];
}

/** The defaults of ECAF's aligner (TropComplique/mtcnn-pytorch `detect_faces`). */
export const MTCNN_DEFAULTS: MtcnnOptions = { minFace: 20, thresholds: [0.6, 0.7, 0.8] };
/** NMS overlap limits: within a pyramid level, over all levels, after R-Net, after O-Net (min mode). */
export const NMS_LEVEL = 0.5;
export const NMS_PYRAMID = 0.7;
export const NMS_RNET = 0.7;
export const NMS_ONET = 0.7;

export interface MtcnnFace {
  /** Corners [x1, y1, x2, y2] after O-Net's regression. */
  box: Corners;
  /** O-Net's face probability. */
  score: number;
  /** Left eye, right eye, nose, left and right mouth corner. */
  points: Point[];
}

/** The crops of every box (cut from the image, black where they pass its edges, PIL-resized) as one batch, and the boxes clipped to the image (see clipBox). */
function batch(img: PackedRgb, boxes: readonly Corners[], size: number): { input: Float32Array; clipped: Corners[] } {
  const input = new Float32Array(boxes.length * 3 * size * size);
  boxes.forEach(([x1, y1, x2, y2], i) => resizeToInput(img, { x: x1, y: y1, width: x2 - x1 + 1, height: y2 - y1 + 1 }, size, size, input, i * 3 * size * size));
  return { input, clipped: boxes.map((b) => clipBox(b, img.width, img.height)) };
}

/** A regression can turn a box inside out; the original then fails on a negative crop size, we drop the box. */
const hasPixels = (b: Corners): boolean => b[2] >= b[0];

const offsetsAt = (a: Float32Array, i: number): Offsets => [a[4 * i]!, a[4 * i + 1]!, a[4 * i + 2]!, a[4 * i + 3]!];

/** Stage 1: P-Net over the pyramid, NMS per level then over all, regression, squares. */
async function proposals(img: PackedRgb, nets: MtcnnNets, opts: MtcnnOptions): Promise<Corners[]> {
  const all: Candidate[] = [];
  for (const s of pyramidScales(img.width, img.height, opts.minFace)) {
    const [w, h] = levelSize(img.width, img.height, s);
    const input = new Float32Array(3 * w * h);
    resizeToInput(img, { x: 0, y: 0, width: img.width, height: img.height }, w, h, input);
    const out = await nets.pnet(input, h, w);
    const found = pnetCandidates(out.probs, out.offsets, out.rows, out.cols, s, opts.thresholds[0]);
    for (const i of nms(found.map((c) => c.box), found.map((c) => c.score), NMS_LEVEL, 'union')) all.push(found[i]!);
  }
  const keep = nms(all.map((c) => c.box), all.map((c) => c.score), NMS_PYRAMID, 'union');
  return keep.map((i) => squareBox(calibrate(all[i]!.box, all[i]!.offsets))).filter(hasPixels);
}

/** Stage 2: R-Net on 24x24 crops, threshold, NMS, regression, squares. */
async function refine(img: PackedRgb, nets: MtcnnNets, boxes: Corners[], opts: MtcnnOptions): Promise<Corners[]> {
  if (boxes.length === 0) return [];
  const { input, clipped } = batch(img, boxes, 24);
  const out = await nets.rnet(input, boxes.length);
  const pass = clipped.map((_, i) => i).filter((i) => out.probs[i]! > opts.thresholds[1]);
  const keep = nms(pass.map((i) => clipped[i]!), pass.map((i) => out.probs[i]!), NMS_RNET, 'union');
  return keep.map((k) => squareBox(calibrate(clipped[pass[k]!]!, offsetsAt(out.offsets, pass[k]!)))).filter(hasPixels);
}

/** Stage 3: O-Net on 48x48 crops, threshold, landmarks, regression, NMS in min mode. */
async function output(img: PackedRgb, nets: MtcnnNets, boxes: Corners[], opts: MtcnnOptions): Promise<MtcnnFace[]> {
  if (boxes.length === 0) return [];
  const { input, clipped } = batch(img, boxes, 48);
  const out = await nets.onet(input, boxes.length);
  const faces = clipped
    .map((b, i) => ({ b, i }))
    .filter(({ i }) => out.probs[i]! > opts.thresholds[2])
    .map(({ b, i }) => ({ box: calibrate(b, offsetsAt(out.offsets, i)), score: out.probs[i]!, points: decodePoints(b, out.landmarks.subarray(10 * i, 10 * i + 10)) }));
  return nms(faces.map((f) => f.box), faces.map((f) => f.score), NMS_ONET, 'min').map((i) => faces[i]!);
}

/**
 * MTCNN's three stages on an RGB image as ECAF's aligner runs them (TropComplique/mtcnn-pytorch
 * `detect_faces`), faces best first, in the image's pixels.
 */
export async function mtcnnFaces(img: RgbImage, nets: MtcnnNets, opts: MtcnnOptions = MTCNN_DEFAULTS): Promise<MtcnnFace[]> {
  const packed = packRgb(img);
  const stage1 = await proposals(packed, nets, opts);
  const stage2 = await refine(packed, nets, stage1, opts);
  return output(packed, nets, stage2, opts);
}
