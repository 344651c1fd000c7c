import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crawl, type CrawlOptions } from '../../src/crawl/index.js';
import { datasetLayout } from '../../src/dataset/layout.js';
import { parseShard, readStageStates, shardOf } from '../../src/distribute/index.js';
import { readJsonl } from '../../src/util/jsonl.js';
import { runEcaf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { FaultServer, makeImage, serve } from '../crawl/fault-server.js';
import { rawNames, writeData } from '../crawl/helpers.js';

let server: FaultServer;
const cleanups: (() => Promise<void>)[] = [];
let records: [string, string][];
const opts: Partial<CrawlOptions> = { allowPrivate: true, retries: 0, backoffMs: 10, timeoutS: 5, progress: false };

beforeAll(async () => {
  server = await FaultServer.start();
  records = [];
  for (let i = 0; i < 60; i++) records.push([`p${i}_00${i % 7}`, server.route(`/i/${i}.jpg`, serve(await makeImage(i)))]);
  records.push(['gone_1', server.url('/i/gone.jpg')]);
});
afterAll(async () => {
  await server.close();
  await Promise.all(cleanups.map((c) => c()));
});

async function newRoot(): Promise<string> {
  const { dir, cleanup } = await tempDir('ecaf-shard-crawl-');
  cleanups.push(cleanup);
  await writeData(dir, records);
  return dir;
}

const bytesOf = async (root: string) => Promise.all((await rawNames(root)).map(async (n) => [n, await fs.readFile(path.join(root, 'image_data', 'raw', n))] as const));
const hitsOf = () => records.map(([, url]) => server.hits(new URL(url).pathname));

describe('crawl --shard', () => {
  test('three shards at once: each fetches its own ids into its own log; together they equal one process; a plain rerun and other N fetch nothing', async () => {
    const one = await newRoot();
    await crawl({ ...opts, root: one });
    const before = hitsOf();
    const root = await newRoot();
    const results = await Promise.all([0, 1, 2].map((k) => crawl({ ...opts, root, shard: parseShard(`${k}/3`) })));
    // each id requested once more, by its own shard
    expect(hitsOf()).toEqual(before.map((h) => h + 1));
    expect(results.map((r) => r.records).reduce((a, b) => a + b)).toBe(records.length);
    for (const k of [0, 1, 2]) {
      const lines: { id: string }[] = [];
      for await (const l of readJsonl<{ id: string }>(path.join(root, 'image_data', 'logs', `crawl.${k}-of-3.jsonl`))) lines.push(l);
      expect(lines.length).toBe(results[k]!.records);
      for (const l of lines) expect(shardOf(l.id, 3)).toBe(k);
    }
    await expect(fs.access(path.join(root, 'image_data', 'crawl.jsonl'))).rejects.toThrow();
    expect(await bytesOf(root)).toEqual(await bytesOf(one));
    const merged = await readStageStates<{ id: string; status: string; sha256?: string }>(datasetLayout(root), 'crawl');
    const single = await readStageStates<{ id: string; status: string; sha256?: string }>(datasetLayout(one), 'crawl');
    expect([...merged.keys()].sort()).toEqual([...single.keys()].sort());
    for (const [id, s] of single) expect([merged.get(id)!.status, merged.get(id)!.sha256]).toEqual([s.status, s.sha256]);

    // changing N, or a plain run, finds everything done (the logs of 3 shards are read by all)
    const again = await Promise.all([0, 1].map((k) => crawl({ ...opts, root, shard: parseShard(`${k}/2`) })));
    const plain = await crawl({ ...opts, root });
    expect(hitsOf()).toEqual(before.map((h) => h + 1));
    expect(again.map((r) => r.attempted)).toEqual([0, 0]);
    expect(plain.attempted).toBe(0);
    expect(plain.alreadyOk).toBe(records.length - 1);
  });

  test('a shard log with a torn last line: read up to it, the id fetched again and the line repaired', async () => {
    const root = await newRoot();
    const shard = parseShard('1/2');
    await crawl({ ...opts, root, shard });
    const log = path.join(root, 'image_data', 'logs', 'crawl.1-of-2.jsonl');
    const text = await fs.readFile(log, 'utf8');
    const lines = text.trimEnd().split('\n');
    const lastId = (JSON.parse(lines.at(-1)!) as { id: string }).id;
    // the node died while writing the last line: half of it is there, without its newline
    await fs.writeFile(log, lines.slice(0, -1).join('\n') + '\n' + lines.at(-1)!.slice(0, 30));
    const states = await readStageStates<{ id: string }>(datasetLayout(root), 'crawl');
    expect(states.has(lastId)).toBe(false);
    expect(states.size).toBe(lines.length - 1);
    const r = await crawl({ ...opts, root, shard });
    expect(r.attempted).toBe(1);
    const after = (await fs.readFile(log, 'utf8')).split('\n');
    expect(after.at(-1)).toBe('');
    for (const l of after.slice(0, -1)) expect(() => JSON.parse(l)).not.toThrow();
    expect(after.length - 1).toBe(lines.length);
  });

  test('CLI: the first line names the shard and where it came from; bad shards exit 2 with the reason', async () => {
    const root = await newRoot();
    const r = await runEcaf('crawl', '--root', root, '--allow-private', '--retries', '0', '--shard', '2/4');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('shard 2/4 (0-based, from flag: --shard 2/4)');
    for (const [flag, reason] of [['5/4', 'below the count 4'], ['0/0', 'at least 1'], ['x/4', 'whole number']]) {
      const bad = await runEcaf('crawl', '--root', root, '--shard', flag!);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(reason);
    }
  });
});
