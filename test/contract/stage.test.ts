import path from 'node:path';
import { crawl, crawlStage, readCrawlStates } from '../../src/crawl/index.js';
import { streamTopLevel } from '../../src/dataset/json-stream.js';
import { validateDataJson } from '../../src/dataset/load.js';
import { loadPairInputs } from '../../src/pairs/inputs.js';
import { makePairs, pairsStage } from '../../src/pairs/make.js';
import { runStage, type Stage, type StageOutcome, type StageResult } from '../../src/stage.js';
import { FaultServer, makeImage, serve } from '../crawl/fault-server.js';
import { lastStates, writeData } from '../crawl/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { randomRecords, writeDataset } from '../pairs/dataset.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('ecaf-stage-')));
afterAll(() => cleanup());

describe('the stage contract', () => {
  it('runStage plans, runs the selected tasks, tallies outcomes by code and summarizes; an abort is a result, not an error', async () => {
    type Code = 'even' | 'odd';
    const ran: string[] = [];
    const stage: Stage<number, { id: string; n: number }, Code, StageOutcome<Code>, StageResult<Code>> = {
      name: 'pairs',
      codes: ['even', 'odd'],
      *plan(n) {
        for (let i = 0; i < n; i++) yield { id: `t${i}`, n: i };
      },
      async run(tasks, { signal, sink, progress }) {
        for await (const t of tasks) {
          if (signal?.aborted) break;
          ran.push(t.id);
          sink({ id: t.id, code: t.n % 2 ? 'odd' : 'even', bytes: t.n });
          progress?.tick();
        }
      },
      summarize: (tally, interrupted, seconds) => ({ stage: 'pairs', interrupted, outcomes: { ...tally.counts }, seconds, bytes: tally.bytes }),
    };
    const seen: string[] = [];
    const r = await runStage(stage, 10, { select: (t) => t.n < 7, sink: (o) => seen.push(o.id) });
    expect(r).toMatchObject({ interrupted: false, outcomes: { even: 4, odd: 3 }, bytes: 21 });
    expect(seen).toEqual(ran);
    const stop = new AbortController();
    stop.abort();
    expect(await runStage(stage, 10, { signal: stop.signal })).toMatchObject({ interrupted: true, outcomes: { even: 0, odd: 0 } });
  });

  it('crawl run shard by shard (as a distributor would) ends where one whole run ends', async () => {
    const server = await FaultServer.start();
    try {
      const records: [string, string][] = [];
      for (let i = 0; i < 12; i++) records.push([`s_${i}`, server.route(`/s/${i}.jpg`, serve(await makeImage(500 + i)))]);
      records.push(['s_gone', server.url('/s/gone.jpg')]);
      const [sharded, whole] = [path.join(dir, 'sharded'), path.join(dir, 'whole')];
      await writeData(sharded, records);
      await writeData(whole, records);
      const options = { root: sharded, allowPrivate: true, retries: 0, progress: false };
      const dataJson = path.join(sharded, 'image_data', 'data.json');
      const validation = await validateDataJson(dataJson);
      const shardOf = (id: string) => [...id].reduce((h, c) => h + c.charCodeAt(0), 0) % 3;
      const results = [];
      for (let k = 0; k < 3; k++) {
        const states = await readCrawlStates(path.join(sharded, 'image_data', 'crawl.jsonl'));
        results.push(await runStage(crawlStage(options, validation), { entries: streamTopLevel(dataJson), states }, { select: (t) => shardOf(t.id) === k }));
      }
      expect(results.reduce((n, r) => n + r.outcomes.ok, 0)).toBe(12);
      expect(results.reduce((n, r) => n + r.outcomes.failed, 0)).toBe(1);
      expect(results.every((r) => r.stage === 'crawl' && !r.interrupted)).toBe(true);
      const one = await crawl({ ...options, root: whole });
      expect(one.outcomes).toMatchObject({ ok: 12, failed: 1 });
      const strip = (m: Map<string, { time: string; attempts: number }>) => [...m.values()].map(({ time: _t, attempts: _a, ...rest }) => rest).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      expect(strip(await lastStates(sharded))).toEqual(strip(await lastStates(whole)));
    } finally {
      await server.close();
    }
  });

  it('pairs: plan is pure (same inputs, same list), and an interrupt writes nothing', async () => {
    const root = path.join(dir, 'pairs');
    await writeDataset(root, randomRecords(3, 300, 6));
    const inp = await loadPairInputs(root);
    const stage = pairsStage({ root, protocol: 'cross-age', folds: 4, perFold: 10 });
    const [a] = [...(stage.plan(inp) as Iterable<{ text: string }>)];
    const [b] = [...(pairsStage({ root, protocol: 'cross-age', folds: 4, perFold: 10 }).plan(inp) as Iterable<{ text: string }>)];
    expect(a!.text).toBe(b!.text);
    const stop = new AbortController();
    stop.abort();
    const r = await makePairs({ root, protocol: 'cross-age', folds: 4, perFold: 10, signal: stop.signal });
    expect(r).toMatchObject({ stage: 'pairs', interrupted: true, pairs: 0, outcomes: { written: 0, fewer: 0, dropped: 0 } });
    const done = await makePairs({ root, protocol: 'cross-age', folds: 4, perFold: 10 });
    expect(done).toMatchObject({ interrupted: false, pairs: 80, outcomes: { written: 1, fewer: 0, dropped: 0 } });
  });
});
