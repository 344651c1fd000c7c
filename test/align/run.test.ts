import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { align, readOverrides, type LandmarksLine } from '../../src/align/index.js';
import { formatAlignSummary } from '../../src/cli/summaries/align.js';
import { applySimilarity, type Point } from '../../src/align/similarity.js';
import { ARCFACE_TEMPLATE_112, points5From68 } from '../../src/align/template.js';
import { roundPoint } from '../../src/align/line.js';
import { DataJsonError } from '../../src/dataset/load.js';
import { readJsonl, readLastStates } from '../../src/util/jsonl.js';
import { FACE_API_DEMO_DIR } from '../../src/util/faceapi.js';
import { ECAF_BIN } from '../helpers/cli.js';
import { UsageError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRoot, type RawPhoto } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** A valid PNG whose header claims width x height (no pixel data behind it to speak of). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29); // IHDR's CRC covers its type and data
  return png;
}

const landmarksOf = async (root: string) => readLastStates<LandmarksLine>(path.join(root, 'image_data', 'landmarks.jsonl'));

describe('align run: statuses, bad input, resume, override', () => {
  it('gives every bad photo its status without stopping, resumes, and lets the override win', async () => {
    // a 960 px copy of sample3 keeps detection cheap
    const photo = await sharp(path.join(FACE_API_DEMO_DIR, 'sample3.jpg')).resize(960).jpeg({ quality: 92 }).toBuffer();
    const full = await readFile(path.join(FACE_API_DEMO_DIR, 'sample3.jpg'));
    // hand-placed points: the template moved into the photo by a known similarity
    const placed: Point[] = ARCFACE_TEMPLATE_112.map((p) => applySimilarity({ a: 1.5, b: 0.2, tx: 300, ty: 150 }, p));
    const photos: RawPhoto[] = [
      { id: 'good', bytes: photo, crawlStatus: 'ok' },
      { id: 'manual', bytes: photo, crawlStatus: 'ok' },
      { id: 'truncated', bytes: full.subarray(0, full.length >> 1), crawlStatus: 'ok' },
      { id: 'empty', bytes: Buffer.alloc(0), crawlStatus: 'ok' },
      { id: 'text', bytes: Buffer.from('<html>not an image</html>'), ext: 'png', crawlStatus: 'ok' },
      { id: 'dot', bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer(), ext: 'png', crawlStatus: 'ok' },
      { id: 'huge', bytes: await pngClaiming(100_000, 100_000), ext: 'png', crawlStatus: 'ok' },
      { id: 'never_crawled' },
      { id: 'failed', bytes: photo, crawlStatus: 'failed' },
    ];
    await makeRoot(dir, photos);
    const overrideFile = path.join(dir, 'image_data', 'landmarks-override.json');
    await writeFile(overrideFile, JSON.stringify({ manual: { points5: placed }, nobody: { points5: placed } }));

    const first = await align({ root: dir, workers: 1, ffhqSize: 128, progress: false });
    expect(first.counts).toEqual({ ok: 2, no_face: 1, decode_error: 4, missing_image: 2 });
    expect(first.sources).toEqual({ detector: 1, rectangle: 0, override: 1 });
    expect(first.noFace).toEqual(['dot']);
    expect(first.decodeErrors.map((e) => e.id)).toEqual(['truncated', 'empty', 'text', 'huge']);
    expect(first.decodeErrors.find((e) => e.id === 'huge')!.error).toMatch(/100000x100000 is over 60 megapixels/);
    expect(first.missingImages).toEqual([
      { id: 'never_crawled', error: 'no file in image_data/raw/' },
      { id: 'failed', error: 'crawl status failed (http_404)' },
    ]);
    expect(first.unusedOverrides).toEqual(['nobody']);
    const text = formatAlignSummary(first);
    expect(text).toMatch(/9 records: 2 ok \(2 aligned now, 0 already done\), 1 no_face, 4 decode_error, 2 missing_image/);
    expect(text).toMatch(/no face found \(1\): dot/);
    expect(text).toContain(overrideFile);

    const lines = await landmarksOf(dir);
    expect(lines.get('good')).toMatchObject({ status: 'ok', source: 'detector', faces: 3, ffhq_size: 128, mtcnn_size: 112 });
    expect(lines.get('manual')).toMatchObject({ status: 'ok', source: 'override', points5: placed.map(([x, y]) => [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000]) });
    expect(lines.get('manual')!.landmarks68).toBeUndefined();
    for (const id of ['good', 'manual']) {
      const ffhq = await sharp(path.join(dir, 'image_data', 'img_ffhq', `${id}.png`)).metadata();
      const mtcnn = await sharp(path.join(dir, 'image_data', 'img_mtcnn', `${id}.jpg`)).metadata();
      expect([ffhq.width, ffhq.height, ffhq.format, mtcnn.width, mtcnn.height, mtcnn.format]).toEqual([128, 128, 'png', 112, 112, 'jpeg']);
    }

    // rerun: aligned ids and unchanged failures are kept, the missing ones not logged again
    const before = await countLines(dir);
    const second = await align({ root: dir, workers: 1, ffhqSize: 128, progress: false });
    expect(second).toMatchObject({ alreadyDone: 2, keptFailures: 5, alignedNow: 0, processed: 0 });
    expect(second.counts).toEqual(first.counts);
    expect(await countLines(dir)).toBe(before);
    expect(formatAlignSummary(second)).toMatch(/5 no_face\/decode_error results of earlier runs kept: photo and face rectangle unchanged$/m);
    expect(second.outcomes).toEqual({ ok: 0, no_face: 0, decode_error: 0, missing_image: 2, already_done: 2, kept_failure: 5, dropped: 0 });
    // --retry-failed tries them all again; a replaced photo is tried again without it
    const retried = await align({ root: dir, workers: 1, ffhqSize: 128, retryFailed: true, progress: false });
    expect(retried).toMatchObject({ alreadyDone: 2, keptFailures: 0, processed: 5 });
    expect(retried.counts).toEqual(first.counts);
    expect(await countLines(dir)).toBe(before + 5);
    await writeFile(path.join(dir, 'image_data', 'raw', 'dot.png'), await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer());
    expect(await align({ root: dir, workers: 1, ffhqSize: 128, progress: false })).toMatchObject({ keptFailures: 4, processed: 1 });

    // a changed override redoes that id only; a new size redoes all
    await writeFile(overrideFile, JSON.stringify({ manual: { points5: placed.map(([x, y]) => [x + 2, y]) } }));
    const third = await align({ root: dir, workers: 1, ffhqSize: 128, progress: false });
    expect(third).toMatchObject({ alreadyDone: 1, alignedNow: 1 });
    expect((await landmarksOf(dir)).get('manual')!.points5![0]![0]).toBeCloseTo(placed[0]![0] + 2, 2);
    const fourth = await align({ root: dir, workers: 1, ffhqSize: 128, mtcnnSize: 96, ffhqFast: true, progress: false });
    expect(fourth).toMatchObject({ alreadyDone: 0, alignedNow: 2 });
    expect((await landmarksOf(dir)).get('good')).toMatchObject({ mtcnn_size: 96, ffhq_fast: true });
  }, 120_000);

  it('--detector ssd keeps the previous path; lines of another detector (or of the version before MTCNN) are kept unless --redetect', async () => {
    const photo = await sharp(path.join(FACE_API_DEMO_DIR, 'sample3.jpg')).resize(960).jpeg({ quality: 92 }).toBuffer();
    await makeRoot(dir, [{ id: 'p', bytes: photo, crawlStatus: 'ok' }]);
    const log = path.join(dir, 'image_data', 'landmarks.jsonl');
    const ssd = await align({ root: dir, workers: 1, ffhqSize: 128, progress: false, detector: 'ssd' });
    expect(ssd).toMatchObject({ detector: 'ssd', detectors: { ssd: 1 }, alignedNow: 1 });
    const old = (await landmarksOf(dir)).get('p')!;
    expect(old).toMatchObject({ status: 'ok', detector: 'ssd' });
    // SSD has no points of its own: the 5 come from the 68
    expect(old.points5).toEqual(points5From68(old.landmarks68!).map(roundPoint));

    // a line written before the detector was recorded reads as SSD's
    const { detector: _, ...legacy } = old;
    await writeFile(log, JSON.stringify(legacy) + '\n');
    const kept = await align({ root: dir, workers: 1, ffhqSize: 128, progress: false });
    expect(kept).toMatchObject({ detector: 'mtcnn', alreadyDone: 1, processed: 0, keptOtherDetector: { ssd: 1 }, detectors: { ssd: 1 } });
    expect(formatAlignSummary(kept)).toMatch(/kept 1 line of detector ssd as they were$/m);
    expect(kept).toMatchObject({ stage: 'align', interrupted: false, outcomes: { already_done: 1 } });

    const redone = await align({ root: dir, workers: 1, ffhqSize: 128, progress: false, redetect: true });
    expect(redone).toMatchObject({ redetected: 1, alignedNow: 1, keptOtherDetector: {}, detectors: { mtcnn: 1 } });
    expect(formatAlignSummary(redone)).toMatch(/redetected 1 id that another detector had done, with mtcnn/);
    const now = (await landmarksOf(dir)).get('p')!;
    expect(now).toMatchObject({ status: 'ok', source: 'detector', detector: 'mtcnn', faces: 3 });
    expect(now.landmarks68).toHaveLength(68);
    // MTCNN's own 5 points, near (not equal to) those the 68 give
    const from68 = points5From68(now.landmarks68!);
    const ipd = Math.hypot(now.points5![1]![0] - now.points5![0]![0], now.points5![1]![1] - now.points5![0]![1]);
    const gap = now.points5!.map((p, i) => Math.hypot(p[0] - from68[i]![0], p[1] - from68[i]![1]) / ipd);
    expect(Math.max(...gap)).toBeGreaterThan(0);
    expect(gap.reduce((a, b) => a + b, 0) / 5).toBeLessThan(0.15);
    // and a rerun leaves it alone
    expect(await align({ root: dir, workers: 1, ffhqSize: 128, progress: false, redetect: true })).toMatchObject({ alreadyDone: 1, processed: 0, redetected: 0 });
  }, 120_000);

  it('refuses an invalid data.json unless --skip-invalid, and a malformed override file', async () => {
    await makeRoot(dir, [{ id: 'x', record: { age: -4 } }]);
    await expect(align({ root: dir, progress: false })).rejects.toThrow(DataJsonError);
    const s = await align({ root: dir, skipInvalid: true, progress: false });
    expect(s).toMatchObject({ records: 0, invalidRecords: 1, processed: 0 });

    const file = path.join(dir, 'override.json');
    await writeFile(file, JSON.stringify({ a: { points5: [[1, 2], [3, 4]] } }));
    await expect(readOverrides(file)).rejects.toThrow(/override.json: id "a": field "points5": must be a list of 5 \[x, y\] points/);
    await writeFile(file, JSON.stringify({ a: { landmarks68: Array.from({ length: 68 }, (_, i) => (i === 7 ? [1, 'x'] : [i, i])) } }));
    await expect(readOverrides(file)).rejects.toThrow(/id "a": field "landmarks68\[7\]"/);
    await writeFile(file, '{"a": ');
    await expect(readOverrides(file)).rejects.toBeInstanceOf(UsageError);
    expect((await readOverrides(path.join(dir, 'none.json'))).size).toBe(0);
  });
});

async function countLines(root: string): Promise<number> {
  let n = 0;
  for await (const _ of readJsonl(path.join(root, 'image_data', 'landmarks.jsonl'))) n++;
  return n;
}

describe('ecaf align (CLI, built)', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [ECAF_BIN, 'align', ...args], { encoding: 'utf8' });

  it('shows its flags and examples', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--ffhq-size', '--mtcnn-size', '--workers', '--force', '--skip-invalid', '--ffhq-fast', 'Examples:']) expect(r.stdout).toContain(flag);
  });

  it('exits 2 on bad flags and on a missing data.json', () => {
    const workers = cli(['--workers', '0', '--root', dir]);
    expect(workers.status).toBe(2);
    expect(workers.stderr).toBe('ecaf: --workers: expected an integer in 1..256, got 0\n');
    expect(cli(['--min-face', '8', '--root', dir]).stderr).toBe('ecaf: --min-face: expected a number >= 12, got 8\n');
    expect(cli(['--ffhq-size', 'big', '--root', dir]).status).toBe(2);
    const missing = cli(['--root', dir]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/data\.json: expected a records file \(image_data\/data\.json of the dataset root\), found nothing there \(--root names the dataset root\)\n/);
  });
});

describe('ecaf align interrupted (CLI, built)', () => {
  it('stops on SIGINT with exit 130 after saving what was done, and a rerun goes on from there', async () => {
    const photo = await sharp(path.join(FACE_API_DEMO_DIR, 'sample5.jpg')).resize(800).jpeg().toBuffer();
    const ids = Array.from({ length: 8 }, (_, i) => `p_${i}`);
    await makeRoot(dir, ids.map((id) => ({ id, bytes: photo, crawlStatus: 'ok' as const })));
    const log = path.join(dir, 'image_data', 'landmarks.jsonl');
    const child = spawn(process.execPath, [ECAF_BIN, 'align', '--root', dir, '--workers', '1', '--ffhq-size', '128'], { stdio: 'pipe' });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // interrupt once two photos are logged
    for (let waited = 0; (await countLines(dir).catch(() => 0)) < 2; waited += 100) {
      if (waited > 60_000) throw new Error('align logged nothing within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    const text = await readFile(log, 'utf8');
    const done = text.trim().split('\n').map((l) => JSON.parse(l) as LandmarksLine);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(8);
    expect(done.every((l) => l.status === 'ok')).toBe(true);

    const rest = await align({ root: dir, workers: 1, ffhqSize: 128, progress: false });
    expect(rest).toMatchObject({ alreadyDone: done.length, alignedNow: 8 - done.length });
    expect(rest.counts.ok).toBe(8);
  }, 120_000);
});
