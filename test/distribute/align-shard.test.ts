import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { align } from '../../src/align/index.js';
import { datasetLayout } from '../../src/dataset/layout.js';
import { parseShard, readStageStates, shardOf } from '../../src/distribute/index.js';
import { FACE_API_DEMO_DIR } from '../../src/util/faceapi.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRoot, type RawPhoto } from '../align/helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(() => Promise.all(cleanups.map((c) => c())));

/** Six small photos of the face-api demo (ids picked so that both of 2 shards get some). */
async function photos(): Promise<RawPhoto[]> {
  const out: RawPhoto[] = [];
  for (let i = 1; i <= 6; i++) {
    out.push({ id: `face_${i}`, bytes: await sharp(path.join(FACE_API_DEMO_DIR, `sample${i}.jpg`)).resize(480).jpeg({ quality: 90 }).toBuffer(), crawlStatus: 'ok' });
  }
  return out;
}

async function newRoot(p: RawPhoto[]): Promise<string> {
  const { dir, cleanup } = await tempDir('ecaf-shard-align-');
  cleanups.push(cleanup);
  await makeRoot(dir, p);
  return dir;
}

const folder = async (dir: string) => Promise.all((await fs.readdir(dir)).sort().map(async (n) => [n, await fs.readFile(path.join(dir, n))] as const));

test('align --shard: two shards at once write the same faces as one run, each into its own log; a rerun finds all done', async () => {
  const p = await photos();
  expect(new Set(p.map((x) => shardOf(x.id, 2))).size).toBe(2);
  const one = await newRoot(p);
  const settings = { workers: 1, ffhqSize: 64, mtcnnSize: 112, ffhqFast: true, progress: false };
  const single = await align({ ...settings, root: one });
  const root = await newRoot(p);
  const shards = await Promise.all([0, 1].map((k) => align({ ...settings, root, shard: parseShard(`${k}/2`) })));
  expect(shards.map((s) => s.records)).toEqual([0, 1].map((k) => p.filter((x) => shardOf(x.id, 2) === k).length));
  expect(shards[0]!.counts.ok + shards[1]!.counts.ok).toBe(single.counts.ok);
  for (const k of [0, 1]) expect(shards[k]!.landmarksFile).toBe(path.join(root, 'image_data', 'logs', `landmarks.${k}-of-2.jsonl`));
  const layout = datasetLayout(root);
  expect(await folder(layout.mtcnn)).toEqual(await folder(datasetLayout(one).mtcnn));
  expect(await folder(layout.ffhq)).toEqual(await folder(datasetLayout(one).ffhq));
  const merged = await readStageStates<{ id: string; status: string }>(layout, 'landmarks');
  expect(merged.size).toBe(p.length);
  const rerun = await align({ ...settings, root });
  expect(rerun.processed).toBe(0);
  expect(rerun.alreadyDone).toBe(single.counts.ok);
}, 180000);
