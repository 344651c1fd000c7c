import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatAlignSummary } from '../../src/cli/summaries/align.js';
import {
  addAlignOutcome,
  alignStage,
  emptyAlignFacts,
  NO_RAW_FILE,
  planAlign,
  planRecord,
  readAlignInput,
  summarizeAlign,
  unusedOverrides,
  type AlignInput,
  type AlignOutcome,
  type AlignPolicy,
  type AlignRunFacts,
  type CrawlState,
  type LandmarkOverride,
  type LandmarksLine,
} from '../../src/align/index.js';
import { loadDataJson } from '../../src/dataset/load.js';
import type { EcafRecord } from '../../src/dataset/record.js';
import { emptyTally, addOutcome, runStage } from '../../src/stage.js';
import type { Point } from '../../src/align/similarity.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRoot } from './helpers.js';

const RAW = '/data/image_data/raw';
const POLICY: AlignPolicy = { rawDir: RAW, ffhqSize: 1024, mtcnnSize: 112, ffhqFast: false, detector: 'mtcnn', force: false, retryFailed: false, redetect: false };
const T = '2026-01-01T00:00:00.000Z';
const P5: Point[] = [[30, 50], [80, 50], [55, 75], [35, 100], [75, 100]];

const rec = (id: string, index = 0): EcafRecord => ({ index, id, imageUrl: `http://127.0.0.1/${id}.jpg`, identity: id });
const ok = (id: string, more: Partial<LandmarksLine> = {}): LandmarksLine => ({ id, status: 'ok', source: 'detector', detector: 'mtcnn', points5: P5, ffhq_size: 1024, mtcnn_size: 112, time: T, ...more });
const failed = (id: string, status: 'no_face' | 'decode_error', more: Partial<LandmarksLine> = {}): LandmarksLine => ({ id, status, source: 'detector', ...(status === 'no_face' && { detector: 'mtcnn' }), photo_key: '10:20', time: T, ...more });

/** The input of one record `a`: its previous line, override, crawl line and raw/ files (a.jpg, crawled ok, by default). */
function one(o: { prev?: LandmarksLine; override?: LandmarkOverride; crawl?: CrawlState | null; raw?: string[] } = {}): AlignInput {
  const crawl = o.crawl === undefined ? { id: 'a', status: 'ok', format: 'jpg' } : o.crawl;
  return {
    records: [rec('a')],
    previous: new Map(o.prev ? [['a', o.prev]] : []),
    overrides: new Map(o.override ? [['a', o.override]] : []),
    crawl: new Map(crawl ? [['a', crawl]] : []),
    raw: new Map([['a', o.raw ?? ['a.jpg']]]),
  };
}
const plan = (input: AlignInput, policy: Partial<AlignPolicy> = {}) => planRecord(input.records[0]!, input, { ...POLICY, ...policy });

describe('align plan (pure)', () => {
  it('aligns a photo with no earlier line, from the file crawl stored', () => {
    expect(plan(one())).toMatchObject({ id: 'a', action: 'align', file: path.join(RAW, 'a.jpg'), redetect: false });
    expect(plan(one()).missing).toBeUndefined();
    // crawl's format picks among stale files of other formats
    expect(plan(one({ crawl: { id: 'a', status: 'ok', format: 'png' }, raw: ['a.jpg', 'a.png'] })).file).toBe(path.join(RAW, 'a.png'));
  });

  it('checks an ok line of the same sizes (check_done); other sizes, ffhqFast or force align again', () => {
    expect(plan(one({ prev: ok('a') }))).toMatchObject({ action: 'check_done', file: path.join(RAW, 'a.jpg'), prev: ok('a') });
    expect(plan(one({ prev: ok('a') }), { ffhqSize: 512 }).action).toBe('align');
    expect(plan(one({ prev: ok('a') }), { mtcnnSize: 96 }).action).toBe('align');
    expect(plan(one({ prev: ok('a') }), { ffhqFast: true }).action).toBe('align');
    expect(plan(one({ prev: ok('a', { ffhq_fast: true }) }), { ffhqFast: true }).action).toBe('check_done');
    expect(plan(one({ prev: ok('a') }), { force: true }).action).toBe('align');
  });

  it('an ok line is done only when its landmarks come from the override exactly when there is one', () => {
    const override: LandmarkOverride = { points5: P5 };
    expect(plan(one({ prev: ok('a', { source: 'override' }), override })).action).toBe('check_done');
    expect(plan(one({ prev: ok('a'), override })).action).toBe('align');
    expect(plan(one({ prev: ok('a', { source: 'override' }), override: { points5: P5.map(([x, y]) => [x + 2, y] as Point) } })).action).toBe('align');
    // the override was removed: the detector does it again
    expect(plan(one({ prev: ok('a', { source: 'override' }) })).action).toBe('align');
    // an override line redone is never another detector's to keep
    expect(plan(one({ prev: ok('a', { source: 'override', detector: 'ssd' }) })).otherDetector).toBeUndefined();
  });

  it('a record without a photo is missing; its line is logged only when it says something new (or with force)', () => {
    expect(plan(one({ raw: [] }))).toMatchObject({ action: 'missing', missing: { error: NO_RAW_FILE, log: true } });
    expect(plan(one({ raw: [] })).file).toBeUndefined();
    const before: LandmarksLine = { id: 'a', status: 'missing_image', source: 'detector', error: NO_RAW_FILE, time: T };
    expect(plan(one({ raw: [], prev: before })).missing).toEqual({ error: NO_RAW_FILE, log: false });
    expect(plan(one({ raw: [], prev: before }), { force: true }).missing).toEqual({ error: NO_RAW_FILE, log: true });
    expect(plan(one({ raw: [], prev: { ...before, error: 'crawl status failed (http_404)' } })).missing!.log).toBe(true);
    // no crawl line at all: the raw/ listing decides
    expect(plan(one({ crawl: null, raw: [] })).missing!.error).toBe(NO_RAW_FILE);
    expect(plan(one({ crawl: null })).action).toBe('align');
  });

  it('a crawl line that is not ok wins over a stale file in raw/', () => {
    expect(plan(one({ crawl: { id: 'a', status: 'failed', error: 'http_404' } }))).toMatchObject({ action: 'missing', missing: { error: 'crawl status failed (http_404)', log: true } });
    expect(plan(one({ crawl: { id: 'a', status: 'skipped' } })).missing!.error).toBe('crawl status skipped');
  });

  it('an aligned id stays done though its photo is gone (check_done carries why, for when its files are gone too)', () => {
    expect(plan(one({ prev: ok('a'), raw: [] }))).toMatchObject({ action: 'check_done', missing: { error: NO_RAW_FILE, log: true } });
    expect(plan(one({ prev: ok('a'), raw: [] }), { force: true }).action).toBe('missing');
  });

  it('checks an earlier no_face / decode_error (check_failure) unless retryFailed, force, an override or an override line', () => {
    for (const status of ['no_face', 'decode_error'] as const) {
      expect(plan(one({ prev: failed('a', status) }))).toMatchObject({ action: 'check_failure', file: path.join(RAW, 'a.jpg') });
      expect(plan(one({ prev: failed('a', status) }), { retryFailed: true }).action).toBe('align');
      expect(plan(one({ prev: failed('a', status) }), { force: true }).action).toBe('align');
      expect(plan(one({ prev: failed('a', status), override: { points5: P5 } })).action).toBe('align');
      expect(plan(one({ prev: failed('a', status, { source: 'override' }) })).action).toBe('align');
      // without the photo, missing wins
      expect(plan(one({ prev: failed('a', status), raw: [] })).action).toBe('missing');
    }
  });

  it("another detector's line is kept (and said so) unless redetect, which redoes it whatever it holds", () => {
    const ssd = ok('a', { detector: 'ssd' });
    expect(plan(one({ prev: ssd }))).toMatchObject({ action: 'check_done', otherDetector: 'ssd', redetect: false });
    expect(plan(one({ prev: ssd }), { redetect: true })).toMatchObject({ action: 'align', otherDetector: 'ssd', redetect: true });
    // a line written before the detector was recorded is SSD's
    const { detector: _, ...legacy } = ssd;
    expect(plan(one({ prev: legacy }))).toMatchObject({ action: 'check_done', otherDetector: 'ssd' });
    expect(plan(one({ prev: failed('a', 'no_face', { detector: 'ssd' }) }))).toMatchObject({ action: 'check_failure', otherDetector: 'ssd' });
    expect(plan(one({ prev: failed('a', 'no_face', { detector: 'ssd' }) }), { redetect: true })).toMatchObject({ action: 'align', redetect: true });
    expect(plan(one({ prev: ssd, raw: [] }), { redetect: true })).toMatchObject({ action: 'missing', redetect: true });
    // this detector's own lines, and decode errors (no face search), are nobody else's
    expect(plan(one({ prev: ok('a') }), { redetect: true })).toMatchObject({ action: 'check_done', redetect: false });
    expect(plan(one({ prev: ssd }), { detector: 'ssd', redetect: true })).toMatchObject({ action: 'check_done', redetect: false });
    expect(plan(one({ prev: failed('a', 'decode_error') }), { redetect: true }).otherDetector).toBeUndefined();
  });

  it('plans one task per record in data.json order, and lists the overrides of ids not in data.json', () => {
    const input: AlignInput = { ...one(), records: ['c', 'a', 'b'].map(rec), overrides: new Map([['a', { points5: P5 }], ['zz', { points5: P5 }]]) };
    const tasks = [...planAlign(input, POLICY)];
    expect(tasks.map((t) => [t.id, t.action])).toEqual([['c', 'missing'], ['a', 'align'], ['b', 'missing']]);
    expect(tasks[1]!.override).toEqual({ points5: P5 });
    expect([...planAlign(input, POLICY)]).toEqual(tasks);
    expect(unusedOverrides(input)).toEqual(['zz']);
  });
});

const RUN: AlignRunFacts = { root: '/data', invalidRecords: 0, detector: 'mtcnn', unusedOverrides: [], overrideFile: 'o.json', landmarksFile: 'l.jsonl', workers: 1, startupSeconds: 0.5 };
const timings = (s: number) => ({ decode: s, detect: s, landmarks: s, ffhq: s, mtcnn: s, write: s });

describe('align summary (pure)', () => {
  it('adds up the outcomes: states by status and source, lists in data.json order, work of this run only', () => {
    const outcomes: AlignOutcome[] = [
      { id: 'e', index: 4, code: 'no_face', line: failed('e', 'no_face', { faces: 0 }), timings: timings(0.1) },
      { id: 'a', index: 0, code: 'ok', line: ok('a', { faces: 3 }), timings: timings(0.2), redetected: true },
      { id: 'b', index: 1, code: 'already_done', line: ok('b', { detector: 'ssd', faces: 7 }), keptDetector: 'ssd' },
      { id: 'c', index: 2, code: 'kept_failure', line: failed('c', 'no_face', { faces: 0 }) },
      { id: 'd', index: 3, code: 'decode_error', line: { ...failed('d', 'decode_error'), error: 'truncated' }, timings: timings(0.3) },
      { id: 'f', index: 5, code: 'missing_image', line: { id: 'f', status: 'missing_image', source: 'detector', error: NO_RAW_FILE, time: T } },
      { id: 'g', index: 6, code: 'already_done', line: ok('g', { source: 'override' }) },
      // dropped: its earlier line still counts as its state; one never aligned has none
      { id: 'h', index: 7, code: 'dropped', line: ok('h', { source: 'rectangle' }) },
      { id: 'i', index: 8, code: 'dropped' },
    ];
    const facts = emptyAlignFacts();
    const tally = emptyTally(['ok', 'no_face', 'decode_error', 'missing_image', 'already_done', 'kept_failure', 'dropped'] as const);
    for (const o of outcomes) {
      addAlignOutcome(facts, o);
      addOutcome(tally, o);
    }
    expect(facts.facesFound).toBe(3); // the 7 of a kept line were found by an earlier run
    expect(facts.timings.detect).toBeCloseTo(0.6, 10);
    const s = summarizeAlign(tally, facts, RUN, false, 2);
    expect(s).toMatchObject({
      stage: 'align',
      interrupted: false,
      records: 9,
      counts: { ok: 4, no_face: 2, decode_error: 1, missing_image: 1 },
      alignedNow: 1,
      alreadyDone: 2,
      keptFailures: 1,
      processed: 3,
      sources: { detector: 2, rectangle: 1, override: 1 },
      detectors: { mtcnn: 2, ssd: 1 },
      keptOtherDetector: { ssd: 1 },
      redetected: 1,
      noFace: ['c', 'e'],
      decodeErrors: [{ id: 'd', error: 'truncated' }],
      missingImages: [{ id: 'f', error: NO_RAW_FILE }],
      outcomes: { ok: 1, no_face: 1, decode_error: 1, missing_image: 1, already_done: 2, kept_failure: 1, dropped: 2 },
      seconds: 2,
      wallSeconds: 2,
      workers: 1,
      startupSeconds: 0.5,
    });
    // an interrupt that left records undone is one; after all was done it is not
    expect(summarizeAlign(tally, facts, RUN, true, 2).interrupted).toBe(true);
    const finished = emptyTally(['ok', 'no_face', 'decode_error', 'missing_image', 'already_done', 'kept_failure', 'dropped'] as const);
    addOutcome(finished, outcomes[0]!);
    expect(summarizeAlign(finished, facts, RUN, true, 2).interrupted).toBe(false);
    const text = formatAlignSummary(s);
    expect(text).toMatch(/^align: 9 records: 4 ok \(1 aligned now, 2 already done\), 2 no_face, 1 decode_error, 1 missing_image$/m);
    expect(text).toMatch(/kept 1 line of detector ssd as they were/);
    expect(text).toMatch(/3 photos in 2s with 1 worker \(1\.50 photos\/s, start-up 0\.5 s, 3 faces found\); per photo: decode 0\.200 s/);
    expect(text).toMatch(/no face found \(2\): c, e$/m);
  });
});

describe('align run without photos to align (no model needed)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir('ecaf-align-stage-')));
  afterEach(() => cleanup());

  /** done: ok with both files; kept: no_face on the unchanged photo; gone: never crawled; lost: ok but files and photo gone. */
  async function root(): Promise<string> {
    await makeRoot(dir, [
      { id: 'done', bytes: Buffer.from('jpeg?'), crawlStatus: 'ok' },
      { id: 'kept', bytes: Buffer.from('not a face'), crawlStatus: 'ok' },
      { id: 'gone' },
      { id: 'lost' },
    ]);
    const imageData = path.join(dir, 'image_data');
    const st = await stat(path.join(imageData, 'raw', 'kept.jpg'));
    const prev = [ok('done'), failed('kept', 'no_face', { photo_key: `${st.size}:${Math.round(st.mtimeMs)}` }), ok('lost')];
    await writeFile(path.join(imageData, 'landmarks.jsonl'), prev.map((l) => JSON.stringify(l)).join('\n') + '\n');
    for (const [folder, name] of [['img_ffhq', 'done.png'], ['img_mtcnn', 'done.jpg']] as const) {
      await mkdir(path.join(imageData, folder), { recursive: true });
      await writeFile(path.join(imageData, folder, name), 'x');
    }
    return dir;
  }
  const input = async (r: string) => readAlignInput(r, (await loadDataJson(path.join(r, 'image_data', 'data.json'))).records);
  const log = async (r: string) => (await readFile(path.join(r, 'image_data', 'landmarks.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as LandmarksLine);

  it('checks earlier results on disk, logs new missing_image lines once, and starts no worker', async () => {
    const r = await root();
    const seen: string[] = [];
    const first = await runStage(alignStage({ root: r, workers: 1 }), await input(r), { sink: (o) => seen.push(`${o.id}:${o.code}`) });
    expect(seen.sort()).toEqual(['done:already_done', 'gone:missing_image', 'kept:kept_failure', 'lost:missing_image']);
    expect(first).toMatchObject({ interrupted: false, records: 4, workers: 0, processed: 0, counts: { ok: 1, no_face: 1, decode_error: 0, missing_image: 2 } });
    expect(first.missingImages).toEqual([{ id: 'gone', error: NO_RAW_FILE }, { id: 'lost', error: NO_RAW_FILE }]);
    const lines = await log(r);
    expect(lines.slice(3).map((l) => [l.id, l.status, l.error])).toEqual([['gone', 'missing_image', NO_RAW_FILE], ['lost', 'missing_image', NO_RAW_FILE]]);
    const again = await runStage(alignStage({ root: r, workers: 1 }), await input(r));
    expect(again.outcomes).toMatchObject({ already_done: 1, kept_failure: 1, missing_image: 2 });
    expect(await log(r)).toHaveLength(5);
  });

  it('an interrupt before the run drops every record (their earlier lines still count); one after the last outcome is no interrupt', async () => {
    const r = await root();
    const stop = new AbortController();
    stop.abort();
    const dropped = await runStage(alignStage({ root: r, workers: 1 }), await input(r), { signal: stop.signal });
    expect(dropped).toMatchObject({ interrupted: true, records: 4, outcomes: { dropped: 4, already_done: 0 }, counts: { ok: 2, no_face: 1, missing_image: 0 } });
    expect(await log(r)).toHaveLength(3);

    const late = new AbortController();
    let n = 0;
    const s = await runStage(alignStage({ root: r, workers: 1 }), await input(r), { signal: late.signal, sink: () => ++n === 4 && late.abort() });
    expect(late.signal.aborted).toBe(true);
    expect(s).toMatchObject({ interrupted: false, outcomes: { dropped: 0, already_done: 1, kept_failure: 1, missing_image: 2 } });
  });

  it("a shard's select runs only its ids", async () => {
    const r = await root();
    const s = await runStage(alignStage({ root: r, workers: 1 }), await input(r), { select: (t) => t.id === 'done' || t.id === 'gone' });
    expect(s).toMatchObject({ records: 2, outcomes: { already_done: 1, missing_image: 1, kept_failure: 0 } });
  });
});
