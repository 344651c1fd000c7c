import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { crawl, type CrawlOptions } from '../../src/crawl/index.js';
import { ECAF_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { FaultServer, makeImage, serve } from './fault-server.js';
import { crawlLines, lastStates, rawNames, writeData } from './helpers.js';

let server: FaultServer;
const dirs: (() => Promise<void>)[] = [];
const N = 120;
let records: [string, string][];

beforeAll(async () => {
  server = await FaultServer.start();
  records = [];
  for (let i = 0; i < N; i++) {
    const img = await makeImage(100 + i);
    // a little latency so a run lasts long enough to be killed halfway
    const url = server.route(`/img/${i}.jpg`, (q, res, hit) => void setTimeout(() => serve(img)(q, res, hit), 15));
    records.push([`person_${String(i).padStart(3, '0')}`, url]);
  }
  records.push(['gone_1', server.url('/img/gone.jpg')]); // a 404: failed in every run
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((c) => c()));
});

async function newRoot(): Promise<string> {
  const { dir, cleanup } = await tempDir('ecaf-resume-');
  dirs.push(cleanup);
  await writeData(dir, records);
  return dir;
}

const opts: Partial<CrawlOptions> = { allowPrivate: true, retries: 0, backoffMs: 10, timeoutS: 5, progress: false };

/** Run the CLI; resolves with its exit code once it exits (optionally signalled when crawl.jsonl has `killAt` lines). */
function runCli(root: string, extra: string[] = [], kill?: { signal: NodeJS.Signals; atLines: number }): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const child = spawn(process.execPath, [ECAF_BIN, 'crawl', '--root', root, '--allow-private', '--concurrency', '4', '--per-host', '4', '--retries', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.resume();
  let timer: NodeJS.Timeout | undefined;
  if (kill) {
    const log = path.join(root, 'image_data', 'crawl.jsonl');
    timer = setInterval(async () => {
      const text = await fs.readFile(log, 'utf8').catch(() => '');
      if (text.split('\n').length > kill.atLines) {
        clearInterval(timer);
        child.kill(kill.signal);
      }
    }, 10);
  }
  // 'close', not 'exit': under load the last stdout chunk can come after the exit event
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, stdout });
    }),
  );
}

/** What a finished crawl leaves: each id's outcome (without times and attempts) and raw/. */
async function outcome(root: string) {
  const states = [...(await lastStates(root)).values()].map(({ time: _t, attempts: _a, detail: _d, ...rest }) => rest);
  states.sort((a, b) => a.id.localeCompare(b.id));
  return { states, raw: await rawNames(root) };
}

describe('crawl resume', () => {
  it('a run killed with SIGKILL, then rerun, ends like an uninterrupted run', async () => {
    const whole = await newRoot();
    expect((await runCli(whole)).code).toBe(0);
    const killed = await newRoot();
    const first = await runCli(killed, [], { signal: 'SIGKILL', atLines: 30 });
    expect(first.signal).toBe('SIGKILL');
    const recorded = await lastStates(killed);
    expect(recorded.size).toBeGreaterThan(0);
    expect(recorded.size).toBeLessThan(N);
    // nothing recorded as ok lacks its file
    for (const s of recorded.values()) if (s.status === 'ok') expect(existsSync(path.join(killed, 'image_data/raw', `${s.id}.jpg`))).toBe(true);
    const second = await runCli(killed);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/already downloaded/);
    expect(await outcome(killed)).toEqual(await outcome(whole));
    expect((await rawNames(killed)).filter((n) => n.includes('.ecaf-tmp-'))).toEqual([]);
  });

  it('SIGINT stops, flushes and exits 130; the rerun finishes the rest', async () => {
    const root = await newRoot();
    const first = await runCli(root, [], { signal: 'SIGINT', atLines: 20 });
    expect(first.code).toBe(130);
    expect(first.stdout).toMatch(/crawl interrupted/);
    const lines = await crawlLines(root);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(N + 1);
    const text = await fs.readFile(path.join(root, 'image_data/crawl.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true); // flushed whole lines
    expect((await runCli(root)).code).toBe(0);
    const states = await lastStates(root);
    expect(states.size).toBe(N + 1);
    expect([...states.values()].filter((s) => s.status === 'ok').length).toBe(N);
  });

  it('skips verified downloads and earlier failures; refetches missing or altered files; --retry-failed retries failures only', async () => {
    const root = await newRoot();
    const first = await crawl({ root, ...opts });
    expect(first.byStatus).toEqual({ ok: N, failed: 1, skipped: 0 });
    expect(first.byError).toEqual({ http_404: 1 });
    const hitsBefore = server.hits('/img/0.jpg') + server.hits('/img/1.jpg') + server.hits('/img/2.jpg');

    const again = await crawl({ root, ...opts });
    expect(again).toMatchObject({ attempted: 0, alreadyOk: N, keptFailed: 1, imagesInRaw: N });

    await fs.rm(path.join(root, 'image_data/raw/person_000.jpg'));
    await fs.appendFile(path.join(root, 'image_data/raw/person_001.jpg'), 'x');
    const repaired = await crawl({ root, ...opts });
    expect(repaired).toMatchObject({ attempted: 2, refetched: 2, alreadyOk: N - 2, keptFailed: 1 });
    expect(server.hits('/img/0.jpg') + server.hits('/img/1.jpg') + server.hits('/img/2.jpg')).toBe(hitsBefore + 2);

    server.route('/img/gone.jpg', serve(await makeImage(999)));
    const retried = await crawl({ root, ...opts, retryFailed: true });
    expect(retried).toMatchObject({ attempted: 1, alreadyOk: N, byStatus: { ok: 1, failed: 0, skipped: 0 } });
    expect((await lastStates(root)).get('gone_1')).toMatchObject({ status: 'ok' });
    expect(await rawNames(root)).toHaveLength(N + 1);
  });

  it('fetches again an id whose URL changed in data.json', async () => {
    const root = await newRoot();
    const first = await crawl({ root, ...opts });
    const changed = records.map(([id, url]): [string, string] => [id, id === 'person_005' ? server.url('/img/6.jpg') : url]);
    await writeData(root, changed);
    const rerun = await crawl({ root, ...opts });
    expect(rerun).toMatchObject({ attempted: 1, alreadyOk: first.byStatus.ok - 1 });
    expect((await lastStates(root)).get('person_005')!.url).toBe(server.url('/img/6.jpg'));
  });

  it('sweeps temp files a killed run left in raw/', async () => {
    const root = await newRoot();
    await fs.mkdir(path.join(root, 'image_data/raw'), { recursive: true });
    await fs.writeFile(path.join(root, 'image_data/raw/.ecaf-tmp-person_000.jpg.abc123'), 'partial');
    await crawl({ root, ...opts });
    expect((await rawNames(root)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
