import path from 'node:path';
import { FACE_API_MODEL_DIR, loadFaceApi } from '../util/faceapi.js';
import type { Embedder, FaceEstimates, Preprocessing } from './embedder.js';
import { fileSha256 } from '../util/hash.js';

/**
 * face-api's faceRecognitionNet (a port of dlib's ResNet-29 face descriptor) takes 150x150 RGB
 * with pixel values 0..255 and subtracts its own mean; so the input here is the raw pixels
 * (mean 0, std 1/255), channels last, as face-api's tfjs tensors are.
 */
export const BUILTIN_PREPROCESSING: Preprocessing = {
  size: 150,
  mean: [0, 0, 0],
  std: [1 / 255, 1 / 255, 1 / 255],
  bgr: false,
  layout: 'nhwc',
};

/** tfjs' WASM backend slows down per image on larger batches (cache pressure): run a few at a time. */
const WASM_BATCH = 4;

const WEIGHTS_FILE = path.join(FACE_API_MODEL_DIR, 'face_recognition_model.bin');
const AGE_GENDER_FILE = path.join(FACE_API_MODEL_DIR, 'age_gender_model.bin');

/**
 * The model that needs no file: face-api's 128-d descriptor, on tfjs' WASM backend (one CPU
 * thread); with estimates, face-api's ageGenderNet (TinyXception) on the same input gives
 * age and gender.
 */
export async function openBuiltinEmbedder(): Promise<Embedder> {
  const [faceapi, sha, ageSha] = await Promise.all([loadFaceApi(['faceRecognitionNet', 'ageGenderNet']), fileSha256(WEIGHTS_FILE), fileSha256(AGE_GENDER_FILE)]);
  const { tf } = faceapi;
  const S = BUILTIN_PREPROCESSING.size;
  return {
    info: {
      kind: 'builtin',
      model: 'builtin',
      device: 'cpu (tfjs wasm)',
      flipRule: 'insightface',
      details: { architecture: 'face-api faceRecognitionNet (dlib ResNet-29)' },
      weightsKey: `builtin:${sha}`,
      precision: 'fp32',
    },
    preprocessing: BUILTIN_PREPROCESSING,
    dim: 128,
    embed: async (input: Float32Array, n: number) => (await embedAll(input, n, 0)).embeddings,
    estimates: { age: true, gender: true, ageGroups: false, weightsKey: `builtin:${ageSha}` },
    // ageGenderNet is a second network: it runs on the original views only (face-api's own use has no flip)
    embedAndEstimate: (input: Float32Array, n: number, originals = n) => embedAll(input, n, originals),
    close: async () => undefined,
  };

  /** Embeddings of n images, estimates of the first `estimated`. */
  async function embedAll(input: Float32Array, n: number, estimated: number): Promise<{ embeddings: Float32Array; estimates: FaceEstimates }> {
    const embeddings = new Float32Array(n * 128);
    const estimates: FaceEstimates = { age: new Float32Array(n).fill(Number.NaN), male: new Float32Array(n).fill(Number.NaN) };
    for (let i = 0; i < n; i += WASM_BATCH) {
      const m = Math.min(WASM_BATCH, n - i);
      const r = await forward(input.subarray(i * S * S * 3, (i + m) * S * S * 3), m, Math.max(0, Math.min(m, estimated - i)));
      embeddings.set(r.embeddings, i * 128);
      if (r.age) estimates.age.set(r.age, i);
      if (r.male) estimates.male.set(r.male, i);
    }
    return { embeddings, estimates };
  }

  /** Embeddings of n images, estimates of the first `estimated` (0: none). */
  async function forward(input: Float32Array, n: number, estimated: number): Promise<{ embeddings: Float32Array; age?: Float32Array; male?: Float32Array }> {
    const batch = tf.tensor4d(input, [n, S, S, 3]);
    // face-api takes a batch as a list of 3-D tensors (a 4-D tensor must have batch size 1)
    const images = tf.unstack(batch) as import('@vladmandic/face-api').tf.Tensor3D[];
    try {
      const out = await faceapi.nets.faceRecognitionNet.forward(images);
      const embeddings = (await out.data()) as Float32Array;
      out.dispose();
      if (estimated === 0) return { embeddings };
      // ageGenderNet resizes the same raw 0..255 pixels to its own 112x112 input; gender is a softmax over (male, female)
      const ag = await faceapi.nets.ageGenderNet.forward(images.slice(0, estimated));
      const age = Float32Array.from((await ag.age.data()) as Float32Array);
      const probs = (await ag.gender.data()) as Float32Array;
      ag.age.dispose();
      ag.gender.dispose();
      return { embeddings, age, male: Float32Array.from({ length: estimated }, (_, k) => probs[2 * k]!) };
    } finally {
      batch.dispose();
      images.forEach((t) => t.dispose());
    }
  }
}
