/**
 * The whole chain on a real one-node Slurm (scripts/slurm/): crawl, align and the embedding step
 * as arrays of 3 tasks over a local HTTP server, one crawl task cancelled with scancel mid-run
 * and resubmitted; the results must equal a one-process run. Started here when .ci/run has not.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { shardOf } from '../../src/distribute/index.js';
import { PACKAGE_ROOT } from '../../src/util/paths.js';
import { runEcafWith } from '../helpers/cli.js';
import { SHARED_DATA, tempDir } from '../helpers/tmp.js';

const execP = promisify(execFile);
const IN_CI = process.env.CI === 'true';
const TASKS = 3;

/** Start (or find) the cluster: SLURM_CONF, or why it cannot run. */
function startSlurm(): { conf?: string; startedHere: boolean; state: string; reason?: string } {
  const state = path.join(os.tmpdir(), 'ecaf-slurm');
  if (spawnSync('sbatch', ['--version']).error) return { startedHere: false, state, reason: 'sbatch is not installed (apt-get install slurmctld slurmd slurm-client munge)' };
  if (process.env.SLURM_CONF && spawnSync('scontrol', ['ping'], { encoding: 'utf8' }).stdout?.includes('UP')) return { conf: process.env.SLURM_CONF, startedHere: false, state };
  const wasUp = existsSync(path.join(state, 'slurmctld.pid'));
  const r = spawnSync('bash', [path.join(PACKAGE_ROOT, 'scripts', 'slurm', 'start-cluster.sh'), state], { encoding: 'utf8', timeout: 60000 });
  const conf = /export SLURM_CONF=(\S+)/.exec(r.stdout ?? '')?.[1];
  if (r.status !== 0 || !conf) return { startedHere: false, state, reason: `the one-node cluster did not start: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}` };
  return { conf, startedHere: !wasUp, state };
}

const slurm = SHARED_DATA ? startSlurm() : { startedHere: false, state: '', reason: 'ECAF_SHARED_DATA is not set (the bbt photos)' };
if (slurm.reason) {
  if (IN_CI) throw new Error(`CI=true: the Slurm test must run, but ${slurm.reason}`);
  console.log(`Slurm chain test skipped: ${slurm.reason}`);
}
const maybe = slurm.conf ? describe : describe.skip;

// child processes get the environment explicitly: jest's process.env is the test's own copy
const env = { ...process.env, SLURM_CONF: slurm.conf };
const exec = (cmd: string, args: string[]) => execP(cmd, args, { env });

/** `node bin/ecaf.js ...` with the cluster's SLURM_CONF: its exit code and output. */
const runEcaf = (...args: string[]) => runEcafWith(env, args);

afterAll(() => {
  if (slurm.startedHere) spawnSync('bash', [path.join(PACKAGE_ROOT, 'scripts', 'slurm', 'stop-cluster.sh'), slurm.state]);
});

/** The 40 bbt crops as web photos: ids <name>_<n>, ages 10 years apart so cross-age pairs exist. */
async function photos(): Promise<{ id: string; file: string; age: number }[]> {
  const bbt = path.join(SHARED_DATA!, 'bbt');
  const rows = (await fs.readFile(path.join(bbt, 'labels.csv'), 'utf8')).trim().split('\n').slice(1);
  const seen = new Map<string, number>();
  return rows.map((row) => {
    const [file, identity] = row.split(',') as [string, string];
    const n = (seen.get(identity) ?? 0) + 1;
    seen.set(identity, n);
    return { id: `${identity}_${n}`, file: path.join(bbt, file), age: 10 + 10 * n };
  });
}

interface Served {
  base: string;
  hits: Map<string, number>;
  /** ms each response waits. */
  delay: number;
  close: () => Promise<void>;
}

async function serve(files: Map<string, string>): Promise<Served> {
  const hits = new Map<string, number>();
  const served: Partial<Served> = { hits, delay: 0 };
  const server = http.createServer((req, res) => {
    const id = (req.url ?? '').slice(1);
    hits.set(id, (hits.get(id) ?? 0) + 1);
    const file = files.get(id);
    if (!file) return void res.writeHead(404).end();
    setTimeout(() => void fs.readFile(file).then((b) => res.writeHead(200, { 'content-type': 'image/png', 'content-length': b.length }).end(b)), served.delay);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  served.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  served.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return served as Served;
}

async function makeRoot(root: string, base: string, list: { id: string; age: number }[]): Promise<void> {
  await fs.mkdir(path.join(root, 'image_data'), { recursive: true });
  await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(list.map((p) => ({ id: p.id, image_url: `${base}/${p.id}`, age: p.age }))));
}

const ALIGN = ['--ffhq-size', '64', '--ffhq-fast'];
const PAIRS = ['--protocol', 'cross-age', '--folds', '2', '--per-fold', '6', '--allow-fewer'];
const BENCH = ['--model', 'builtin'];

/** name -> sha256 of every file in a folder. */
async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await fs.readdir(dir)).sort()) out[n] = createHash('sha256').update(await fs.readFile(path.join(dir, n))).digest('hex');
  return out;
}

/** Every line of every crawl log (main and shards). */
async function crawlLines(root: string): Promise<{ id: string; status: string }[]> {
  const files = [path.join(root, 'image_data', 'crawl.jsonl')];
  const logs = path.join(root, 'image_data', 'logs');
  if (existsSync(logs)) files.push(...(await fs.readdir(logs)).filter((n) => n.startsWith('crawl.')).map((n) => path.join(logs, n)));
  const lines: { id: string; status: string }[] = [];
  for (const f of files.filter(existsSync)) {
    for (const l of (await fs.readFile(f, 'utf8')).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as { id: string; status: string });
  }
  return lines;
}

const jobState = async (id: string): Promise<string[]> => {
  const { stdout } = await exec('scontrol', ['show', 'job', id, '-o']);
  return [...stdout.matchAll(/JobState=(\S+)/g)].map((m) => m[1]!);
};

/** Wait until none of `ids` is pending or running; their (array task) states. */
async function waitJobs(ids: string[], timeoutMs: number): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const states = (await Promise.all(ids.map(jobState))).flat();
    if (states.every((s) => !['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED'].includes(s))) return states;
    if (Date.now() > end) throw new Error(`Slurm jobs ${ids.join(',')} still ${states.join(',')} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const jobIds = (stdout: string): string[] => [...stdout.matchAll(/submitted \S+: job (\d+)/g)].map((m) => m[1]!);

maybe('the chain on a real Slurm (one-node cluster of scripts/slurm/)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('ecaf-slurm-chain-'));
  });
  afterAll(() => cleanup?.());

  it('arrays of 3 tasks, one crawl task cancelled and resubmitted, give what one process gives', async () => {
    const list = await photos();
    const server = await serve(new Map(list.map((p) => [p.id, p.file])));
    try {
      // one process
      const one = path.join(dir, 'one');
      await makeRoot(one, server.base, list);
      for (const args of [['crawl', '--allow-private'], ['align', '--workers', '2', ...ALIGN], ['pairs', ...PAIRS], ['benchmark', ...BENCH]]) {
        const r = await runEcaf(args[0]!, '--root', one, ...args.slice(1));
        expect({ args, code: r.code, stderr: r.code ? r.stderr : '' }).toEqual({ args, code: 0, stderr: '' });
      }
      const oneHits = new Map(server.hits);
      server.hits.clear();

      // the crawl array alone, slowed down; task 1 cancelled once it has stored some ids
      const root = path.join(dir, 'sharded');
      await makeRoot(root, server.base, list);
      server.delay = 400;
      const common = ['--root', root, '--tasks', String(TASKS), '--cpus-per-task', '1', '--submit'];
      const first = await runEcaf('slurm', 'crawl', ...common, '--crawl-args=--allow-private --concurrency 1');
      expect([first.code, first.stderr]).toEqual([0, '']);
      const [crawlJob] = jobIds(first.stdout);
      const log1 = path.join(root, 'image_data', 'logs', `crawl.1-of-${TASKS}.jsonl`);
      const mine = list.filter((p) => shardOf(p.id, TASKS) === 1).length;
      for (const end = Date.now() + 120000; ; ) {
        const n = (await fs.readFile(log1, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
        if (n >= 2) break;
        if (Date.now() > end) throw new Error('crawl task 1 stored nothing in 120 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      await exec('scancel', [`${crawlJob}_1`]);
      const states = await waitJobs([crawlJob!], 180000);
      expect(states).toContain('CANCELLED');
      const before = await crawlLines(root);
      const doneBefore = new Set(before.filter((l) => l.status === 'ok').map((l) => l.id));
      expect(before.filter((l) => shardOf(l.id, TASKS) === 1).length).toBeLessThan(mine);

      // resubmitted: the whole chain
      server.delay = 0;
      const chain = await runEcaf(
        'slurm', 'crawl', ...common, '--chain',
        '--crawl-args=--allow-private', `--align-args=${ALIGN.join(' ')}`, `--pairs-args=${PAIRS.join(' ')}`, `--benchmark-args=${BENCH.join(' ')}`,
      );
      expect([chain.code, chain.stderr]).toEqual([0, '']);
      const ids = jobIds(chain.stdout);
      expect(ids).toHaveLength(5);
      const end = await waitJobs(ids, 480000);
      if (!end.every((s) => s === 'COMPLETED')) {
        const logs = path.join(root, 'slurm', 'logs');
        const outs = await Promise.all((await fs.readdir(logs)).map(async (n) => `${n}:\n${await fs.readFile(path.join(logs, n), 'utf8')}`));
        throw new Error(`jobs ended ${end.join(',')}:\n${outs.join('\n')}`);
      }

      // no finished id fetched again, none twice in the logs
      for (const id of doneBefore) expect([id, server.hits.get(id)]).toEqual([id, 1]);
      for (const p of list) expect(server.hits.get(p.id) ?? 0).toBeLessThanOrEqual(2);
      const okLines = (await crawlLines(root)).filter((l) => l.status === 'ok').map((l) => l.id);
      expect(okLines.length).toBe(new Set(okLines).size);
      expect(new Set(okLines).size).toBe([...oneHits.keys()].length);

      // the same outputs as one process
      for (const sub of ['img_mtcnn', 'img_ffhq']) expect(await digests(path.join(root, 'image_data', sub))).toEqual(await digests(path.join(one, 'image_data', sub)));
      expect(Object.keys(await digests(path.join(one, 'image_data', 'img_mtcnn'))).length).toBeGreaterThanOrEqual(8);
      const pairs = (r: string) => fs.readFile(path.join(r, 'image_pairs', 'cross-age.txt'));
      expect((await pairs(root)).equals(await pairs(one))).toBe(true);
      const report = async (r: string) => JSON.parse(await fs.readFile(path.join(r, 'reports', 'builtin', 'cross-age', 'report.json'), 'utf8')) as { accuracy: { mean: number }; speed: { embedded: number; fromCache: number } };
      const [a, b] = [await report(root), await report(one)];
      expect(a.accuracy.mean).toBe(b.accuracy.mean);
      // the scoring job found every embedding the array tasks cached
      expect(a.speed.embedded).toBe(0);
      const status = await runEcaf('status', '--root', root);
      expect(status.stdout).toContain('crawl     ok 40  failed 0  pending 0');
    } finally {
      await server.close();
    }
  }, 900000);
});
