/**
 * npm run bench:shard: the goals of docs/cluster.md.
 * 1. crawl of 5000 ~50 KB JPEGs from a local server process: one process against 4 shard
 *    processes at once (what 4 array tasks on this machine do), same total parallelism.
 * 2. align: one process with 2 workers against 2 shards of 1 worker each, at once.
 * 3. partition + merge overhead per 100,000 records: shardOf over 100,000 ids, and reading
 *    100,000 crawl lines from 4 shard logs merged against from one log.
 * Options: --images N (5000) --rounds N (1) --repeat N (2: copies of the 6 demo photos) --records N (100000)
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetLayout } from '../dist/dataset/layout.js';
import { readStageStates, shardOf } from '../dist/distribute/index.js';
import { FACE_API_DEMO_DIR } from '../dist/util/faceapi.js';
import { readLastStates } from '../dist/util/jsonl.js';
import { crawlBenchImages, startCrawlServer } from './crawl-images.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ECAF = path.join(ROOT, 'bin', 'ecaf.js');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const IMAGES = arg('images', 5000);
const ROUNDS = arg('rounds', 1);
const REPEAT = arg('repeat', 2);
const RECORDS = arg('records', 100_000);
const PARALLEL = 64;

/** Run `node ecaf ...args` per entry of `runs`, all at once: wall seconds until the last ends. */
async function together(runs: string[][]): Promise<number> {
  const t = performance.now();
  await Promise.all(
    runs.map(
      (args) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [ECAF, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.on('data', (d) => (err += d));
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ecaf ${args.join(' ')}: exit ${code}\n${err.slice(-2000)}`))));
        }),
    ),
  );
  return (performance.now() - t) / 1000;
}

async function newRoot(work: string, name: string, records: object[]): Promise<string> {
  const root = path.join(work, name);
  await fs.mkdir(path.join(root, 'image_data'), { recursive: true });
  await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(records));
  return root;
}

async function crawlBench(work: string, lines: string[]): Promise<void> {
  const server = await startCrawlServer(await crawlBenchImages(IMAGES));
  const records = Array.from({ length: IMAGES }, (_, i) => ({ id: `img_${i}`, image_url: `http://127.0.0.1:${server.port}/img/${i}.jpg` }));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const one = await newRoot(work, `crawl-one-${round}`, records);
      const flags = ['--allow-private', '--per-host', String(PARALLEL)];
      const single = await together([['crawl', '--root', one, '--concurrency', String(PARALLEL), ...flags]]);
      const sharded = await newRoot(work, `crawl-4-${round}`, records);
      const four = await together([0, 1, 2, 3].map((k) => ['crawl', '--root', sharded, '--shard', `${k}/4`, '--concurrency', String(PARALLEL / 4), ...flags]));
      const got = (await fs.readdir(path.join(sharded, 'image_data', 'raw'))).length;
      if (got !== IMAGES) throw new Error(`4 shards stored ${got} of ${IMAGES}`);
      lines.push(`| crawl ${IMAGES} images | ${round} | ${single.toFixed(2)} | ${four.toFixed(2)} (4 shards x concurrency ${PARALLEL / 4}) | ${(single / four).toFixed(2)} |`);
      await fs.rm(one, { recursive: true });
      await fs.rm(sharded, { recursive: true });
    }
  } finally {
    server.stop();
  }
}

async function alignBench(work: string, lines: string[]): Promise<void> {
  const photos = (await fs.readdir(FACE_API_DEMO_DIR)).filter((n) => n.endsWith('.jpg')).sort();
  const make = async (name: string) => {
    const ids: object[] = [];
    const root = await newRoot(work, name, []);
    await fs.mkdir(path.join(root, 'image_data', 'raw'));
    for (let r = 0; r < REPEAT; r++) {
      for (const p of photos) {
        const id = `${p.replace('.jpg', '')}_${r}`;
        await fs.copyFile(path.join(FACE_API_DEMO_DIR, p), path.join(root, 'image_data', 'raw', `${id}.jpg`));
        ids.push({ id, image_url: `http://127.0.0.1/${id}.jpg` });
      }
    }
    await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(ids));
    return root;
  };
  const one = await make('align-one');
  const single = await together([['align', '--root', one, '--workers', '2']]);
  const two = await make('align-two');
  const sharded = await together([0, 1].map((k) => ['align', '--root', two, '--shard', `${k}/2`, '--workers', '1']));
  const n = REPEAT * photos.length;
  const split = [0, 1].map((k) => photos.flatMap((p) => Array.from({ length: REPEAT }, (_, r) => `${p.replace('.jpg', '')}_${r}`)).filter((id) => shardOf(id, 2) === k).length);
  lines.push(`| align ${n} demo photos (1920 px) | 1 | ${single.toFixed(2)} (2 workers) | ${sharded.toFixed(2)} (2 shards x 1 worker: ${split.join(' + ')} photos) | ${(single / sharded).toFixed(2)} |`);
}

async function overheadBench(work: string, lines: string[]): Promise<void> {
  const ids = Array.from({ length: RECORDS }, (_, i) => `Person_${String(i % 50000).padStart(5, '0')}_${String(i).padStart(7, '0')}`);
  let t = 0;
  let sum = 0;
  let partitionS = Infinity;
  for (let round = 0; round < 3; round++) {
    t = performance.now();
    sum = 0;
    for (const id of ids) sum += shardOf(id, 4);
    partitionS = Math.min(partitionS, (performance.now() - t) / 1000);
  }
  const time = new Date().toISOString();
  const line = (id: string) => JSON.stringify({ id, url: `https://images.example.org/${id}.jpg`, status: 'ok', bytes: 51234, sha256: 'ab'.repeat(32), format: 'jpg', width: 320, height: 240, attempts: 1, time });
  const one = path.join(work, 'merge-one');
  const four = path.join(work, 'merge-four');
  await fs.mkdir(path.join(one, 'image_data'), { recursive: true });
  await fs.mkdir(path.join(four, 'image_data', 'logs'), { recursive: true });
  await fs.writeFile(datasetLayout(one).crawlLog, ids.map(line).join('\n') + '\n');
  for (let k = 0; k < 4; k++) await fs.writeFile(path.join(four, 'image_data', 'logs', `crawl.${k}-of-4.jsonl`), ids.filter((id) => shardOf(id, 4) === k).map(line).join('\n') + '\n');
  const best = async (f: () => Promise<unknown>) => {
    let b = Infinity;
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      await f();
      b = Math.min(b, (performance.now() - t) / 1000);
    }
    return b;
  };
  const single = await best(() => readLastStates(datasetLayout(one).crawlLog));
  const merged = await best(async () => {
    const s = await readStageStates(datasetLayout(four), 'crawl');
    if (s.size !== RECORDS) throw new Error(`merged ${s.size}`);
  });
  lines.push(
    '',
    `partition + merge, ${RECORDS} records (best of 3): shardOf ${partitionS.toFixed(3)} s (checksum ${sum}); last states from one log ${single.toFixed(3)} s, ` +
      `from 4 shard logs merged by time ${merged.toFixed(3)} s; overhead ${(partitionS + merged - single).toFixed(3)} s (goal < 1 s per 100,000)`,
  );
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-bench-shard-'));
  const lines = [
    `shard benchmark (${new Date().toISOString()}, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`,
    '',
    '| what | round | one process, wall s | shards at once, wall s | speed-up (goal: crawl >= 1.0, align >= 0.9) |',
    '|---|---|---|---|---|',
  ];
  try {
    const only = process.argv.find((a) => ['crawl', 'align', 'overhead'].includes(a));
    if (!only || only === 'overhead') await overheadBench(work, lines);
    if (!only || only === 'crawl') await crawlBench(work, lines);
    if (!only || only === 'align') await alignBench(work, lines);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  lines.push('', `load after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:shard failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
