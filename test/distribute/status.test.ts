import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { shardOf } from '../../src/distribute/index.js';
import { formatStatus, nextCommand, nextReason } from '../../src/cli/status.js';
import { datasetStatus, summarizeStatus } from '../../src/status/index.js';
import { runEcaf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const states = (o: Record<string, string>) => new Map(Object.entries(o).map(([id, status]) => [id, { status }]));
const base = { root: 'r', hasData: true, invalid: 0, crawlShardCounts: [], alignShardCounts: [], pairFiles: [], reports: [] };

describe('status', () => {
  test('counts per stage and the next command, stage by stage', () => {
    const ids = ['a', 'b', 'c', 'd'];
    let s = summarizeStatus({ ...base, ids, crawl: states({ a: 'ok', b: 'failed' }), landmarks: new Map() });
    expect([s.crawl.ok, s.crawl.failed, s.crawl.pending]).toEqual([1, 1, 2]);
    expect(s.nextStep).toEqual({ stage: 'crawl', why: 'not-crawled', pending: 2, pendingShards: [] });
    expect(nextCommand(s)).toBe('ecaf crawl --root r');
    expect(nextReason(s)).toBe('2 records not crawled yet');
    s = summarizeStatus({ ...base, ids, crawl: states({ a: 'ok', b: 'failed', c: 'skipped', d: 'ok' }), landmarks: states({ a: 'ok', d: 'missing_image' }) });
    expect([s.align.ok, s.align.failed, s.align.pending]).toEqual([1, 0, 1]);
    expect(s.nextStep).toEqual({ stage: 'align', why: 'not-aligned', pending: 1, pendingShards: [] });
    expect(nextCommand(s)).toBe('ecaf align --root r');
    s = summarizeStatus({ ...base, ids, crawl: states({ a: 'ok', b: 'failed', c: 'skipped', d: 'ok' }), landmarks: states({ a: 'ok', d: 'no_face' }) });
    expect(nextCommand(s)).toBe('ecaf pairs --root r --protocol cross-age');
    s = summarizeStatus({ ...base, ids, crawl: states({ a: 'ok', b: 'ok', c: 'ok', d: 'ok' }), landmarks: states({ a: 'ok', b: 'ok', c: 'ok', d: 'ok' }), pairFiles: ['cross-age.txt'] });
    expect(nextCommand(s)).toBe('ecaf benchmark --root r --model builtin');
    s = { ...s, reports: ['builtin/cross-age'], nextStep: summarizeStatus({ ...base, ids, crawl: states({ a: 'ok', b: 'ok', c: 'ok', d: 'ok' }), landmarks: states({ a: 'ok', b: 'ok', c: 'ok', d: 'ok' }), pairFiles: ['cross-age.txt'], reports: ['builtin/cross-age'] }).nextStep };
    expect(s.nextStep.stage).toBeNull();
    expect(formatStatus(s)).toMatch(/\nnext: nothing to run \(every stage done: ecaf report --root r puts the reports side by side\)$/);
    s = summarizeStatus({ ...base, root: 'my root', ids, crawl: states({}), landmarks: new Map() });
    expect(nextCommand(s)).toBe("ecaf crawl --root 'my root'");
    s = summarizeStatus({ ...base, hasData: false, ids: [], crawl: new Map(), landmarks: new Map() });
    expect(nextCommand(s)).toBeNull();
    expect(nextReason(s)).toContain('no image_data/data.json');
  });

  test('per shard for each shard count found in the logs, naming the shards left to run', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `id_${i}`);
    const crawl = states(Object.fromEntries(ids.filter((id) => shardOf(id, 4) !== 2).map((id) => [id, 'ok'])));
    const s = summarizeStatus({ ...base, ids, crawl, landmarks: new Map(), crawlShardCounts: [4, 4, 4] });
    expect(s.crawl.byShard).toHaveLength(1);
    expect(s.crawl.byShard[0]!.shards.map((c) => c.pending)).toEqual([0, 1, 2, 3].map((k) => (k === 2 ? ids.filter((id) => shardOf(id, 4) === 2).length : 0)));
    expect(s.nextStep.pendingShards).toEqual([{ index: 2, count: 4 }]);
    expect(nextReason(s)).toContain('shards with pending ids: 2/4');
    expect(formatStatus(s)).toMatch(/as 4 shards:\n {4}0\/4 {5}ok \d+ {2}failed 0 {2}pending 0/);
  });

  test('ecaf status on a root with shard logs', async () => {
    const { dir, cleanup } = await tempDir('ecaf-status-');
    try {
      await mkdir(path.join(dir, 'image_data', 'logs'), { recursive: true });
      await writeFile(path.join(dir, 'image_data', 'data.json'), JSON.stringify(['x_1', 'y_1', 'z_1'].map((id) => ({ id, image_url: `http://127.0.0.1/${id}.jpg` }))));
      for (const id of ['x_1', 'y_1']) {
        const k = shardOf(id, 2);
        await writeFile(path.join(dir, 'image_data', 'logs', `crawl.${k}-of-2.jsonl`), JSON.stringify({ id, url: 'u', status: 'ok', time: '2026-01-01T00:00:00Z' }) + '\n', { flag: 'a' });
      }
      const st = await datasetStatus(dir);
      expect([st.crawl.ok, st.crawl.pending]).toEqual([2, 1]);
      const r = await runEcaf('status', '--root', dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('crawl     ok 2  failed 0  pending 1');
      expect(r.stdout).toContain('as 2 shards:');
      expect(r.stdout).toContain(`next: ecaf crawl --root ${dir}`);
      const j = JSON.parse((await runEcaf('status', '--root', dir, '--json')).stdout) as { next: string; reason: string; nextStep: { stage: string; pending: number } };
      expect(j.next).toBe(`ecaf crawl --root ${dir}`);
      expect(j.reason).toMatch(/^1 records not crawled yet; shards with pending ids: [01]\/2$/);
      expect(j.nextStep).toMatchObject({ stage: 'crawl', pending: 1 });
    } finally {
      await cleanup();
    }
  });
});
