import { parentPort } from 'node:worker_threads';
import { loadFaceApi } from '../util/faceapi.js';
import { ageGender } from './builtin-age-gender.js';

/** worker_threads entry of AgeGenderThread: face-api's ageGenderNet, one request at a time, answered by id. */
const ready = loadFaceApi(['ageGenderNet']);
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (m: { id: number; input: Float32Array; n: number; size: number }) => {
  queue = queue.then(async () => {
    try {
      const r = await ageGender(await ready, m.input, m.n, m.size);
      parentPort!.postMessage({ id: m.id, age: r.age, male: r.male }, [r.age.buffer as ArrayBuffer, r.male.buffer as ArrayBuffer]);
    } catch (err) {
      parentPort!.postMessage({ id: m.id, error: (err as Error).stack ?? String(err) });
    }
  });
});
