import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { LandmarksLine } from '../../src/align/line.js';
import type { BenchmarkReport } from '../../src/benchmark/index.js';
import type { CrawlLine } from '../../src/crawl/record.js';
import { datasetLayout, ffhqFile, mtcnnFile } from '../../src/dataset/layout.js';
import { loadDataJson } from '../../src/dataset/load.js';
import { runDemo, type DemoResult } from '../../src/demo/index.js';
import { readPairFile, type PairsSidecar } from '../../src/pairs/index.js';
import { sheetGeometry } from '../../src/sheet/layout.js';
import { UsageError } from '../../src/util/errors.js';
import { readLastStates } from '../../src/util/jsonl.js';
import { tempDir } from '../helpers/tmp.js';
import { runDemoInWorker } from './demo-worker.js';

/** The whole demo, once, in a temporary folder; every test below checks one kind of artifact. */
let dir: string;
let cleanup: () => Promise<void>;
let root: string;
let result: DemoResult;
const said: string[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('ecaf-demo-test-'));
  root = path.join(dir, 'ecaf-demo');
  const run = await runDemoInWorker(root);
  result = run.result;
  said.push(...run.said);
}, 600_000);
afterAll(() => cleanup?.());

const BROKEN: Record<string, [string, string]> = {
  broken_404_001: ['failed', 'http_404'],
  broken_html_001: ['failed', 'not_image'],
  broken_truncated_001: ['failed', 'truncated'],
  broken_noai_001: ['skipped', 'robots_disallowed'],
};

describe('ecaf demo, end to end', () => {
  it('crawls every picture and records the broken ones with their error codes', async () => {
    const layout = datasetLayout(root);
    const { records } = await loadDataJson(layout.dataJson);
    expect(records.length).toBe(result.records);
    expect(result.identities).toBe(22);
    expect(records).toHaveLength(22 * 4 + 5);
    const states = await readLastStates<CrawlLine>(layout.crawlLog);
    expect(states.size).toBe(records.length);
    for (const [id, [status, error]] of Object.entries(BROKEN)) expect([id, states.get(id)!.status, states.get(id)!.error]).toEqual([id, status, error]);
    const ok = [...states.values()].filter((s) => s.status === 'ok');
    expect(ok).toHaveLength(records.length - 4);
    expect(result.crawl.byStatus).toEqual({ ok: ok.length, failed: 3, skipped: 1 });
    for (const s of ok) {
      const meta = await sharp(path.join(layout.raw, `${s.id}.${s.format}`)).metadata();
      expect([s.id, meta.width, meta.height]).toEqual([s.id, s.width, s.height]);
    }
    // the pictures come in the formats the site serves them in
    expect(states.get('sample1_face1_adult_003')!.format).toBe('png');
    expect(states.get('sample1_face1_child_001')!.format).toBe('webp');
  });

  it('aligns the faces: 512x512 FFHQ and 112x112 MTCNN, the intended face of each group photo, no face in the scenery', async () => {
    const layout = datasetLayout(root);
    const marks = await readLastStates<LandmarksLine>(layout.landmarksLog);
    const { records } = await loadDataJson(layout.dataJson);
    for (const id of Object.keys(BROKEN)) expect(marks.get(id)!.status).toBe('missing_image');
    expect(marks.get('scenery_001')!.status).toBe('no_face');
    const ok = [...marks.values()].filter((m) => m.status === 'ok');
    expect(ok.length).toBe(result.align.counts.ok);
    expect(ok.length).toBeGreaterThanOrEqual(70);
    for (const m of ok) {
      const ffhq = await sharp(ffhqFile(layout, m.id)).metadata();
      const mtcnn = await sharp(mtcnnFile(layout, m.id)).metadata();
      expect([m.id, ffhq.format, ffhq.width, ffhq.height, mtcnn.format, mtcnn.width, mtcnn.height]).toEqual([m.id, 'png', 512, 512, 'jpeg', 112, 112]);
    }
    // every group photo is aligned on the face its Face++-style rectangle names
    for (const rec of records.filter((r) => r.faceRectangle)) {
      const m = marks.get(rec.id)!;
      expect([rec.id, m.status]).toEqual([rec.id, 'ok']);
      const r = rec.faceRectangle!;
      const [x, y, w, h] = m.box!;
      const ix = Math.max(0, Math.min(x + w, r.left + r.width) - Math.max(x, r.left));
      const iy = Math.max(0, Math.min(y + h, r.top + r.height) - Math.max(y, r.top));
      const iou = (ix * iy) / (w * h + r.width * r.height - ix * iy);
      expect([rec.id, iou > 0.5]).toEqual([rec.id, true]);
    }
    expect(records.filter((r) => r.faceRectangle)).toHaveLength(22);
  });

  it('writes both pair files: they parse, match their sidecars, and pair only aligned images', async () => {
    const layout = datasetLayout(root);
    const aligned = new Set([...(await readLastStates<LandmarksLine>(layout.landmarksLog)).values()].filter((m) => m.status === 'ok').map((m) => `${m.id}.jpg`));
    expect(result.pairs.map((p) => p.protocol)).toEqual(['cross-age', 'children']);
    for (const made of result.pairs) {
      const list = await readPairFile(made.file);
      const meta = JSON.parse(await readFile(made.sidecar, 'utf8')) as PairsSidecar;
      expect([list.format, list.pairs.length, list.folds]).toEqual(['ecaf', meta.pairs, meta.folds]);
      expect(list.pairs.length).toBeGreaterThanOrEqual(40);
      expect(list.pairs.filter((p) => p.same)).toHaveLength(meta.positives);
      const person = (image: string) => image.replace(/_(adult|child)_\d+\.jpg$/, '');
      for (const p of list.pairs) {
        expect([p.a, aligned.has(p.a), p.b, aligned.has(p.b)]).toEqual([p.a, true, p.b, true]);
        expect([p.a, p.b, person(p.a) === person(p.b)]).toEqual([p.a, p.b, p.same]);
        if (made.protocol === 'children') expect([p.a, p.b, [p.a, p.b].filter((i) => i.includes('_child_')).length]).toEqual([p.a, p.b, 1]);
      }
    }
  });

  it('scores both pair files with the builtin model: parsable reports, accuracies in [0, 1]', async () => {
    expect(result.benchmark).toHaveLength(2);
    for (const r of result.benchmark) {
      const report = JSON.parse(await readFile(path.join(r.dir, 'report.json'), 'utf8')) as BenchmarkReport;
      expect(report.model.kind).toBe('builtin');
      expect(report.pairs.scored).toBe(report.pairs.total);
      for (const v of [report.accuracy.mean, ...report.accuracy.folds.map((f) => f.accuracy), ...report.tarAtFar.map((t) => t.tar), report.roc.auc]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(report.accuracy.folds).toHaveLength(4);
      const csv = (await readFile(path.join(r.dir, 'scores.csv'), 'utf8')).trim().split('\n');
      expect(csv).toHaveLength(report.pairs.total + 1);
      expect(await readFile(path.join(r.dir, 'roc.svg'), 'utf8')).toMatch(/^<svg|^<\?xml/);
      expect(await readFile(path.join(r.dir, 'report.md'), 'utf8')).toMatch(/Accuracy/);
    }
  });

  it('draws the contact sheet: one cell per id', async () => {
    const meta = await sharp(result.sheet.file).metadata();
    const g = sheetGeometry(result.records, 112, 6);
    expect([meta.format, meta.width, meta.height]).toEqual(['png', g.width, g.height]);
    expect(result.sheet.counts).toEqual({ ok: result.align.counts.ok, no_face: result.align.counts.no_face, missing_image: 4 });
  });

  it('links every artifact from reports/index.md, and every link resolves', async () => {
    const index = await readFile(result.index, 'utf8');
    const links = [...index.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    for (const name of ['contact-sheet.png', 'cross-age.txt', 'children.json', 'report.md', 'roc.svg', 'scores.csv', 'data.json', 'crawl.jsonl', 'landmarks.jsonl']) {
      expect([name, links.some((l) => l.endsWith(name))]).toEqual([name, true]);
    }
    for (const l of links) expect([l, existsSync(path.resolve(path.dirname(result.index), l))]).toEqual([l, true]);
  });

  it('says what its identities are, what it invented, and that its numbers mean nothing', async () => {
    const out = said.join('\n');
    const index = await readFile(result.index, 'utf8');
    for (const text of [out, index]) {
      expect(text).toMatch(/each of the 22 faces face-api finds/);
      expect(text).toMatch(/INVENTED: the small blurred crop is labelled "child"/);
      expect(text).toMatch(/These numbers say NOTHING about real models/);
    }
    expect(out).toMatch(/Where everything is/);
  });

  it('resumes: a rerun reuses the faces, fetches and aligns nothing again, and writes the same pairs', async () => {
    const before = await Promise.all(result.pairs.map((p) => readFile(p.file, 'utf8')));
    const { result: again, said: rerunSaid } = await runDemoInWorker(root);
    expect(rerunSaid.join('\n')).toMatch(/found by the last run/);
    expect(again.crawl.attempted).toBe(0);
    expect(again.crawl.alreadyOk).toBe(result.crawl.byStatus.ok);
    expect(again.align.alignedNow).toBe(0);
    expect(again.align.counts).toEqual(result.align.counts);
    expect(await Promise.all(again.pairs.map((p) => readFile(p.file, 'utf8')))).toEqual(before);
  }, 300_000);

  it('refuses a folder whose data.json it did not write', async () => {
    const foreign = path.join(dir, 'mine');
    await mkdir(path.join(foreign, 'image_data'), { recursive: true });
    await writeFile(path.join(foreign, 'image_data', 'data.json'), JSON.stringify([{ id: 'a_1', url: 'https://example.org/a.jpg' }]));
    await expect(runDemo({ out: foreign, progress: false })).rejects.toThrow(UsageError);
    await expect(runDemo({ out: foreign, progress: false })).rejects.toThrow(/data\.json: expected a data\.json of the demo \(every demo run overwrites it\), found records the demo did not write/);
  });
});
