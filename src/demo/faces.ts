import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Gender } from '../dataset/record.js';
import { writeFileAtomic } from '../util/atomic.js';
import { decodeRgb, FACE_API_DEMO_DIR, FACE_API_MODEL_DIR, imageTensor, loadFaceApi } from '../util/faceapi.js';

/** The photos that ship inside the face-api package: the demo's only source of faces. */
export const DEMO_PHOTOS = [1, 2, 3, 4, 5, 6].map((n) => path.join(FACE_API_DEMO_DIR, `sample${n}.jpg`));

/** One face the demo found: its box in the photo and face-api's age and gender estimates. */
export interface DemoFace {
  /** 1-based number of the photo (sample<photo>.jpg). */
  photo: number;
  /** 1-based, left to right in the photo. */
  face: number;
  /** Face++-style rectangle in the photo's pixels, rounded. */
  box: { top: number; left: number; width: number; height: number };
  score: number;
  /** face-api ageGenderNet's estimate, rounded to whole years as Face++ gives them. */
  age: number;
  gender: Gender;
  genderProbability: number;
}

/** Detector threshold: every one of the 22 faces of the samples scores above 0.6. */
const MIN_CONFIDENCE = 0.5;

/**
 * Find every face of the sample photos with face-api (SSD MobileNet v1) and estimate its age
 * and gender (ageGenderNet): the demo's stand-in for the Face++ attributes of ECAF's data.json.
 */
export async function findDemoFaces(photos: readonly string[] = DEMO_PHOTOS): Promise<DemoFace[]> {
  const faceapi = await loadFaceApi(['ssdMobilenetv1']);
  if (!faceapi.nets.ageGenderNet.isLoaded) await faceapi.nets.ageGenderNet.loadFromDisk(FACE_API_MODEL_DIR);
  const faces: DemoFace[] = [];
  for (const [i, photo] of photos.entries()) {
    const img = await decodeRgb(photo);
    const tensor = imageTensor(faceapi, img);
    try {
      const found = await faceapi.detectAllFaces(tensor, new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_CONFIDENCE })).withAgeAndGender();
      found.sort((a, b) => a.detection.box.x - b.detection.box.x);
      found.forEach((f, k) => {
        const b = f.detection.box;
        faces.push({
          photo: i + 1,
          face: k + 1,
          box: { top: Math.round(b.y), left: Math.round(b.x), width: Math.round(b.width), height: Math.round(b.height) },
          score: f.detection.score,
          age: Math.round(f.age),
          gender: f.gender === 'male' ? 'male' : 'female',
          genderProbability: f.genderProbability,
        });
      });
    } finally {
      tensor.dispose();
    }
  }
  return faces;
}

/** What the faces were found in: the photos' bytes and the models' weights (a face-api update changes it). */
async function inputsKey(photos: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  const models = ['ssd_mobilenetv1_model.bin', 'age_gender_model.bin'].map((m) => path.join(FACE_API_MODEL_DIR, m));
  for (const file of [...photos, ...models]) hash.update(await fs.readFile(file));
  return hash.digest('hex');
}

/**
 * findDemoFaces, kept in `cacheFile` so a rerun of the demo skips face-api (the same photos and
 * models give the same faces); `reused` says which happened.
 */
export async function cachedDemoFaces(cacheFile: string, photos: readonly string[] = DEMO_PHOTOS): Promise<{ faces: DemoFace[]; reused: boolean }> {
  const key = await inputsKey(photos);
  try {
    const cached = JSON.parse(await fs.readFile(cacheFile, 'utf8')) as { key?: string; faces?: DemoFace[] };
    if (cached.key === key && Array.isArray(cached.faces) && cached.faces.length > 0) return { faces: cached.faces, reused: true };
  } catch {
    // no cache yet, or a damaged one: find the faces again
  }
  const faces = await findDemoFaces(photos);
  await writeFileAtomic(cacheFile, JSON.stringify({ key, faces }, null, 2) + '\n');
  return { faces, reused: false };
}
