import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runBenchmark } from '../../src/benchmark/index.js';
import { SHARED_DATA, tempDir } from '../helpers/tmp.js';

const maybe = SHARED_DATA ? describe : describe.skip;

/** Every pair of the 40 bbt crops, laid out as 10 folds each holding 8 positives then 70 negatives. */
function bbtPairs(labels: { path: string; identity: string }[]): string {
  const pos: string[] = [];
  const neg: string[] = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const a = labels[i]!;
      const b = labels[j]!;
      (a.identity === b.identity ? pos : neg).push(`${a.path} ${b.path} ${a.identity === b.identity ? 1 : -1}`);
    }
  }
  const lines: string[] = [];
  for (let f = 0; f < 10; f++) lines.push(...pos.filter((_, k) => k % 10 === f), ...neg.filter((_, k) => k % 10 === f));
  return lines.join('\n') + '\n';
}

maybe('builtin model on real faces: bbt crops (needs ECAF_SHARED_DATA)', () => {
  it('same-person pairs score higher than different-person pairs, accuracy >= 0.9; a rerun comes from the cache', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const bbt = path.join(SHARED_DATA!, 'bbt');
      const labels = (await fs.readFile(path.join(bbt, 'labels.csv'), 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => ({ path: l.split(',')[0]!, identity: l.split(',')[1]! }));
      expect(labels).toHaveLength(40);
      // the crops stand in for aligned faces: img_mtcnn/<name>/<file>
      const mtcnn = path.join(dir, 'image_data', 'img_mtcnn');
      for (const l of labels) {
        await fs.mkdir(path.join(mtcnn, path.dirname(l.path)), { recursive: true });
        await fs.symlink(path.join(bbt, l.path), path.join(mtcnn, l.path));
      }
      await fs.mkdir(path.join(dir, 'image_pairs'));
      await fs.writeFile(path.join(dir, 'image_pairs', 'bbt.txt'), bbtPairs(labels));

      const {
        results: [first],
      } = await runBenchmark({ root: dir, model: 'builtin', progress: false, log: () => undefined });
      const r = first!.report;
      expect(first!.dir).toBe(path.join(dir, 'reports', 'builtin', 'bbt'));
      expect(r.pairs).toMatchObject({ total: 780, scored: 780, positives: 80, negatives: 700, skippedMissingImages: 0, folds: 10 });
      expect(r.flip).toEqual({ enabled: true, rule: 'insightface' });
      const csv = (await fs.readFile(path.join(first!.dir, 'scores.csv'), 'utf8')).trim().split('\n');
      expect(csv[0]).toBe('index,fold,label,score,image_a,image_b');
      const rows = csv.slice(1).map((l) => l.split(','));
      const mean = (label: string) => {
        const s = rows.filter((x) => x[2] === label).map((x) => Number(x[3]));
        return s.reduce((a, b) => a + b, 0) / s.length;
      };
      expect(mean('1')).toBeGreaterThan(mean('-1'));
      expect(r.accuracy.mean).toBeGreaterThanOrEqual(0.9);
      expect(r.speed.embedded).toBe(40);

      const {
        results: [again],
      } = await runBenchmark({ root: dir, model: 'builtin', progress: false, log: () => undefined });
      expect(again!.report.speed).toMatchObject({ embedded: 0, fromCache: 40, imagesPerSecond: null });
      expect(again!.report.accuracy).toEqual(r.accuracy);
      process.stderr.write(`bbt builtin: accuracy ${r.accuracy.mean.toFixed(4)} ± ${r.accuracy.std.toFixed(4)}, AUC ${r.roc.auc.toFixed(4)}, same ${mean('1').toFixed(3)} vs different ${mean('-1').toFixed(3)}, ${r.speed.imagesPerSecond?.toFixed(1)} img/s\n`);
    } finally {
      await cleanup();
    }
  });
});
