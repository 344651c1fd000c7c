import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Prng } from '../../src/pairs/prng.js';

/** A data.json record as a test writes it. */
export interface TestRecord {
  id: string;
  identity?: string;
  age?: number;
  gender?: 'male' | 'female';
  group?: 'child' | 'adult';
}

/**
 * Write `<root>/image_data/data.json` and a landmarks.jsonl marking every id `ok`, except the
 * ids in `notOk` (their last line says `no_face`, after an earlier `ok`: the last state decides).
 */
export async function writeDataset(root: string, records: TestRecord[], notOk: string[] = []): Promise<void> {
  const dir = path.join(root, 'image_data');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'data.json'), JSON.stringify(records.map((r) => ({ ...r, url: `http://127.0.0.1/${r.id}.jpg` }))));
  const lines = records.map((r) => JSON.stringify({ id: r.id, status: 'ok', source: 'detector', score: 0.99, landmarks68: [[1.5, 2.5]] }));
  for (const id of notOk) lines.push(JSON.stringify({ id, status: 'no_face', source: 'detector' }));
  await writeFile(path.join(dir, 'landmarks.jsonl'), lines.join('\n') + '\n');
}

/** A random dataset drawn with our PRNG: some ages, genders and groups unknown, some genders wrong, identities of 1..maxImages photos. */
export function randomRecords(seed: number, identities: number, maxImages: number): TestRecord[] {
  const prng = new Prng(seed, 99);
  const out: TestRecord[] = [];
  for (let k = 0; k < identities; k++) {
    const g = prng.below(10);
    const gender = g < 4 ? 'male' : g < 8 ? 'female' : undefined;
    const n = 1 + prng.below(maxImages);
    for (let j = 0; j < n; j++) {
      const r: TestRecord = { id: `id${k}_${j}`, identity: `Person ${k}` };
      // one photo in ten carries the other gender, as Face++ mislabels some (children most)
      if (gender) r.gender = prng.below(10) === 0 ? (gender === 'male' ? 'female' : 'male') : gender;
      if (prng.below(10) > 0) r.age = prng.below(70);
      else if (prng.below(2) === 0) r.group = prng.below(2) === 0 ? 'child' : 'adult';
      out.push(r);
    }
  }
  return out;
}
