/** @jest-environment ./test/helpers/onnx-environment.cjs */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { auditDir, runAudit } from '../../src/audit/index.js';
import { hashOfGrey, lowDct } from '../../src/audit/phash.js';
import { FACE_API_DEMO_DIR } from '../../src/util/faceapi.js';
import { runEcaf } from '../helpers/cli.js';

/** The DCT-II by its definition, one coefficient at a time: the test's own. */
function dctByDefinition(g: Float64Array, u: number, v: number): number {
  let s = 0;
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) s += g[y * 32 + x]! * Math.cos(((2 * x + 1) * u * Math.PI) / 64) * Math.cos(((2 * y + 1) * v * Math.PI) / 64);
  return s;
}

describe('the perceptual hash', () => {
  it('takes the 8x8 lowest DCT-II coefficients, as the definition gives them, and their median', () => {
    let s = 9;
    const g = Float64Array.from({ length: 1024 }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 255);
    const c = lowDct(g);
    for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) expect(c[v * 8 + u]).toBeCloseTo(dctByDefinition(g, u, v), 6);
    const [hi, lo] = hashOfGrey(g);
    const ac = Array.from(c.subarray(1)).sort((a, b) => a - b);
    const median = (ac[31]! + ac[32]!) / 2;
    const bits = Array.from(c, (x) => (x > median ? '1' : '0')).join('');
    expect(hi.toString(2).padStart(32, '0') + lo.toString(2).padStart(32, '0')).toBe(bits);
  });
});

/** A face-api sample photo as a 112x112 "aligned" face, optionally altered as a re-posted copy is. */
async function face(sample: number, alter?: 'jpeg60' | 'scale85' | 'crop3'): Promise<Buffer> {
  const base = sharp(path.join(FACE_API_DEMO_DIR, `sample${sample}.jpg`)).resize(112, 112, { fit: 'cover' });
  if (alter === 'jpeg60') return base.jpeg({ quality: 60 }).toBuffer();
  if (alter === 'scale85') return sharp(await base.resize(95, 95).jpeg({ quality: 90 }).toBuffer()).resize(112, 112).jpeg({ quality: 95 }).toBuffer();
  if (alter === 'crop3') return sharp(await base.raw().toBuffer(), { raw: { width: 112, height: 112, channels: 3 } }).extract({ left: 3, top: 3, width: 106, height: 106 }).resize(112, 112).jpeg({ quality: 95 }).toBuffer();
  return base.jpeg({ quality: 95 }).toBuffer();
}

describe('ecaf audit on real photos', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-audit-'));
    const data = path.join(root, 'image_data');
    await fs.mkdir(path.join(data, 'img_mtcnn'), { recursive: true });
    const records: object[] = [];
    const crawl: string[] = [];
    const landmarks: string[] = [];
    const add = async (id: string, identity: string, bytes: Buffer, age: number, sha = createHash('sha256').update(bytes).digest('hex')) => {
      await fs.writeFile(path.join(data, 'img_mtcnn', `${id}.jpg`), bytes);
      records.push({ id, url: `http://127.0.0.1/${id}.jpg`, identity, age });
      crawl.push(JSON.stringify({ id, url: `http://127.0.0.1/${id}.jpg`, status: 'ok', sha256: sha, time: '2026-12-01T00:00:00.000Z' }));
      landmarks.push(JSON.stringify({ id, status: 'ok', source: 'detector', time: '2026-12-01T00:00:01.000Z' }));
    };
    // six people, two photos each (the second flipped: another photo of them, not a copy)
    for (let p = 1; p <= 6; p++) {
      await add(`p${p}_adult_001`, `p${p}`, await face(p), 30);
      await add(`p${p}_adult_002`, `p${p}`, await sharp(await face(p)).flop().jpeg({ quality: 95 }).toBuffer(), 45);
    }
    // planted near duplicates of p1, p2, p3 under other people's names, and one photo crawled twice (same bytes)
    await add('p4_adult_003', 'p4', await face(1, 'jpeg60'), 30);
    await add('p5_adult_003', 'p5', await face(2, 'scale85'), 30);
    await add('p6_adult_003', 'p6', await face(3, 'crop3'), 30);
    await add('p2_adult_004', 'p2', await face(6), 30);
    await fs.writeFile(path.join(data, 'data.json'), JSON.stringify(records));
    await fs.writeFile(path.join(data, 'crawl.jsonl'), `${crawl.join('\n')}\n`);
    await fs.writeFile(path.join(data, 'landmarks.jsonl'), `${landmarks.join('\n')}\n`);
  }, 60_000);
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('finds every planted copy (re-encoded, rescaled, cropped; identical bytes) and nothing else, in the documented audit.json', async () => {
    const run = await runAudit({ root, model: 'builtin', progress: false, log: () => undefined });
    expect(run.outcomes.embedded + run.outcomes.cached).toBe(16);
    const report = JSON.parse(await fs.readFile(path.join(run.dir, 'audit.json'), 'utf8'));
    // the schema of docs/formats.md
    expect(Object.keys(report).sort()).toEqual(['date', 'duplicates', 'images', 'inconsistent', 'model', 'outliers', 'pairFiles', 'pairs', 'thresholds', 'tool', 'version']);
    for (const d of report.duplicates) {
      expect(d).toEqual(expect.objectContaining({ ids: expect.any(Array), kind: expect.stringMatching(/^(exact|near)$/), similarity: expect.any(Number), identities: expect.any(Array), confidence: expect.any(Number) }));
    }
    const groups = report.duplicates.map((d: { kind: string; ids: string[] }) => `${d.kind}:${d.ids.join(',')}`).sort();
    expect(groups).toEqual([
      'exact:p2_adult_004,p6_adult_001',
      'near:p1_adult_001,p4_adult_003',
      'near:p2_adult_001,p5_adult_003',
      'near:p3_adult_001,p6_adult_003',
    ]);
    expect(report.model).toMatchObject({ name: 'builtin', dim: 128 });
    expect(await fs.stat(path.join(run.dir, 'audit.md'))).toBeTruthy();
    expect(await fs.stat(path.join(run.dir, 'flagged.png'))).toBeTruthy();
  }, 120_000);

  it('the neighbour search in shards (--search-only --shard K/N, then a plain run that merges them) finds the same', async () => {
    const dir = auditDir({ root, model: 'builtin' });
    const before = JSON.parse(await fs.readFile(path.join(dir, 'audit.json'), 'utf8'));
    const part = await runAudit({ root, model: 'builtin', searchOnly: true, shard: { index: 0, count: 2, source: 'flag', from: '0/2' }, progress: false, log: () => undefined });
    expect(part.outcomes).toMatchObject({ embedded: 0, cached: 16 });
    expect(part.neighbours).toBe(path.join(dir, 'neighbours', '0-of-2.bin'));
    const cli = await runEcaf('audit', '--root', root, '--search-only', '--shard', '1/2');
    expect([cli.code, cli.stderr]).toEqual([0, '']);
    expect(cli.stdout).toContain(`search-only: this shard's neighbours in ${path.join(dir, 'neighbours', '1-of-2.bin')}`);
    const lines: string[] = [];
    const merged = await runAudit({ root, model: 'builtin', progress: false, log: (l) => lines.push(l) });
    expect(lines).toContain('neighbours: 2 of 2 shard files merged');
    for (const key of ['duplicates', 'outliers', 'inconsistent', 'pairs']) expect(merged.report![key as 'duplicates']).toEqual(before[key]);
    // the steps are two: one at a time, and a search shard needs its shard
    expect((await runEcaf('audit', '--root', root, '--search-only')).code).toBe(2);
    expect((await runEcaf('audit', '--root', root, '--shard', '0/2')).code).toBe(2);
  }, 120_000);

  it('pairs --exclude audit leaves the flagged images out, and its .json says how many and why', async () => {
    const r = await runEcaf('pairs', '--root', root, '--protocol', 'cross-age', '--folds', '2', '--per-fold', '2', '--min-age-gap', '10', '--allow-fewer', '--exclude', 'audit');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const sidecar = JSON.parse(await fs.readFile(path.join(root, 'image_pairs', 'cross-age.json'), 'utf8'));
    expect(sidecar.excluded).toEqual({ source: path.join('reports', 'builtin', 'audit', 'audit.json'), images: 8, flagged: { 'exact-duplicate': 1, 'exact-duplicate across identities': 1, 'near-duplicate': 3, 'near-duplicate across identities': 3 } });
    const list = await fs.readFile(path.join(root, 'image_pairs', 'cross-age.txt'), 'utf8');
    for (const id of ['p4_adult_003', 'p5_adult_003', 'p6_adult_003', 'p2_adult_004', 'p6_adult_001']) expect(list).not.toContain(id);
    const bad = await runEcaf('pairs', '--root', root, '--protocol', 'cross-age', '--exclude', 'audit:nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(path.join('nope', 'audit', 'audit.json'));
  }, 60_000);
});
