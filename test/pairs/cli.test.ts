import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runEcaf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { randomRecords, writeDataset } from './dataset.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('ecaf-pairs-cli-'));
  await writeDataset(dir, randomRecords(21, 300, 8));
});
afterAll(() => cleanup());

describe('ecaf pairs (CLI, built)', () => {
  it('gives byte-identical lists and sidecars in two processes, for both protocols', async () => {
    const args = (protocol: string, out: string) => ['pairs', '--root', dir, '--protocol', protocol, '--folds', '4', '--per-fold', '15', '--seed', '5', '--out', path.join(dir, out)];
    const results = await Promise.all([
      runEcaf(...args('cross-age', 'x1.txt')),
      runEcaf(...args('cross-age', 'x2.txt')),
      runEcaf(...args('children', 'c1.txt')),
      runEcaf(...args('children', 'c2.txt')),
    ]);
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(r.stderr).not.toMatch(/ecaf:/); // progress lines only
    }
    expect(results[0]!.stdout).toMatch(/^wrote .*x1\.txt: 4 folds x \(15 positive \+ 15 negative\) = 120 pairs/);
    for (const [a, b] of [
      ['x1', 'x2'],
      ['c1', 'c2'],
    ]) {
      const txt = await readFile(path.join(dir, `${a}.txt`));
      expect(txt.length).toBeGreaterThan(0);
      expect(txt.equals(await readFile(path.join(dir, `${b}.txt`)))).toBe(true);
      expect((await readFile(path.join(dir, `${a}.json`))).equals(await readFile(path.join(dir, `${b}.json`)))).toBe(true);
    }
  });

  it('exits 2 with what the data allows when it cannot fill the request', async () => {
    const r = await runEcaf('pairs', '--root', dir, '--protocol', 'children', '--per-fold', '100000');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ecaf: asked for 10 folds x \(100000 positive \+ 100000 negative children pairs\), but the data allows \d+ \+ \d+ per fold.*\(a lower --per-fold asks for fewer pairs; --folds sets the number of folds; --allow-fewer writes what the data allows\)$/m);
  });
});

describe('ecaf pairs check (CLI, built): exit codes', () => {
  it('0 valid, 1 problems found, 2 unreadable', async () => {
    const good = path.join(dir, 'good.txt');
    const bad = path.join(dir, 'dup.txt');
    const broken = path.join(dir, 'broken.txt');
    await writeFile(good, 'a.jpg b.jpg 1\nc.jpg d.jpg -1\n');
    await writeFile(bad, 'a.jpg b.jpg 1\nb.jpg a.jpg 1\nc.jpg d.jpg -1\ne.jpg f.jpg -1\n');
    await writeFile(broken, 'a.jpg b.jpg 1\nc.jpg d.jpg maybe\n');
    const [ok, problems, unreadable] = await Promise.all([runEcaf('pairs', 'check', good, '--folds', '1'), runEcaf('pairs', 'check', bad, '--folds', '2'), runEcaf('pairs', 'check', broken)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ecaf list, 2 pairs \(1 positive, 1 negative\) in 1 fold, 4 images\n[\s\S]*\nvalid\n$/);
    expect(problems.code).toBe(1);
    expect(problems.stdout).toMatch(/duplicates: 1\n  line 2: b\.jpg a\.jpg \(first at line 1\)/);
    expect(problems.stderr).toMatch(/dup\.txt: 1 problem found/);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/broken\.txt:2: label must be 1 \(same person\) or -1/);
  });
});
