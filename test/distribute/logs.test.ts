import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { datasetLayout } from '../../src/dataset/layout.js';
import { logFileFor, readMergedJsonl, readStageStates, stageLogFiles } from '../../src/distribute/index.js';
import { JsonlAppender } from '../../src/util/jsonl.js';
import { readAlignedIds } from '../../src/pairs/aligned-ids.js';
import { readSheetEntries } from '../../src/sheet/entries.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ecaf-logs-'));
  await mkdir(path.join(root, 'image_data'), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const line = (id: string, status: string, time: string) => JSON.stringify({ id, status, time });

describe('per-shard logs', () => {
  test('each shard has its own file; the single-process log stays where it was', () => {
    const layout = datasetLayout(root);
    expect(logFileFor(layout, 'crawl', undefined)).toBe(layout.crawlLog);
    expect(logFileFor(layout, 'crawl', { index: 2, count: 4, source: 'flag', from: '2/4' })).toBe(path.join(root, 'image_data', 'logs', 'crawl.2-of-4.jsonl'));
    expect(logFileFor(layout, 'landmarks', { index: 0, count: 1, source: 'flag', from: '0/1' })).toBe(path.join(root, 'image_data', 'logs', 'landmarks.0-of-1.jsonl'));
  });

  test('merge order: main log, then shard logs by count and index; other files ignored', async () => {
    const layout = datasetLayout(root);
    await mkdir(path.join(root, 'image_data', 'logs'));
    for (const n of ['crawl.10-of-12.jsonl', 'crawl.2-of-3.jsonl', 'crawl.1-of-3.jsonl', 'landmarks.0-of-3.jsonl', 'crawl.x-of-3.jsonl', 'notes.txt']) {
      await writeFile(path.join(root, 'image_data', 'logs', n), '');
    }
    await writeFile(layout.crawlLog, '');
    const files = await stageLogFiles(layout, 'crawl');
    expect(files.map((f) => path.relative(root, f))).toEqual(['image_data/crawl.jsonl', 'image_data/logs/crawl.1-of-3.jsonl', 'image_data/logs/crawl.2-of-3.jsonl', 'image_data/logs/crawl.10-of-12.jsonl']);
  });

  test('last state wins across files by line time; ties go to the earlier file', async () => {
    const layout = datasetLayout(root);
    await mkdir(path.join(root, 'image_data', 'logs'));
    // a (2 shards) run failed b at t2; a later 3-shard run fetched it at t5; c only in the main log
    await writeFile(layout.crawlLog, [line('c', 'ok', '2026-01-01T00:00:01Z'), line('a', 'failed', '2026-01-01T00:00:09Z')].join('\n') + '\n');
    await writeFile(path.join(root, 'image_data', 'logs', 'crawl.0-of-2.jsonl'), [line('a', 'ok', '2026-01-01T00:00:02Z'), line('b', 'failed', '2026-01-01T00:00:02Z')].join('\n') + '\n');
    await writeFile(path.join(root, 'image_data', 'logs', 'crawl.1-of-3.jsonl'), [line('b', 'ok', '2026-01-01T00:00:05Z'), line('d', 'ok', '2026-01-01T00:00:09Z')].join('\n') + '\n');
    await writeFile(path.join(root, 'image_data', 'logs', 'crawl.2-of-3.jsonl'), [line('d', 'failed', '2026-01-01T00:00:09Z')].join('\n') + '\n');
    const states = await readStageStates<{ id: string; status: string }>(layout, 'crawl');
    expect(Object.fromEntries([...states].map(([id, s]) => [id, s.status]))).toEqual({ a: 'failed', b: 'ok', c: 'ok', d: 'failed' });
    const merged: string[] = [];
    for await (const r of readMergedJsonl<{ id: string; time: string }>(await stageLogFiles(layout, 'crawl'))) merged.push(`${r.id}@${r.time.slice(17, 19)}`);
    expect(merged).toEqual(['c@01', 'a@02', 'b@02', 'b@05', 'a@09', 'd@09', 'd@09']);
  });

  test('a torn last line is read up to that line and cut on the next append', async () => {
    const layout = datasetLayout(root);
    const file = logFileFor(layout, 'crawl', { index: 1, count: 2, source: 'flag', from: '1/2' });
    await mkdir(path.dirname(file), { recursive: true });
    const whole = line('a', 'ok', '2026-01-01T00:00:01Z') + '\n';
    await writeFile(file, whole + line('b', 'ok', '2026-01-01T00:00:02Z').slice(0, 20));
    const states = await readStageStates<{ id: string }>(layout, 'crawl');
    expect([...states.keys()]).toEqual(['a']);
    const out = await JsonlAppender.open(file);
    await out.append([{ id: 'b', status: 'ok', time: '2026-01-01T00:00:03Z' }]);
    await out.close();
    expect(await readFile(file, 'utf8')).toBe(whole + line('b', 'ok', '2026-01-01T00:00:03Z') + '\n');
  });

  test('pairs and sheet read every landmarks log, last state by time', async () => {
    const layout = datasetLayout(root);
    await mkdir(path.join(root, 'image_data', 'logs'));
    await writeFile(path.join(root, 'image_data', 'logs', 'landmarks.0-of-2.jsonl'), [line('a', 'ok', '2026-01-01T00:00:01Z'), line('b', 'no_face', '2026-01-01T00:00:01Z')].join('\n') + '\n');
    await writeFile(path.join(root, 'image_data', 'logs', 'landmarks.1-of-2.jsonl'), [line('c', 'ok', '2026-01-01T00:00:01Z')].join('\n') + '\n');
    await writeFile(path.join(root, 'image_data', 'logs', 'landmarks.0-of-3.jsonl'), [line('b', 'ok', '2026-01-01T00:00:05Z'), line('c', 'no_face', '2026-01-01T00:00:06Z')].join('\n') + '\n');
    const files = await stageLogFiles(layout, 'landmarks');
    expect([...(await readAlignedIds(files))].sort()).toEqual(['a', 'b']);
    const sheet = await readSheetEntries(root);
    expect(sheet.map((e) => `${e.id}:${e.status}`).sort()).toEqual(['a:ok', 'b:ok', 'c:no_face']);
  });
});
