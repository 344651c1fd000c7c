import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crawl } from '../../src/crawl/index.js';
import { ECAF_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('ecaf-bad-')));
afterEach(() => cleanup());

async function dataJson(text: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'image_data'), { recursive: true });
  await fs.writeFile(path.join(dir, 'image_data/data.json'), text);
}

const good = { id: 'ok_1', image_url: 'http://127.0.0.1:9/ok.jpg' };
const cases: [string, string, RegExp][] = [
  ['an id with ../', JSON.stringify([good, { id: '../etc/passwd', image_url: 'http://h/a.jpg' }]), /record 1 \(id "..\/etc\/passwd"\): field "id": .*contains "\.\."/],
  ['a duplicate id', JSON.stringify([good, { ...good }]), /record 1 \(id "ok_1"\): field "id": duplicate id \(first used by record 0\)/],
  ['a missing url', JSON.stringify([good, { id: 'no_url' }]), /record 1 \(id "no_url"\): field "image_url": missing/],
  ['a non-http scheme', JSON.stringify([good, { id: 'f_1', url: 'file:///etc/passwd' }]), /record 1 \(id "f_1"\): field "url": scheme "file" is not allowed/],
  ['broken JSON', '[\n{"id": "a_1", "url": "http://h/a.jpg"},\n{"id": "b_1" "url": "http://h/b.jpg"}\n]', /line 3, column 14: expected ',' or '}'/],
];

describe('crawl refuses bad data.json with a clear error and writes nothing', () => {
  it.each(cases)('%s', async (_name, text, message) => {
    await dataJson(text);
    await expect(crawl({ root: dir, allowPrivate: true, progress: false })).rejects.toThrow(message);
    expect(await fs.readdir(path.join(dir, 'image_data'))).toEqual(['data.json']);
  });

  it('--skip-invalid goes on with the valid records', async () => {
    await dataJson(JSON.stringify([{ id: 'bad/id', url: 'http://h/x' }, { id: 'a_1', url: 'http://127.0.0.1:9/a.jpg' }]));
    const s = await crawl({ root: dir, allowPrivate: true, skipInvalid: true, retries: 0, progress: false });
    expect(s).toMatchObject({ records: 1, invalid: 1, attempted: 1, byError: { connect: 1 } });
  });

  it('--skip-invalid requests a duplicated id once, for its first record', async () => {
    await dataJson(JSON.stringify([{ id: 'a_1', url: 'http://127.0.0.1:9/first.jpg' }, { id: 'a_1', url: 'http://127.0.0.1:9/second.jpg' }]));
    const s = await crawl({ root: dir, allowPrivate: true, skipInvalid: true, retries: 0, progress: false });
    expect(s).toMatchObject({ records: 1, invalid: 1, attempted: 1 });
    const log = await fs.readFile(path.join(dir, 'image_data/crawl.jsonl'), 'utf8');
    expect(log).toContain('first.jpg');
    expect(log).not.toContain('second.jpg');
  });

  it('--skip-invalid requests ids differing only in case once, for the first record', async () => {
    await dataJson(JSON.stringify([{ id: 'A_1', url: 'http://127.0.0.1:9/first.jpg' }, { id: 'a_1', url: 'http://127.0.0.1:9/second.jpg' }]));
    await expect(crawl({ root: dir, allowPrivate: true, progress: false })).rejects.toThrow(/record 1 \(id "a_1"\): field "id": differs only in case from the id "A_1" of record 0/);
    const s = await crawl({ root: dir, allowPrivate: true, skipInvalid: true, retries: 0, progress: false });
    expect(s).toMatchObject({ records: 1, invalid: 1, attempted: 1 });
    const log = await fs.readFile(path.join(dir, 'image_data/crawl.jsonl'), 'utf8');
    expect(log).toContain('first.jpg');
    expect(log).not.toContain('second.jpg');
  });

  it('validate and crawl warn about a data.json with no records', async () => {
    await dataJson('[]');
    const file = path.join(dir, 'image_data/data.json');
    const cli = (args: string[]) => spawnSync(process.execPath, [ECAF_BIN, ...args], { encoding: 'utf8' });
    for (const command of ['validate', 'crawl']) {
      const r = cli([command, '--root', dir]);
      expect([command, r.status]).toEqual([command, 0]);
      expect(r.stderr).toContain(`warning: ${file}: holds no records`);
    }
  });

  it('the CLI exits 2 naming the file, record and field; --help has examples', async () => {
    await dataJson(cases[2]![1]);
    const cli = (args: string[]) => spawnSync(process.execPath, [ECAF_BIN, ...args], { encoding: 'utf8' });
    const r = cli(['crawl', '--root', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(path.join(dir, 'image_data/data.json'));
    expect(r.stderr).toMatch(/field "image_url": missing/);
    expect(cli(['crawl', '--root', dir, '--concurrency', '0']).status).toBe(2);
    const help = cli(['crawl', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--retry-failed/);
    expect(help.stdout).toMatch(/Examples:/);
  });
});
