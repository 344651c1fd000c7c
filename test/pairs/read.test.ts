import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ageClass } from '../../src/pairs/age-class.js';
import { contiguousFolds, detectPairFormat, parsePairText, PairFileError, readPairFile } from '../../src/pairs/read.js';
import { UsageError } from '../../src/util/errors.js';
import { SHARED_DATA, tempDir } from '../helpers/tmp.js';

const F = 'list.txt';

describe('parsePairText: formats', () => {
  it('reads ecaf lists into contiguous folds (KFold sizes: first n % k folds one larger)', () => {
    const text = ['a.jpg b.jpg 1', 'a.jpg c.jpg -1', 'c.jpg d.jpg 1', 'b.jpg d.jpg 0', 'e.jpg f.jpg 1'].join('\n') + '\n';
    const l = parsePairText(text, F, { folds: 2 });
    expect(l.format).toBe('ecaf');
    expect(l.folds).toBe(2);
    expect(l.pairs.map((p) => [p.a, p.b, p.same, p.fold, p.line])).toEqual([
      ['a.jpg', 'b.jpg', true, 0, 1],
      ['a.jpg', 'c.jpg', false, 0, 2],
      ['c.jpg', 'd.jpg', true, 0, 3],
      ['b.jpg', 'd.jpg', false, 1, 4],
      ['e.jpg', 'f.jpg', true, 1, 5],
    ]);
    expect(contiguousFolds(7, 3)).toEqual([0, 0, 0, 1, 1, 2, 2]);
  });

  it('takes the fold size of an ecaf list from its sidecar', () => {
    const text = 'a b 1\nc d -1\ne f 1\ng h -1\n';
    expect(parsePairText(text, F, { foldSize: 2, folds: 4 }).pairs.map((p) => p.fold)).toEqual([0, 0, 1, 1]);
    expect(() => parsePairText(text, F, { foldSize: 3 })).toThrow(/fold size of 3 pairs, which does not divide the file's 4 pairs/);
  });

  it('reads LFW View 2 with sets, View 1 as one fold, and knows identities', () => {
    const v2 = '2\t1\nAl\t1\t2\nAl\t1\tBo\t3\nCy\t2\t5\nCy\t1\tDi\t1\n';
    const l = parsePairText(v2, 'pairs.txt');
    expect(l.format).toBe('lfw-view2');
    expect(l.folds).toBe(2);
    expect(l.pairs.map((p) => [p.a, p.b, p.same, p.fold])).toEqual([
      ['Al/Al_0001.jpg', 'Al/Al_0002.jpg', true, 0],
      ['Al/Al_0001.jpg', 'Bo/Bo_0003.jpg', false, 0],
      ['Cy/Cy_0002.jpg', 'Cy/Cy_0005.jpg', true, 1],
      ['Cy/Cy_0001.jpg', 'Di/Di_0001.jpg', false, 1],
    ]);
    expect(l.identityOf?.get('Bo/Bo_0003.jpg')).toBe('Bo');
    const v1 = parsePairText('1\r\nAl 1 2\r\nAl 1 Bo 3\r\n', 'dev.txt');
    expect([v1.format, v1.folds, v1.pairs.length]).toEqual(['lfw-view1', 1, 2]);
  });

  it('reads CALFW two-line lists: negatives in blocks, one per fold', () => {
    const lines: string[] = [];
    for (const f of [1, 2]) lines.push(`P${f}_0001.jpg ${f}`, `P${f}_0002.jpg ${f}`);
    for (const n of [1, 2, 3, 4]) lines.push(`N${n}_0001.jpg 0`, `M${n}_0001.jpg 0`);
    const l = parsePairText(lines.join('\n'), 'calfw.txt');
    expect(l.format).toBe('calfw');
    expect(l.folds).toBe(2);
    expect(l.pairs.map((p) => [p.a, p.same, p.fold, p.line])).toEqual([
      ['P1_0001.jpg', true, 0, 1],
      ['P2_0001.jpg', true, 1, 3],
      ['N1_0001.jpg', false, 0, 5],
      ['N2_0001.jpg', false, 0, 7],
      ['N3_0001.jpg', false, 1, 9],
      ['N4_0001.jpg', false, 1, 11],
    ]);
    expect(l.identityOf?.get('M3_0001.jpg')).toBe('M3');
  });

  it('reads CSV with a header in any column order and every label spelling', () => {
    const csv = 'Decision,file_x,note,file_y\nYes,a.jpg,x,b.jpg\nno,"c,1.jpg",y,d.jpg\nTRUE,e.jpg,,f.jpg\n-1,g.jpg,z,h.jpg\n';
    const l = parsePairText(csv, 'p.csv', { folds: 2 });
    expect(l.format).toBe('csv');
    expect(l.pairs.map((p) => [p.a, p.b, p.same, p.fold])).toEqual([
      ['a.jpg', 'b.jpg', true, 0],
      ['c,1.jpg', 'd.jpg', false, 0],
      ['e.jpg', 'f.jpg', true, 1],
      ['g.jpg', 'h.jpg', false, 1],
    ]);
  });
});

describe('parsePairText: malformed files name the line', () => {
  const cases: [string, string, RegExp][] = [
    ['ecaf label', 'a b 1\nc d 2\n', /^list\.txt:2: label must be 1 \(same person\) or -1/],
    ['ecaf field count', 'a b 1\n\nc d\n', /^list\.txt:3: expected "imageA imageB label" \(3 fields\), found 2/],
    ['LFW count', '1\t2\nA\t1\t2\nA\t1\t3\nA\t1\tB\t1\n', /^list\.txt: the header "1\\t2" announces 4 pair lines.*the file has 3/],
    ['LFW matched expected', '1\t1\nA\t1\tB\t2\nA\t1\tB\t1\n', /^list\.txt:2: set 1 expects a matched pair/],
    ['LFW number', '1\t1\nA\t1\tx\nA\t1\tB\t1\n', /^list\.txt:2: image number must be a positive integer, got "x"/],
    ['CALFW token mismatch', 'a_1.jpg 1\nb_1.jpg 2\n', /^list\.txt:2: the two lines of a pair must carry the same token/],
    ['CALFW odd', 'a_1.jpg 1\nb_1.jpg 1\nc.jpg 0\n', /^list\.txt:3: CALFW lists have two lines per pair/],
    ['CALFW order', 'a_1.jpg 0\nb_1.jpg 0\nc.jpg 1\nd.jpg 1\n', /^list\.txt:3: CALFW lists give all positive pairs/],
    ['CSV label', 'a,b,label\nx,y,maybe\n', /^list\.txt:2: column "label": label must be/],
    ['CSV fields', 'a,b,label\nx,y\n', /^list\.txt:2: expected 3 fields/],
    ['CSV no label', 'a,b,c\nx,y,1\n', /^list\.txt:1: the CSV header "a,b,c" names no label column/],
    ['unknown', 'a b c d e\n', /^list\.txt:1: cannot tell the format/],
    ['too few for folds', 'a b 1\nc d -1\n', /2 pairs cannot form 10 folds/],
    ['empty', '\n\n', /the file has no pairs/],
    ['image naming no id', 'a.jpg b.jpg 1\nc.jpg .jpg -1\n', /^list\.txt:2: image "\.jpg" names no id/],
    ['image leaving the aligned folder', 'a.jpg b.jpg 1\n\nc.jpg sub/../../x.jpg -1\n', /^list\.txt:3: image "sub\/\.\.\/\.\.\/x\.jpg" leaves the aligned folder/],
    ['absolute image path', '/data/a_1.jpg 1\n/data/b_1.jpg 1\n', /^list\.txt:1: image "\/data\/a_1\.jpg" is an absolute path/],
    ['CSV image naming no id', 'a,b,label\nx.png,y.png,1\n.png,z.png,0\n', /^list\.txt:3: image "\.png" names no id/],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    let err: unknown;
    try {
      parsePairText(text, 'list.txt');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PairFileError);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it('detects formats from the first line', () => {
    expect(detectPairFormat('10\t300\n', F)).toBe('lfw-view2');
    expect(detectPairFormat('1100\n', F)).toBe('lfw-view1');
    expect(detectPairFormat('x_0001.jpg 3\n', F)).toBe('calfw');
    expect(detectPairFormat('00001.jpg 00002.jpg -1\n', F)).toBe('ecaf');
    expect(detectPairFormat('a;b;label\n', 'x.csv')).toBe('csv');
  });
});

describe('readPairFile', () => {
  it('uses the sidecar beside an ecaf list, and reports a missing file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'cross-age.txt');
      await writeFile(file, 'a b 1\nc d -1\ne f 1\ng h -1\n');
      await expect(readPairFile(file)).rejects.toThrow(/4 pairs cannot form 10 folds/);
      expect((await readPairFile(file, { folds: 4 })).folds).toBe(4);
      await writeFile(path.join(dir, 'cross-age.json'), JSON.stringify({ foldSize: 2 }));
      const l = await readPairFile(file);
      expect([l.folds, l.pairs.map((p) => p.fold)]).toEqual([2, [0, 0, 1, 1]]);
      await writeFile(path.join(dir, 'cross-age.json'), '{"note": "not a sidecar"}');
      expect((await readPairFile(file, { folds: 4 })).folds).toBe(4);
      await writeFile(path.join(dir, 'cross-age.json'), '{');
      await expect(readPairFile(file)).rejects.toThrow(/cross-age\.json: sidecar of cross-age\.txt is not valid JSON/);
      await expect(readPairFile(path.join(dir, 'none.txt'))).rejects.toThrow(/none\.txt: not found/);
    } finally {
      await cleanup();
    }
  });
});

describe('ageClass', () => {
  const o = { childMaxAge: 12, adultMinAge: 18 };
  it('lets a known age decide and falls back to the group', () => {
    expect(ageClass({ age: 12, group: 'adult' }, o)).toBe('child');
    expect(ageClass({ age: 18, group: 'child' }, o)).toBe('adult');
    expect(ageClass({ age: 15, group: 'child' }, o)).toBeUndefined();
    expect(ageClass({ group: 'child' }, o)).toBe('child');
    expect(ageClass({}, o)).toBeUndefined();
  });
});

const maybe = SHARED_DATA ? describe : describe.skip;
maybe('real LFW and deepface files (needs ECAF_SHARED_DATA)', () => {
  it('pairs.txt: 6000 pairs in 10 folds of 300 + 300, no person in two folds', async () => {
    const l = await readPairFile(path.join(SHARED_DATA!, 'lfw', 'pairs.txt'));
    expect([l.format, l.pairs.length, l.folds]).toEqual(['lfw-view2', 6000, 10]);
    for (let f = 0; f < 10; f++) {
      const inFold = l.pairs.filter((p) => p.fold === f);
      expect([inFold.filter((p) => p.same).length, inFold.filter((p) => !p.same).length]).toEqual([300, 300]);
    }
    const foldOf = new Map<string, number>();
    for (const p of l.pairs) {
      for (const img of [p.a, p.b]) {
        const person = l.identityOf!.get(img)!;
        expect(foldOf.get(person) ?? p.fold).toBe(p.fold);
        foldOf.set(person, p.fold);
      }
    }
    expect(l.pairs[0]).toEqual({ a: 'Abel_Pacheco/Abel_Pacheco_0001.jpg', b: 'Abel_Pacheco/Abel_Pacheco_0004.jpg', same: true, fold: 0, line: 2 });
  });

  it('pairsDevTrain.txt and pairsDevTest.txt: View 1, one fold', async () => {
    const train = await readPairFile(path.join(SHARED_DATA!, 'lfw', 'pairsDevTrain.txt'));
    expect([train.format, train.folds, train.pairs.length, train.pairs.filter((p) => p.same).length]).toEqual(['lfw-view1', 1, 2200, 1100]);
    const test = await readPairFile(path.join(SHARED_DATA!, 'lfw', 'pairsDevTest.txt'));
    expect([test.pairs.length, test.pairs.filter((p) => p.same).length]).toEqual([1000, 500]);
  });

  it('deepface pairs.csv: file_x,file_y,Decision', async () => {
    const l = await readPairFile(path.join(SHARED_DATA!, 'deepface', 'pairs.csv'));
    expect([l.format, l.pairs.length, l.pairs.filter((p) => p.same).length, l.folds]).toEqual(['csv', 300, 38, 10]);
    expect(l.pairs[0]).toMatchObject({ a: 'img20.jpg', b: 'img21.jpg', same: true });
  });
});
