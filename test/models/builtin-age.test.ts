import { promises as fs } from 'node:fs';
import path from 'node:path';
import { openBuiltinEmbedder } from '../../src/models/builtin.js';
import { loadFace, tensorLength, writeTensor } from '../../src/models/preprocess.js';
import { FACE_API_DEMO_DIR, loadFaceApi } from '../../src/util/faceapi.js';
import { SHARED_DATA } from '../helpers/tmp.js';

const maybeShared = SHARED_DATA ? describe : describe.skip;

async function inputOf(files: string[]): Promise<Float32Array> {
  const e = await openBuiltinEmbedder();
  await e.close();
  const per = tensorLength(e.preprocessing);
  const x = new Float32Array(files.length * per);
  for (const [k, f] of files.entries()) writeTensor(await loadFace(f, e.preprocessing.size), e.preprocessing, x, k * per, false);
  return x;
}

describe("builtin model's age and gender (face-api ageGenderNet)", () => {
  it("equals face-api's own predictAgeAndGender on the same input; embeddings as embed gives them", async () => {
    const files = ['sample1.jpg', 'sample2.jpg', 'sample6.jpg'].map((f) => path.join(FACE_API_DEMO_DIR, f));
    const x = await inputOf(files);
    const e = await openBuiltinEmbedder();
    expect(e.estimates).toMatchObject({ age: true, gender: true, ageGroups: false });
    // ageGenderNet runs on a worker thread: closing the embedder ends it
    const { embeddings, estimates } = await e.embedAndEstimate!(x, files.length);
    expect(Array.from(embeddings)).toEqual(Array.from(await e.embed(x, files.length)));
    // asked for the first image only (the rest standing for mirror images): the others are left NaN
    const first = await e.embedAndEstimate!(x, files.length, 1);
    expect(first.estimates.age[0]).toBe(estimates.age[0]);
    expect(Number.isNaN(first.estimates.age[1]!) && Number.isNaN(first.estimates.male[2]!)).toBe(true);
    await e.close();
    const faceapi = await loadFaceApi(['ageGenderNet']);
    const S = e.preprocessing.size;
    for (let k = 0; k < files.length; k++) {
      const t = faceapi.tf.tensor3d(x.subarray(k * S * S * 3, (k + 1) * S * S * 3), [S, S, 3]);
      const ref = (await faceapi.nets.ageGenderNet.predictAgeAndGender(t)) as { age: number; gender: string; genderProbability: number };
      t.dispose();
      expect(estimates.age[k]).toBeCloseTo(ref.age, 3);
      const male = ref.gender === 'male' ? ref.genderProbability : 1 - ref.genderProbability;
      expect(estimates.male[k]).toBeCloseTo(male, 5);
    }
  }, 60000);
});

maybeShared('builtin age and gender on real face crops: bbt (needs ECAF_SHARED_DATA)', () => {
  it('tells the cast apart by gender (3 women, 5 men) and gives adult ages', async () => {
    const bbt = path.join(SHARED_DATA!, 'bbt');
    const labels = (await fs.readFile(path.join(bbt, 'labels.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    const women = new Set(['amy', 'bernadette', 'penny']);
    const x = await inputOf(labels.map((l) => path.join(bbt, l[0]!)));
    const e = await openBuiltinEmbedder();
    const { estimates } = await e.embedAndEstimate!(x, labels.length).finally(() => e.close());
    const right = labels.filter((l, k) => estimates.male[k]! > 0.5 === !women.has(l[1]!)).length;
    expect(right / labels.length).toBeGreaterThanOrEqual(0.85);
    const ages = Array.from(estimates.age);
    expect(Math.min(...ages)).toBeGreaterThan(12);
    expect(Math.max(...ages)).toBeLessThan(70);
    process.stderr.write(`bbt builtin gender ${right}/${labels.length}, ages ${Math.min(...ages).toFixed(1)}..${Math.max(...ages).toFixed(1)}\n`);
  }, 120000);
});
