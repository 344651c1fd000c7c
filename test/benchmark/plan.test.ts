import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runBenchmark } from '../../src/benchmark/index.js';
import { planBenchmark, type PairInput } from '../../src/benchmark/plan.js';
import type { EcafRecord } from '../../src/dataset/record.js';
import type { PairList } from '../../src/pairs/pair-list.js';
import { PairFileError, readPairSidecar } from '../../src/pairs/read.js';
import { UsageError } from '../../src/util/errors.js';
import { runEcaf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const rec = (id: string, age: number, identity: string): EcafRecord => ({ index: 0, id, imageUrl: `http://example.org/${id}.jpg`, identity, age });
const records = new Map([rec('P0_c', 5, 'P0'), rec('P0_a', 30, 'P0'), rec('P1_c', 11, 'P1'), rec('P1_a', 19, 'P1')].map((r) => [r.id, r]));
const list = (file: string, pairs: [string, string][]): PairList => ({
  file,
  format: 'ecaf',
  folds: 1,
  pairs: pairs.map(([a, b], k) => ({ a, b, same: k % 2 === 0, fold: 0, line: k + 2 })),
});
const mtcnn = { dir: '/r/img_mtcnn', variant: 'mtcnn' as const };

describe('planBenchmark (pure)', () => {
  it('names every image once, in the order the files first name them, under the variant folder', () => {
    const inputs: PairInput[] = [
      { list: list('/r/a.txt', [['P0_c.jpg', 'P0_a.jpg'], ['P0_c.jpg', 'sub/x.jpeg']]), sidecar: undefined },
      { list: list('/r/b.txt', [['P1_a.jpg', 'P0_a.jpg']]), sidecar: { protocol: 'cross-age' } },
    ];
    const p = planBenchmark(inputs, records, mtcnn);
    expect(p.images.map((i) => i.name)).toEqual(['P0_c.jpg', 'P0_a.jpg', 'sub/x.jpeg', 'P1_a.jpg']);
    expect(p.images[2]!.file).toBe('/r/img_mtcnn/sub/x.jpeg');
    expect(p.files.map((f) => f.identification)).toEqual([undefined, undefined]);
    // img_ffhq holds <id>.png whatever extension the pair file gives
    const ffhq = planBenchmark(inputs, records, { dir: '/r/img_ffhq', variant: 'ffhq' });
    expect(ffhq.images.map((i) => i.file)).toEqual(['/r/img_ffhq/P0_c.png', '/r/img_ffhq/P0_a.png', '/r/img_ffhq/sub/x.png', '/r/img_ffhq/P1_a.png']);
  });

  it('plans identification for the children protocol with the sidecar bounds, else the defaults', () => {
    const l = list('/r/children.txt', [['P0_c.jpg', 'P0_a.jpg']]);
    const p = planBenchmark([{ list: l, sidecar: { protocol: 'children', parameters: { childMaxAge: 10, adultMinAge: 20 } } }], records, mtcnn);
    expect(p.files[0]!.identification).toEqual({ probes: ['P0_c.jpg'], gallery: ['P0_a.jpg'], childMaxAge: 10, adultMinAge: 20 });
    expect(p.images.map((i) => i.name)).toEqual(['P0_c.jpg', 'P0_a.jpg']);
    // defaults 12 / 18: age 11 is a child, 19 an adult
    const d = planBenchmark([{ list: l, sidecar: { protocol: 'children' } }], records, mtcnn);
    expect(d.files[0]!.identification).toEqual({ probes: ['P0_c.jpg', 'P1_c.jpg'], gallery: ['P0_a.jpg', 'P1_a.jpg'], childMaxAge: 12, adultMinAge: 18 });
    expect(d.images.map((i) => i.name)).toEqual(['P0_c.jpg', 'P0_a.jpg', 'P1_c.jpg', 'P1_a.jpg']);
  });

  it('takes a JSON file without "protocol" as not a sidecar: a plain list', () => {
    const l = list('/r/bbt.txt', [['P0_c.jpg', 'P0_a.jpg']]);
    for (const sidecar of [[1, 2], { labels: 'x' }, 'text', null]) expect(planBenchmark([{ list: l, sidecar }], records, mtcnn).files[0]).toEqual({ list: l });
  });

  it('refuses a sidecar with a field of the wrong type, naming the sidecar and the field', () => {
    const l = list('/r/children.txt', [['P0_c.jpg', 'P0_a.jpg']]);
    const cases: [unknown, RegExp][] = [
      [{ protocol: 7 }, /^\/r\/children\.json: sidecar of children\.txt: "protocol" must be a string, got 7$/],
      [{ protocol: 'children', parameters: [10, 20] }, /"parameters" must be an object, got \[10,20\]/],
      [{ protocol: 'children', parameters: { childMaxAge: '10' } }, /"parameters\.childMaxAge" must be a number, got "10"/],
      [{ protocol: 'children', parameters: { adultMinAge: null } }, /"parameters\.adultMinAge" must be a number, got null/],
    ];
    for (const [sidecar, message] of cases) {
      const run = () => planBenchmark([{ list: l, sidecar }], records, mtcnn);
      expect(run).toThrow(PairFileError);
      expect(run).toThrow(message);
    }
  });

  it('reports an image name that names no id with its pair-file line', () => {
    const l = list('/r/odd.txt', [['P0_c.jpg', 'P0_a.jpg'], ['P0_c.jpg', 'sub/.jpg']]);
    const run = () => planBenchmark([{ list: l, sidecar: undefined }], records, mtcnn);
    expect(run).toThrow(PairFileError);
    expect(run).toThrow(/^\/r\/odd\.txt:3: image name "sub\/\.jpg" names no record id/);
  });
});

describe('the pair sidecar is read strictly', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(() => cleanup());

  it('readPairSidecar: none is undefined, invalid JSON or a folder is a PairFileError naming the sidecar', async () => {
    const txt = path.join(dir, 'l.txt');
    expect(await readPairSidecar(txt)).toBeUndefined();
    await fs.writeFile(path.join(dir, 'l.json'), '{"protocol": "children",');
    await expect(readPairSidecar(txt)).rejects.toThrow(PairFileError);
    await expect(readPairSidecar(txt)).rejects.toThrow(`${path.join(dir, 'l.json')}: sidecar of l.txt is not valid JSON`);
    await fs.writeFile(path.join(dir, 'l.json'), '{"protocol": "children"}');
    expect(await readPairSidecar(txt)).toEqual({ protocol: 'children' });
    await fs.mkdir(path.join(dir, 'd.json'));
    await expect(readPairSidecar(path.join(dir, 'd.csv'))).rejects.toThrow(/d\.json: cannot read the sidecar of d\.csv/);
  });

  // the bug this replaces: a CSV list's sidecar was parsed inside a catch-all, so a corrupt one
  // silently dropped the identification section; and wrong-typed bounds fell back to defaults
  it('runBenchmark and ecaf benchmark refuse a corrupt sidecar (exit 2) before loading the model', async () => {
    const root = path.join(dir, 'root');
    await fs.mkdir(path.join(root, 'image_pairs'), { recursive: true });
    const csv = path.join(root, 'image_pairs', 'children.csv');
    await fs.writeFile(csv, 'a,b,label\nx.jpg,y.jpg,1\nx.jpg,z.jpg,-1\n');
    const side = path.join(root, 'image_pairs', 'children.json');
    await fs.writeFile(side, '{"protocol": "children", "parameters": {');
    const model = path.join(dir, 'none.onnx'); // never opened: the plan fails first
    const run = runBenchmark({ root, model, pairs: [csv], folds: 2, progress: false, log: () => undefined });
    await expect(run).rejects.toThrow(PairFileError);
    await expect(run).rejects.toThrow(`${side}: sidecar of children.csv is not valid JSON`);
    await fs.writeFile(side, JSON.stringify({ protocol: 'children', parameters: { childMaxAge: 'ten' } }));
    await expect(runBenchmark({ root, model, pairs: [csv], folds: 2, progress: false, log: () => undefined })).rejects.toThrow(/"parameters\.childMaxAge" must be a number, got "ten"/);
    const cli = await runEcaf('benchmark', '--root', root, '--model', model, '--pairs', csv, '--folds', '2');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`${side}: sidecar of children.csv: "parameters.childMaxAge" must be a number`);
    await expect(runBenchmark({ root, model, pairs: [csv], folds: 2, progress: false, log: () => undefined })).rejects.toBeInstanceOf(UsageError);
  });
});
