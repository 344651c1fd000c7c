import { promises as fs } from 'node:fs';
import path from 'node:path';
import { embedOnly, runBenchmark } from '../../src/benchmark/index.js';
import { parseShard } from '../../src/distribute/index.js';
import { SHARED_DATA, tempDir } from '../helpers/tmp.js';

const maybe = SHARED_DATA ? describe : describe.skip;
if (!SHARED_DATA) console.log('embed-shard test skipped: ECAF_SHARED_DATA is not set (the bbt crops)');

/** A root whose img_mtcnn/ holds the 40 bbt crops and whose one pair file pairs consecutive crops. */
async function bbtRoot(dir: string): Promise<void> {
  const bbt = path.join(SHARED_DATA!, 'bbt');
  const labels = (await fs.readFile(path.join(bbt, 'labels.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => ({ path: l.split(',')[0]!, identity: l.split(',')[1]! }));
  const mtcnn = path.join(dir, 'image_data', 'img_mtcnn');
  for (const l of labels) {
    await fs.mkdir(path.join(mtcnn, path.dirname(l.path)), { recursive: true });
    await fs.copyFile(path.join(bbt, l.path), path.join(mtcnn, l.path));
  }
  const pos: string[] = [];
  const neg: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) (labels[i]!.identity === labels[j]!.identity ? pos : neg).push(`${labels[i]!.path} ${labels[j]!.path} ${labels[i]!.identity === labels[j]!.identity ? 1 : -1}`);
  }
  const lines: string[] = [];
  for (let f = 0; f < 10; f++) lines.push(...pos.filter((_, k) => k % 10 === f), ...neg.filter((_, k) => k % 10 === f));
  await fs.mkdir(path.join(dir, 'image_pairs'));
  await fs.writeFile(path.join(dir, 'image_pairs', 'bbt.txt'), lines.join('\n') + '\n');
}

maybe('benchmark in two steps (needs ECAF_SHARED_DATA)', () => {
  it('--embed-only per shard fills the cache with one set of chunk files per shard; a plain run embeds nothing, says so, and scores as one process', async () => {
    const { dir, cleanup } = await tempDir('ecaf-embed-shard-');
    try {
      const one = path.join(dir, 'one');
      const root = path.join(dir, 'sharded');
      await bbtRoot(one);
      await bbtRoot(root);
      const quiet = { model: 'builtin', progress: false, log: () => undefined };
      const {
        results: [single],
      } = await runBenchmark({ ...quiet, root: one });

      const parts = [];
      for (const k of [0, 1, 2]) parts.push(await embedOnly({ ...quiet, root, shard: parseShard(`${k}/3`) }));
      expect(parts.reduce((n, p) => n + p.images, 0)).toBe(40);
      expect(parts.reduce((n, p) => n + p.outcomes.embedded, 0)).toBe(40);
      const chunks = (await fs.readdir(parts[0]!.cacheDir)).filter((n) => n.endsWith('.bin'));
      for (const k of [0, 1, 2]) expect(chunks.filter((n) => n.startsWith(`shard-${k}-of-3.`)).length).toBe(parts[k]!.images > 0 ? 1 : 0);

      const notes: string[] = [];
      const {
        results: [scored],
      } = await runBenchmark({ ...quiet, root, log: (l) => notes.push(l) });
      expect(scored!.report.speed).toMatchObject({ embedded: 0, fromCache: 40 });
      expect(notes).toContain('every embedding (40) found in the cache: nothing to embed');
      expect(scored!.report.accuracy.mean).toBe(single!.report.accuracy.mean);
      expect(scored!.report.roc.auc).toBe(single!.report.roc.auc);
    } finally {
      await cleanup();
    }
  }, 240000);
});
