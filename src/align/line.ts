import type { DetectorName } from './detect.js';
import type { Box } from './select.js';
import type { Point } from './similarity.js';

/** Per-id state in landmarks.jsonl (docs/formats.md); the last line of an id wins. */
export type AlignStatus = 'ok' | 'no_face' | 'decode_error' | 'missing_image';
export type LandmarkSource = 'detector' | 'rectangle' | 'override';

export interface LandmarksLine {
  id: string;
  status: AlignStatus;
  source: LandmarkSource;
  /** Detector score of the chosen face. */
  score?: number;
  /** The chosen face's box (detection, or the given rectangle). */
  box?: Box;
  /** face-api's 68 points (FFHQ's input). */
  landmarks68?: Point[];
  /** The 5 points of the 112 crop: MTCNN's own, else taken from the 68 (template.ts). */
  points5?: Point[];
  /** Which detector found the face (source detector or rectangle); lines written before it was recorded are SSD's. */
  detector?: DetectorName;
  /** Faces the detector found in the photo. */
  faces?: number;
  /** Why a record failed (decode_error, missing_image). */
  error?: string;
  /** Output sizes of an ok line, so a run with other sizes redoes it. */
  ffhq_size?: number;
  mtcnn_size?: number;
  /** FFHQ made without the 4x transform (ffhqFast). */
  ffhq_fast?: boolean;
  /**
   * On no_face and decode_error lines: the photo's size and modification time and the record's
   * face rectangle (`<bytes>:<mtime ms>[:<left>,<top>,<width>,<height>]`), so a rerun tries the
   * photo again only when one of them changed (or with retryFailed).
   */
  photo_key?: string;
  time: string;
}

/** Coordinates to a thousandth of a pixel: enough, and keeps lines short. */
export const roundPoint = (p: Point): Point => [Math.round(p[0] * 1000) / 1000, Math.round(p[1] * 1000) / 1000];
/** The detector of a line: lines of versions before MTCNN carry none and were SSD's. */
export const lineDetector = (line: LandmarksLine): DetectorName => line.detector ?? 'ssd';
export const roundBox = (b: Box): Box => b.map((v) => Math.round(v * 1000) / 1000) as Box;
