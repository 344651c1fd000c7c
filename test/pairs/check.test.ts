import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatPairCheck } from '../../src/cli/summaries/pairs.js';
import { checkPairFile, checkPairList } from '../../src/pairs/check.js';
import { parsePairText } from '../../src/pairs/read.js';
import { SHARED_DATA, tempDir } from '../helpers/tmp.js';
import { writeDataset } from './dataset.js';

describe('checkPairList', () => {
  it('finds people in two folds and labels that contradict the names (LFW View 2)', () => {
    // set 1 and set 2 both name Al; the second mismatched pair names one person
    const list = parsePairText('2\t1\nAl\t1\t2\nBo\t1\tCy\t1\nAl\t3\t4\nDi\t1\tDi\t2\n', 'pairs.txt');
    const r = checkPairList(list);
    expect(r.identitySource).toBe('file');
    expect(r.overlaps).toEqual({ count: 1, examples: [{ identity: 'Al', folds: [0, 1] }] });
    expect(r.labelConflicts.examples).toEqual([{ line: 5, a: 'Di/Di_0001.jpg', b: 'Di/Di_0002.jpg', same: false }]);
    expect(r.perFold).toEqual([
      { fold: 0, positives: 1, negatives: 1, identities: 3 },
      { fold: 1, positives: 1, negatives: 1, identities: 2 },
    ]);
    expect(r.problems).toEqual(['1 identities appear in more than one fold', '1 pairs whose label contradicts the identities']);
    const text = formatPairCheck(r);
    expect(text).toMatch(/identity overlap between folds: 1 \(identities from the image names\)\n  Al: folds 1, 2\n/);
    expect(text).toMatch(/\n  line 5: Di\/Di_0001\.jpg Di\/Di_0002\.jpg labelled different\n/);
  });

  it('reports duplicates in either order, self-pairs and imbalance', () => {
    const r = checkPairList(parsePairText('a b 1\nb a 1\nc c -1\nd e -1\nf g -1\nh i -1\n', 'l.txt', { folds: 2 }));
    expect(r.duplicates).toEqual({ count: 1, examples: [{ line: 2, firstLine: 1, a: 'b', b: 'a' }] });
    expect(r.selfPairs).toEqual({ count: 1, examples: [{ line: 3, image: 'c' }] });
    expect(r.balanced).toBe(false);
    expect(r.busiestImage).toEqual({ image: 'a', pairs: 2 });
    expect(r.warnings[0]).toMatch(/^unbalanced/);
    expect(r.problems).toHaveLength(2);
  });

  it('warns that a one-fold list has no protocol accuracy', () => {
    const r = checkPairList(parsePairText('a b 1\nc d -1\n', 'l.txt', { folds: 1 }));
    expect(r.warnings).toContainEqual(expect.stringMatching(/^one fold only: .*accuracy is not defined/));
    expect(formatPairCheck(r)).toMatch(/warning: one fold only/);
  });
});

describe('checkPairFile with --root', () => {
  it('takes identities from data.json and finds images missing from both aligned folders', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await writeDataset(dir, [
        { id: 'x_1', identity: 'X' },
        { id: 'x_2', identity: 'X' },
        { id: 'y_1', identity: 'Y' },
        { id: 'z_1', identity: 'Z' },
      ]);
      await mkdir(path.join(dir, 'image_data', 'img_mtcnn'), { recursive: true });
      await mkdir(path.join(dir, 'image_data', 'img_ffhq'), { recursive: true });
      await writeFile(path.join(dir, 'image_data', 'img_mtcnn', 'x_1.jpg'), '');
      await writeFile(path.join(dir, 'image_data', 'img_ffhq', 'x_2.png'), '');
      await writeFile(path.join(dir, 'image_data', 'img_mtcnn', 'y_1.jpg'), '');
      const file = path.join(dir, 'l.txt');
      await writeFile(file, 'x_1.jpg x_2.jpg 1\ny_1.jpg x_2.jpg -1\nz_1.jpg y_1.jpg 1\nx_1.jpg z_1.jpg -1\n');
      const r = await checkPairFile(file, { root: dir, folds: 2 });
      expect(r.identitySource).toBe('data.json');
      expect(r.missing).toEqual({ count: 1, checked: 4, examples: [{ line: 3, image: 'z_1.jpg' }] });
      expect(r.overlaps.examples).toEqual([
        { identity: 'X', folds: [0, 1] },
        { identity: 'Y', folds: [0, 1] },
      ]);
      expect(r.labelConflicts.examples.map((c) => c.line)).toEqual([3]);
    } finally {
      await cleanup();
    }
  });
});

const maybe = SHARED_DATA ? describe : describe.skip;
maybe('checkPairFile on real files (needs ECAF_SHARED_DATA)', () => {
  it('LFW pairs.txt is valid: 10 x (300 + 300), no person in two folds', async () => {
    const r = await checkPairFile(path.join(SHARED_DATA!, 'lfw', 'pairs.txt'));
    expect([r.pairs, r.folds, r.balanced, r.overlaps.count, r.duplicates.count, r.labelConflicts.count, r.problems]).toEqual([6000, 10, true, 0, 0, 0, []]);
    expect(r.perFold.every((f) => f.positives === 300 && f.negatives === 300)).toBe(true);
  });

  it('deepface pairs.csv parses; imbalance is a warning, not a problem', async () => {
    const r = await checkPairFile(path.join(SHARED_DATA!, 'deepface', 'pairs.csv'));
    expect([r.format, r.pairs, r.positives, r.problems.length, r.balanced]).toEqual(['csv', 300, 38, 0, false]);
  });
});
