import { Worker } from 'node:worker_threads';
import type { FaceApi } from '../util/faceapi.js';
import { distFile } from '../util/paths.js';

/** tfjs' WASM backend slows down per image on larger batches (cache pressure): run a few at a time. */
export const WASM_BATCH = 4;

export interface AgeGender {
  /** Years, one per image. */
  age: Float32Array;
  /** Probability of male, one per image. */
  male: Float32Array;
}

/**
 * face-api's ageGenderNet on n images of side `size`, raw 0..255 RGB channels last (the
 * builtin model's input): it resizes them to its own 112x112; gender is a softmax over (male, female).
 */
export async function ageGender(faceapi: FaceApi, input: Float32Array, n: number, size: number): Promise<AgeGender> {
  const { tf } = faceapi;
  const per = size * size * 3;
  const age = new Float32Array(n);
  const male = new Float32Array(n);
  for (let i = 0; i < n; i += WASM_BATCH) {
    const m = Math.min(WASM_BATCH, n - i);
    const batch = tf.tensor4d(input.subarray(i * per, (i + m) * per), [m, size, size, 3]);
    // face-api takes a batch as a list of 3-D tensors (a 4-D tensor must have batch size 1)
    const images = tf.unstack(batch) as import('@vladmandic/face-api').tf.Tensor3D[];
    try {
      const out = await faceapi.nets.ageGenderNet.forward(images);
      age.set((await out.age.data()) as Float32Array, i);
      const probs = (await out.gender.data()) as Float32Array;
      for (let k = 0; k < m; k++) male[i + k] = probs[2 * k]!;
      out.age.dispose();
      out.gender.dispose();
    } finally {
      batch.dispose();
      images.forEach((t) => t.dispose());
    }
  }
  return { age, male };
}

interface Reply {
  id: number;
  age?: Float32Array;
  male?: Float32Array;
  error?: string;
}

/**
 * ageGenderNet on a worker thread (builtin-age-gender-worker.ts): the WASM backend is single-threaded,
 * so the estimates run on another core while the caller's thread computes the descriptors.
 */
export class AgeGenderThread {
  private readonly worker = new Worker(distFile('models/builtin-age-gender-worker.js'));
  private readonly pending = new Map<number, { resolve: (r: AgeGender) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor() {
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.error !== undefined) p?.reject(new Error(`face-api ageGenderNet: ${r.error}`));
      else p?.resolve({ age: r.age!, male: r.male! });
    });
    const fail = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the ageGenderNet thread stopped (exit code ${code})`)));
  }

  /** Estimates of n images (the input is copied: the caller keeps its buffer). */
  run(input: Float32Array, n: number, size: number): Promise<AgeGender> {
    const id = this.next++;
    const copy = input.slice(0, n * size * size * 3);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, input: copy, n, size }, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
