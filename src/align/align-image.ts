import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { pixelLimitProblem } from '../dataset/pixels.js';
import { writeFileAtomic } from '../util/atomic.js';
import { decodeRgb, type RgbImage } from '../util/faceapi.js';
import type { FaceDetector, MtcnnSettings } from './detect.js';
import { ffhqKeyPointsFrom5, ffhqKeyPointsFrom68 } from './ffhq.js';
import { alignFfhq } from './ffhq-image.js';
import { roundBox, roundPoint, type LandmarksLine } from './line.js';
import type { LandmarkOverride } from './override.js';
import { chooseFace, type Box } from './select.js';
import { invertSimilarity, similarityMatrix, umeyama, type Point } from './similarity.js';
import { mtcnnTemplate, points5From68 } from './template.js';
import { warpAffine } from './warp.js';

/** One photo to align, as the main thread hands it to a worker. */
export interface AlignImageTask {
  id: string;
  file: string;
  /** Face++ rectangle of the record, as a box. */
  rectangle?: Box;
  override?: LandmarkOverride;
  ffhqSize: number;
  /** ffhqSize * 4 (published) or ffhqSize (ffhqFast). */
  ffhqTransformSize: number;
  mtcnnSize: number;
  /** MTCNN's detection size, minimum face and thresholds (unused by the SSD detector). */
  detection: MtcnnSettings;
  ffhqFile: string;
  mtcnnFile: string;
}

/** Seconds spent in each step of one photo. */
export interface AlignTimings {
  decode: number;
  detect: number;
  landmarks: number;
  ffhq: number;
  mtcnn: number;
  write: number;
}

export interface AlignImageResult {
  line: LandmarksLine;
  timings: AlignTimings;
}

export const emptyTimings = (): AlignTimings => ({ decode: 0, detect: 0, landmarks: 0, ffhq: 0, mtcnn: 0, write: 0 });

/** The 5-point (MTCNN/ArcFace) crop: least-squares similarity onto the template, bilinear, black border. */
export function alignMtcnn(img: RgbImage, points5: readonly Point[], size: number): RgbImage {
  const toTemplate = umeyama(points5, mtcnnTemplate(size));
  return warpAffine(img, similarityMatrix(invertSimilarity(toTemplate)), size, size);
}

function rgbSharp(img: RgbImage): ReturnType<typeof sharp> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/**
 * Decode, find the face the record means, align it both ways and write both files
 * atomically; the returned line is the id's new state. Never throws for a bad photo.
 */
export async function alignImage(task: AlignImageTask, detector: FaceDetector): Promise<AlignImageResult> {
  const timings = emptyTimings();
  const time = () => new Date().toISOString();
  const source = task.override ? 'override' : 'detector';
  let t = performance.now();
  const lap = (key: keyof AlignTimings) => {
    const now = performance.now();
    timings[key] += (now - t) / 1000;
    t = now;
  };

  let img: RgbImage;
  try {
    const meta = await sharp(task.file, { limitInputPixels: false }).metadata(); // our own limit below names the size
    if (!meta.width || !meta.height) throw new Error('no image dimensions');
    const tooLarge = pixelLimitProblem(meta.width, meta.height); // crawl's limit too: rather than risk a worker's memory
    if (tooLarge) throw new Error(`image too large: ${tooLarge}`);
    img = await decodeRgb(task.file);
  } catch (err) {
    lap('decode');
    return { line: { id: task.id, status: 'decode_error', source, error: (err as Error).message, time: time() }, timings };
  }
  lap('decode');

  const line: LandmarksLine = { id: task.id, status: 'ok', source, time: '' };
  let landmarks68: Point[] | undefined;
  let points5: Point[];
  if (task.override) {
    landmarks68 = task.override.landmarks68;
    points5 = task.override.points5 ?? points5From68(task.override.landmarks68!);
  } else {
    const detections = await detector.detect(img, task.detection);
    lap('detect');
    line.detector = detector.name;
    line.faces = detections.length;
    const choice = chooseFace(detections, img.width, img.height, task.rectangle);
    if (choice.kind === 'none') return { line: { ...line, status: 'no_face', time: time() }, timings };
    const chosen = choice.kind === 'detection' ? detections[choice.index]! : undefined;
    const box = choice.kind === 'detection' ? chosen!.box : choice.box;
    if (chosen) line.score = Math.round(chosen.score * 1e4) / 1e4;
    else line.source = 'rectangle';
    line.box = roundBox(box);
    // face-api's 68 points on the chosen box: FFHQ needs them; MTCNN's own 5 points make the 112 crop
    landmarks68 = (await detector.landmarks(img, box)) ?? undefined;
    lap('landmarks');
    const own5 = chosen?.points5;
    if (!landmarks68 && !own5) return { line: { ...line, status: 'no_face', error: 'the face box holds no pixels of the photo', time: time() }, timings };
    points5 = own5 ?? points5From68(landmarks68!);
  }

  const keys = landmarks68 ? ffhqKeyPointsFrom68(landmarks68) : ffhqKeyPointsFrom5(points5);
  const ffhq = await alignFfhq(img, keys, task.ffhqSize, task.ffhqTransformSize);
  lap('ffhq');
  const mtcnn = alignMtcnn(img, points5, task.mtcnnSize);
  lap('mtcnn');
  const [png, jpg] = await Promise.all([rgbSharp(ffhq.image).png({ compressionLevel: 6 }).toBuffer(), rgbSharp(mtcnn).jpeg({ quality: 95 }).toBuffer()]);
  await writeFileAtomic(task.ffhqFile, png);
  await writeFileAtomic(task.mtcnnFile, jpg);
  lap('write');

  if (landmarks68) line.landmarks68 = landmarks68.map(roundPoint);
  line.points5 = points5.map(roundPoint);
  line.ffhq_size = task.ffhqSize;
  line.mtcnn_size = task.mtcnnSize;
  if (task.ffhqTransformSize === task.ffhqSize) line.ffhq_fast = true;
  line.time = time();
  return { line, timings };
}
