import path from 'node:path';
import { FACE_API_MODEL_DIR, loadFaceApi } from '../util/faceapi.js';
import { AgeGenderThread, WASM_BATCH } from './builtin-age-gender.js';
import type { Embedder, Preprocessing } from './embedder.js';
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

const WEIGHTS_FILE = path.join(FACE_API_MODEL_DIR, 'face_recognition_model.bin');
const AGE_GENDER_FILE = path.join(FACE_API_MODEL_DIR, 'age_gender_model.bin');

/**
 * The model that needs no file: face-api's 128-d descriptor, on tfjs' WASM backend (one CPU
 * thread); with estimates, face-api's ageGenderNet (TinyXception) on the same input gives
 * age and gender, on a worker thread.
 */
export async function openBuiltinEmbedder(): Promise<Embedder> {
  const [faceapi, sha, ageSha] = await Promise.all([loadFaceApi(['faceRecognitionNet']), fileSha256(WEIGHTS_FILE), fileSha256(AGE_GENDER_FILE)]);
  const { tf } = faceapi;
  const S = BUILTIN_PREPROCESSING.size;
  let thread: AgeGenderThread | undefined;
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
    embed: (input: Float32Array, n: number) => embedAll(input, n),
    estimates: { age: true, gender: true, ageGroups: false, weightsKey: `builtin:${ageSha}` },
    // ageGenderNet is a second network: on its own thread (another core), on the original views
    // only (face-api's own use has no flip)
    embedAndEstimate: async (input: Float32Array, n: number, originals = n) => {
      thread ??= new AgeGenderThread();
      const [embeddings, ag] = await Promise.all([embedAll(input, n), thread.run(input, originals, S)]);
      const age = new Float32Array(n).fill(Number.NaN);
      const male = new Float32Array(n).fill(Number.NaN);
      age.set(ag.age);
      male.set(ag.male);
      return { embeddings, estimates: { age, male } };
    },
    close: async () => thread?.close(),
  };

  async function embedAll(input: Float32Array, n: number): Promise<Float32Array> {
    const out = new Float32Array(n * 128);
    for (let i = 0; i < n; i += WASM_BATCH) {
      const m = Math.min(WASM_BATCH, n - i);
      out.set(await forward(input.subarray(i * S * S * 3, (i + m) * S * S * 3), m), i * 128);
    }
    return out;
  }

  async function forward(input: Float32Array, n: number): Promise<Float32Array> {
    const batch = tf.tensor4d(input, [n, S, S, 3]);
    // face-api takes a batch as a list of 3-D tensors (a 4-D tensor must have batch size 1)
    const images = tf.unstack(batch) as import('@vladmandic/face-api').tf.Tensor3D[];
    try {
      const out = await faceapi.nets.faceRecognitionNet.forward(images);
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    } finally {
      batch.dispose();
      images.forEach((t) => t.dispose());
    }
  }
}
