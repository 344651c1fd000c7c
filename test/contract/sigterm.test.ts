import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { TEMP_MARKER } from '../../src/util/atomic.js';
import { FACE_API_DEMO_DIR } from '../../src/util/faceapi.js';
import { makeRoot } from '../align/helpers.js';
import { FaultServer, makeImage, serve } from '../crawl/fault-server.js';
import { makeDemoPhotoRoot } from '../benchmark/fixtures.js';
import { writeData } from '../crawl/helpers.js';
import { ECAF_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { randomRecords, writeDataset } from '../pairs/dataset.js';

/**
 * SIGTERM (a scheduler's time limit, scancel, a pod deleted) stops every stage as Ctrl-C does:
 * in-flight work finished or dropped, the summary printed, exit 143, no temp file and no torn
 * jsonl line left, and a rerun ends where an uninterrupted run ends.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('ecaf-sigterm-')));
afterAll(() => cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; with `stopWhen`, send SIGTERM (once) as soon as it holds, checked on output and every 50 ms. */
function ecaf(args: string[], stopWhen?: (out: Run) => boolean | Promise<boolean>): Promise<Run> {
  const child = spawn(process.execPath, [ECAF_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Run = { code: null, stdout: '', stderr: '' };
  let sent = false;
  // one check at a time: two that both saw `sent` false would send a second SIGTERM, which quits at once (no summary)
  let checking = false;
  const check = async () => {
    if (sent || checking || !stopWhen) return;
    checking = true;
    try {
      if (await stopWhen(out)) {
        sent = true;
        child.kill('SIGTERM');
      }
    } finally {
      checking = false;
    }
  };
  child.stdout.on('data', (d: Buffer) => ((out.stdout += d.toString()), void check()));
  child.stderr.on('data', (d: Buffer) => ((out.stderr += d.toString()), void check()));
  const timer = setInterval(() => void check(), 50);
  // 'close', not 'exit': under load the last output can come after the exit event
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(timer);
      if (stopWhen && !sent) throw new Error(`ecaf ${args.join(' ')} ended before it could be stopped:\n${out.stdout}${out.stderr}`);
      resolve({ ...out, code });
    }),
  );
}

/** Every file under `root`, relative, sorted. */
async function files(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(root, { withFileTypes: true, recursive: true })) if (e.isFile() || e.isSymbolicLink()) out.push(path.relative(root, path.join(e.parentPath, e.name)));
  return out.sort();
}

/** No temp file anywhere, and every jsonl log made of whole lines, each valid JSON. */
async function expectClean(root: string): Promise<void> {
  const all = await files(root);
  expect(all.filter((f) => path.basename(f).includes(TEMP_MARKER))).toEqual([]);
  for (const f of all.filter((n) => n.endsWith('.jsonl'))) {
    const text = await fs.readFile(path.join(root, f), 'utf8');
    if (text === '') continue;
    expect(text.endsWith('\n')).toBe(true);
    // one assertion over all lines: an expect() per line of a 180,000-line log cost 8 s
    const torn = text.slice(0, -1).split('\n').filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect({ file: f, torn }).toEqual({ file: f, torn: [] });
  }
}

/** Each id's last state in a jsonl log, without the fields that differ between runs (time, attempts, detail). */
async function lastStates(file: string): Promise<Record<string, unknown>[]> {
  const last = new Map<string, Record<string, unknown>>();
  for (const line of (await fs.readFile(file, 'utf8')).trim().split('\n')) {
    const { time: _t, attempts: _a, detail: _d, ...rest } = JSON.parse(line) as Record<string, unknown>;
    last.set(String(rest.id), rest);
  }
  return [...last.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

const lineCount = async (file: string) => (await fs.readFile(file, 'utf8').catch(() => '')).split('\n').length - 1;

describe('SIGTERM stops every stage cleanly (exit 143) and a rerun completes it', () => {
  it('crawl', async () => {
    const server = await FaultServer.start();
    try {
      const records: [string, string][] = [];
      for (let i = 0; i < 60; i++) {
        const img = await makeImage(300 + i);
        // latency keeps requests in flight when the signal comes
        records.push([`c_${String(i).padStart(2, '0')}`, server.route(`/c/${i}.jpg`, (q, res, hit) => void setTimeout(() => serve(img)(q, res, hit), 30))]);
      }
      const [stopped, whole] = [path.join(dir, 'crawl-stopped'), path.join(dir, 'crawl-whole')];
      await writeData(stopped, records);
      await writeData(whole, records);
      const args = (root: string) => ['crawl', '--root', root, '--allow-private', '--concurrency', '4', '--per-host', '4', '--retries', '0'];
      const log = path.join(stopped, 'image_data', 'crawl.jsonl');

      const first = await ecaf(args(stopped), async () => (await lineCount(log)) >= 10);
      expect(first.code).toBe(143);
      expect(first.stderr).toMatch(/terminated \(SIGTERM\)/);
      expect(first.stdout).toMatch(/^crawl interrupted: 60 records/m);
      expect(first.stdout).toMatch(/rerun the same command to go on/);
      expect(await lineCount(log)).toBeLessThan(60);
      await expectClean(stopped);

      expect((await ecaf(args(stopped))).code).toBe(0);
      expect((await ecaf(args(whole))).code).toBe(0);
      expect(await lastStates(log)).toEqual(await lastStates(path.join(whole, 'image_data', 'crawl.jsonl')));
      expect(await files(path.join(stopped, 'image_data', 'raw'))).toEqual(await files(path.join(whole, 'image_data', 'raw')));
    } finally {
      await server.close();
    }
  }, 120_000);

  it('align', async () => {
    const photo = await sharp(path.join(FACE_API_DEMO_DIR, 'sample5.jpg')).resize(640).jpeg().toBuffer();
    const photos = Array.from({ length: 6 }, (_, i) => ({ id: `a_${i}`, bytes: photo, crawlStatus: 'ok' as const }));
    const [stopped, whole] = [path.join(dir, 'align-stopped'), path.join(dir, 'align-whole')];
    await makeRoot(stopped, photos);
    await makeRoot(whole, photos);
    const args = (root: string) => ['align', '--root', root, '--workers', '1', '--ffhq-size', '128', '--ffhq-fast'];
    const log = path.join(stopped, 'image_data', 'landmarks.jsonl');

    const first = await ecaf(args(stopped), async () => (await lineCount(log)) >= 2);
    expect(first.code).toBe(143);
    expect(first.stdout).toMatch(/interrupted/);
    const done = await lineCount(log);
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(6);
    await expectClean(stopped);

    expect((await ecaf(args(stopped))).code).toBe(0);
    expect((await ecaf(args(whole))).code).toBe(0);
    expect(await lastStates(log)).toEqual(await lastStates(path.join(whole, 'image_data', 'landmarks.jsonl')));
    for (const folder of ['img_mtcnn', 'img_ffhq']) {
      const names = await files(path.join(whole, 'image_data', folder));
      expect(names).toHaveLength(6);
      expect(await files(path.join(stopped, 'image_data', folder))).toEqual(names);
      for (const n of names) expect(await fs.readFile(path.join(stopped, 'image_data', folder, n))).toEqual(await fs.readFile(path.join(whole, 'image_data', folder, n)));
    }
  }, 180_000);

  it('pairs', async () => {
    // enough records that reading data.json lasts well past its first progress line
    const root = path.join(dir, 'pairs');
    await writeDataset(root, randomRecords(7, 20_000, 8));
    const args = ['pairs', '--root', root, '--protocol', 'cross-age', '--per-fold', '50'];
    const first = await ecaf(args, (out) => /reading data\.json/.test(out.stderr));
    expect(first.code).toBe(143);
    expect(first.stdout).toMatch(/^pairs interrupted: .*cross-age\.txt not written; rerun the same command$/m);
    await expectClean(root);
    expect(await files(path.join(root, 'image_pairs')).catch(() => [])).toEqual([]);

    const rerun = await ecaf(args);
    expect(rerun.code).toBe(0);
    const list = await fs.readFile(path.join(root, 'image_pairs', 'cross-age.txt'), 'utf8');
    // the uninterrupted result: the same command again writes the same bytes
    expect((await ecaf(args)).code).toBe(0);
    expect(await fs.readFile(path.join(root, 'image_pairs', 'cross-age.txt'), 'utf8')).toBe(list);
    expect(list.split('\n')).toHaveLength(10 * 100 + 1);
  }, 120_000);

  it('benchmark', async () => {
    const [stopped, whole] = [path.join(dir, 'bench-stopped'), path.join(dir, 'bench-whole')];
    await makeDemoPhotoRoot(stopped);
    await makeDemoPhotoRoot(whole);
    const args = (root: string) => ['benchmark', '--root', root, '--model', 'builtin', '--batch', '2', '--folds', '2'];

    // the first progress line (piped: one per tenth of the work) means some batches are done
    const first = await ecaf(args(stopped), (out) => /embed builtin \d+\/40/.test(out.stderr));
    expect(first.code).toBe(143);
    expect(first.stdout).toMatch(/^benchmark interrupted after \d+ of 40 images; their embeddings are cached/);
    await expectClean(stopped);
    await expect(fs.access(path.join(stopped, 'reports'))).rejects.toThrow();

    const rerun = await ecaf(args(stopped));
    expect(rerun.code).toBe(0);
    expect((await ecaf(args(whole))).code).toBe(0);
    const report = async (root: string) => {
      const r = JSON.parse(await fs.readFile(path.join(root, 'reports', 'builtin', 'demo', 'report.json'), 'utf8')) as { accuracy: unknown; pairs: { scored: number; positives: number } };
      return { accuracy: r.accuracy, scored: r.pairs.scored, positives: r.pairs.positives };
    };
    expect(await report(stopped)).toEqual(await report(whole));
  }, 240_000);
});
