/**
 * npm run bench:crawl: ecaf crawl against aria2c (raw download, no checks) on 5000 ~50 KB JPEGs
 * served by a separate local process, same parallelism; then validation of a 1,000,000-record
 * data.json and a crawl pass over 1,000,000 records whose state is already known (memory).
 * Options: --images N (5000) --rounds N (1) --records N (1000000)
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CRAWL_BENCH_CACHE, crawlBenchImages, startCrawlServer } from './crawl-images.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CACHE = CRAWL_BENCH_CACHE;
const ECAF = path.join(ROOT, 'bin', 'ecaf.js');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const IMAGES = arg('images', 5000);
const ROUNDS = arg('rounds', 1);
const RECORDS = arg('records', 1_000_000);
const PARALLEL = 64;

/** A data.json of `n` records (Face++-style attributes, ~320 bytes each), cached. */
async function bigDataJson(n: number): Promise<string> {
  const file = path.join(CACHE, `data-${n}.json`);
  if (existsSync(file)) return file;
  await fs.mkdir(CACHE, { recursive: true });
  const out = createWriteStream(file);
  out.write('[\n');
  for (let i = 0; i < n; i++) {
    const id = `Person_${String(i % 50000).padStart(5, '0')}_${i % 2 ? 'adult' : 'child'}_${String(i).padStart(7, '0')}`;
    const rec = {
      id,
      image_url: `https://images.example.org/faces/${i % 97}/${id}.jpg`,
      source_url: `https://www.example.org/people/${i % 50000}/page.html`,
      faceplusplus: { attributes: { age: { value: i % 80 }, gender: { value: i % 3 ? 'Male' : 'Female' } }, face_rectangle: { top: 120, left: 200, width: 310, height: 310 } },
    };
    if (!out.write(JSON.stringify(rec) + (i < n - 1 ? ',\n' : '\n'))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve) => out.end(']\n', resolve));
  return file;
}

interface Timed {
  seconds: number;
  /** User + system CPU seconds of the process (a fairer figure than wall time on a shared machine). */
  cpu: number;
  maxRssMb: number;
  code: number | null;
  stdout: string;
}

/** Run a command under /usr/bin/time: wall seconds and peak RSS of the process. */
function timed(cmd: string, args: string[]): Timed {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const rss = /MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0) process.stderr.write(r.stderr.slice(-2000));
  return { seconds, cpu: rss ? Number(rss[2]) + Number(rss[3]) : NaN, maxRssMb: rss ? Number(rss[1]) / 1024 : NaN, code: r.status, stdout: r.stdout };
}

async function main(): Promise<void> {
  const dir = await crawlBenchImages(IMAGES);
  const server = await startCrawlServer(dir);
  const urls = Array.from({ length: IMAGES }, (_, i) => `http://127.0.0.1:${server.port}/img/${i}.jpg`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-bench-crawl-'));
  await fs.writeFile(path.join(work, 'urls.txt'), urls.join('\n') + '\n');
  const results: { tool: string; round: number; seconds: number; cpu: number; rate: number; rssMb: number }[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const ariaDir = path.join(work, `aria-${round}`);
      const a = timed('aria2c', ['-j', String(PARALLEL), '-x', '1', '-i', path.join(work, 'urls.txt'), '-d', ariaDir, '--quiet=true']);
      const got = (await fs.readdir(ariaDir)).length;
      if (a.code !== 0 || got !== IMAGES) throw new Error(`aria2c: exit ${a.code}, ${got} files`);
      results.push({ tool: 'aria2c', round, seconds: a.seconds, cpu: a.cpu, rate: IMAGES / a.seconds, rssMb: a.maxRssMb });

      const root = path.join(work, `ecaf-${round}`);
      await fs.mkdir(path.join(root, 'image_data'), { recursive: true });
      await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(urls.map((url, i) => ({ id: `img_${i}`, image_url: url }))));
      const e = timed(process.execPath, [ECAF, 'crawl', '--root', root, '--concurrency', String(PARALLEL), '--per-host', String(PARALLEL), '--allow-private']);
      if (e.code !== 0 || !e.stdout.includes(`${IMAGES} ok, 0 failed`)) throw new Error(`ecaf crawl: exit ${e.code}\n${e.stdout}`);
      results.push({ tool: 'ecaf crawl', round, seconds: e.seconds, cpu: e.cpu, rate: IMAGES / e.seconds, rssMb: e.maxRssMb });
      await fs.rm(ariaDir, { recursive: true });
      await fs.rm(root, { recursive: true });
    }
  } finally {
    server.stop();
  }

  // memory and time over many records: validation, then a crawl pass whose states are all known
  const big = await bigDataJson(RECORDS);
  const v = timed(process.execPath, [ECAF, 'validate', '--data', big]);
  if (v.code !== 0) throw new Error('validate failed');
  const root = path.join(work, 'resume');
  await fs.mkdir(path.join(root, 'image_data'), { recursive: true });
  await writeKnownFailures(big, path.join(root, 'image_data', 'crawl.jsonl'));
  const r = timed(process.execPath, [ECAF, 'crawl', '--root', root, '--data', big]);
  if (r.code !== 0 || !r.stdout.includes(`${RECORDS} earlier failures kept`)) throw new Error(`resume pass: exit ${r.code}\n${r.stdout}`);
  await fs.rm(work, { recursive: true });

  const best = (tool: string) => Math.max(...results.filter((x) => x.tool === tool).map((x) => x.rate));
  const lines = [
    `crawl benchmark: ${IMAGES} JPEGs of ~50 KB from a local server process, ${PARALLEL} in parallel (${new Date().toISOString()}, ${os.cpus().length} cores)`,
    '',
    '| tool | round | wall s | images/s | CPU s (user+sys) | peak RSS MB |',
    '|---|---|---|---|---|---|',
    ...results.map((x) => `| ${x.tool} | ${x.round} | ${x.seconds.toFixed(2)} | ${x.rate.toFixed(0)} | ${x.cpu.toFixed(2)} | ${x.rssMb.toFixed(0)} |`),
    '',
    `best ecaf / best aria2c: ${(best('ecaf crawl') / best('aria2c')).toFixed(2)} (goal >= 1.0)`,
    `ecaf peak RSS: ${Math.max(...results.filter((x) => x.tool === 'ecaf crawl').map((x) => x.rssMb)).toFixed(0)} MB (goal < 300)`,
    `ecaf validate, ${RECORDS} records (${((await fs.stat(big)).size / 1e6).toFixed(0)} MB): ${v.seconds.toFixed(2)} s (CPU ${v.cpu.toFixed(2)} s), peak RSS ${v.maxRssMb.toFixed(0)} MB (goal < 10 s)`,
    `ecaf crawl over ${RECORDS} records already in crawl.jsonl (both passes + resume state, no requests): ${r.seconds.toFixed(2)} s (CPU ${r.cpu.toFixed(2)} s), peak RSS ${r.maxRssMb.toFixed(0)} MB (goal < 300 MB)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** A crawl.jsonl saying every record of `data` failed: a rerun keeps them all (no network). */
async function writeKnownFailures(data: string, out: string): Promise<void> {
  const { iterateDataJson } = await import('../dist/dataset/load.js');
  const w = createWriteStream(out);
  const time = new Date().toISOString();
  for await (const rec of iterateDataJson(data)) {
    const line = JSON.stringify({ id: rec.id, url: rec.imageUrl, status: 'failed', error: 'http_404', http_status: 404, attempts: 1, time });
    if (!w.write(line + '\n')) await new Promise<void>((r) => w.once('drain', () => r()));
  }
  await new Promise<void>((resolve) => w.end(resolve));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:crawl failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
