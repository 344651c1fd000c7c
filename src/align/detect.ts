import { loadFaceApi, imageTensor, type FaceApi, type RgbImage } from '../util/faceapi.js';
import { resizeRgb } from './ffhq-image.js';
import { mtcnnFaces, MTCNN_DEFAULTS, type MtcnnFace, type MtcnnOptions } from './mtcnn/detect.js';
import { openMtcnnNets, type MtcnnNets } from './mtcnn/nets.js';
import type { Detection, Box } from './select.js';
import type { Point } from './similarity.js';
import { cropRgb } from './warp.js';

/** SSD runs on 512x512: photos are shrunk to this longest side first (antialiased), which loses no detections. */
export const DETECT_MAX_SIDE = 1024;

/** Which net finds the faces: ECAF's own MTCNN (faces and 5 points) or face-api's SSD (faces only). */
export type DetectorName = 'mtcnn' | 'ssd';
export const DETECTORS: readonly DetectorName[] = ['mtcnn', 'ssd'];

export interface MtcnnSettings extends MtcnnOptions {
  /** Photos are shrunk (antialiased) to this longest side before MTCNN; minFace is in those pixels. */
  detectSize: number;
}

/** Detection size of the MTCNN path: see docs/align.md for the measured trade-off. */
export const MTCNN_DETECT_SIZE = 1024;
export const MTCNN_SETTINGS: MtcnnSettings = { ...MTCNN_DEFAULTS, detectSize: MTCNN_DETECT_SIZE };

/** Which pixel kernels a worker runs: WebAssembly SIMD (default, where it loads) or the JavaScript reference (same output). */
export type AlignKernels = 'simd' | 'js';

/** What each align worker loads (worker_threads workerData). */
export type WorkerSetup = DetectorConfig & { kernels?: AlignKernels };

export interface DetectorConfig {
  detector: DetectorName;
  /** Folder of pnet/rnet/onet.onnx (default: the shipped models/mtcnn). */
  mtcnnModelDir?: string;
  /** onnxruntime intra-op threads per net (see openMtcnnNets). */
  threads?: number;
}

/** The photo shrunk to `maxSide` on its longest side (antialiased, as the SSD path does), or itself. */
export async function detectionImage(img: RgbImage, maxSide: number): Promise<RgbImage> {
  const scale = Math.max(img.width, img.height) / maxSide;
  return scale > 1 ? resizeRgb(img, Math.max(1, Math.round(img.width / scale)), Math.max(1, Math.round(img.height / scale))) : img;
}

/** An MTCNN face of the detection image as a detection of the photo (`sx`, `sy`: photo pixels per detection pixel). */
export function mtcnnDetection(f: MtcnnFace, sx: number, sy: number): Detection {
  const [x1, y1, x2, y2] = f.box;
  return { box: [x1 * sx, y1 * sy, (x2 - x1 + 1) * sx, (y2 - y1 + 1) * sy], score: f.score, points5: f.points.map(([x, y]) => [x * sx, y * sy]) };
}
/** SSD MobileNet v1 score threshold (all 22 faces of face-api's samples pass it). */
export const MIN_CONFIDENCE = 0.3;
/** The landmark net's input side: face crops are shrunk to it with antialiasing, from the full-resolution photo. */
export const LANDMARK_INPUT = 112;

/** Index of each of the 68 dlib points in the mirrored face (left and right swap, the midline stays). */
export const MIRROR_68: readonly number[] = [
  16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, // jaw
  26, 25, 24, 23, 22, 21, 20, 19, 18, 17, // brows
  27, 28, 29, 30, 35, 34, 33, 32, 31, // nose
  45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, // eyes
  54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, // outer lips
  64, 63, 62, 61, 60, 67, 66, 65, // inner lips
];

/** Mirror an RGB image left to right. */
function mirror(img: RgbImage): RgbImage {
  const out = Buffer.alloc(img.data.length);
  const stride = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) img.data.copy(out, y * stride + (img.width - 1 - x) * 3, y * stride + x * 3, y * stride + x * 3 + 3);
  }
  return { data: out, width: img.width, height: img.height };
}

/** The face detector (MTCNN or face-api's SSD) and face-api's 68-point landmark net, one copy per thread. */
export class FaceDetector {
  private constructor(
    readonly name: DetectorName,
    private readonly faceapi: FaceApi,
    private readonly mtcnn?: MtcnnNets,
  ) {}

  static async create(config: DetectorConfig = { detector: 'mtcnn' }): Promise<FaceDetector> {
    if (config.detector === 'ssd') return new FaceDetector('ssd', await loadFaceApi(['ssdMobilenetv1', 'faceLandmark68Net']));
    const nets = await openMtcnnNets(config.mtcnnModelDir, config.threads);
    return new FaceDetector('mtcnn', await loadFaceApi(['faceLandmark68Net']), nets);
  }

  /** Every face of the photo, boxes (and MTCNN's 5 points) in its full-resolution pixels. */
  async detect(img: RgbImage, settings: MtcnnSettings = MTCNN_SETTINGS): Promise<Detection[]> {
    if (!this.mtcnn) return this.detectSsd(img);
    const small = await detectionImage(img, settings.detectSize);
    const faces = await mtcnnFaces(small, this.mtcnn, settings);
    return faces.map((f) => mtcnnDetection(f, img.width / small.width, img.height / small.height));
  }

  private async detectSsd(img: RgbImage): Promise<Detection[]> {
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
    // the net on the crop and on its mirror image, averaged: halves its jitter for one more 112 px pass
    const direct = await this.net68(crop);
    const mirrored = await this.net68(mirror(crop));
    return direct.map((p, i) => {
      const q = mirrored[MIRROR_68[i]!]!;
      const x = (p[0] + (crop.width - q[0])) / 2;
      const y = (p[1] + q[1]) / 2;
      return [x0 + x * sx, y0 + y * sy];
    });
  }

  /** The landmark net's 68 points on a whole (small) image, in its pixels. */
  private async net68(img: RgbImage): Promise<Point[]> {
    const tensor = imageTensor(this.faceapi, img);
    try {
      const result = await this.faceapi.nets.faceLandmark68Net.detectLandmarks(tensor);
      const lm = Array.isArray(result) ? result[0]! : result;
      return lm.positions.map((p) => [p.x, p.y]);
    } finally {
      tensor.dispose();
    }
  }
}
