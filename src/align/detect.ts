import { loadFaceApi, imageTensor, type FaceApi, type RgbImage } from '../util/faceapi.js';
import { resizeRgb } from './ffhq-image.js';
import type { Detection, Box } from './select.js';
import type { Point } from './similarity.js';
import { cropRgb } from './warp.js';

/** SSD runs on 512x512: photos are shrunk to this longest side first (antialiased), which loses no detections. */
export const DETECT_MAX_SIDE = 1024;
/** SSD MobileNet v1 score threshold (all 22 faces of face-api's samples pass it). */
export const MIN_CONFIDENCE = 0.3;
/** The landmark net's input side: face crops are shrunk to it with antialiasing, from the full-resolution photo. */
export const LANDMARK_INPUT = 112;

/** face-api's SSD detector and 68-point landmark net, one copy per thread. */
export class FaceDetector {
  private constructor(private readonly faceapi: FaceApi) {}

  static async create(): Promise<FaceDetector> {
    return new FaceDetector(await loadFaceApi(['ssdMobilenetv1', 'faceLandmark68Net']));
  }

  /** Every face of the photo, boxes in its full-resolution pixels. */
  async detect(img: RgbImage): Promise<Detection[]> {
    const scale = Math.max(img.width, img.height) / DETECT_MAX_SIDE;
    const small = scale > 1 ? await resizeRgb(img, Math.max(1, Math.round(img.width / scale)), Math.max(1, Math.round(img.height / scale))) : img;
    const sx = img.width / small.width, sy = img.height / small.height;
    const tensor = imageTensor(this.faceapi, small);
    try {
      const found = await this.faceapi.detectAllFaces(tensor, new this.faceapi.SsdMobilenetv1Options({ minConfidence: MIN_CONFIDENCE, maxResults: 200 }));
      return found.map((d) => ({ box: [d.box.x * sx, d.box.y * sy, d.box.width * sx, d.box.height * sy], score: d.score }));
    } finally {
      tensor.dispose();
    }
  }

  /**
   * 68 landmarks of the face in `box`, from a crop of the full-resolution photo (as face-api
   * crops the detection box), or null when the box holds fewer than 2x2 pixels of the photo.
   */
  async landmarks(img: RgbImage, box: Box): Promise<Point[] | null> {
    const x0 = Math.max(0, Math.floor(box[0])), y0 = Math.max(0, Math.floor(box[1]));
    const x1 = Math.min(img.width, Math.ceil(box[0] + box[2])), y1 = Math.min(img.height, Math.ceil(box[1] + box[3]));
    if (x1 - x0 < 2 || y1 - y0 < 2) return null;
    let crop = cropRgb(img, [x0, y0, x1, y1]);
    const scale = Math.max(crop.width, crop.height) / LANDMARK_INPUT;
    if (scale > 1) crop = await resizeRgb(crop, Math.max(1, Math.round(crop.width / scale)), Math.max(1, Math.round(crop.height / scale)));
    const sx = (x1 - x0) / crop.width, sy = (y1 - y0) / crop.height;
    const tensor = imageTensor(this.faceapi, crop);
    try {
      const result = await this.faceapi.nets.faceLandmark68Net.detectLandmarks(tensor);
      const lm = Array.isArray(result) ? result[0] : result;
      if (!lm) return null;
      return lm.positions.map((p) => [x0 + p.x * sx, y0 + p.y * sy]);
    } finally {
      tensor.dispose();
    }
  }
}
