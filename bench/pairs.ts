/**
 * `npm run bench:pairs`: both protocols on a synthetic dataset of 1,000,000 records of 100,000
 * identities (4 child and 6 adult photos each, all aligned), each in its own process so that
 * its peak RSS is its own. Goal: under 10 s and under 1 GB each. Loading data.json is timed
 * apart from drawing the pairs. The dataset is written once to $TMPDIR and reused.
 *
 * ECAF_BENCH_RECORDS=100000 npm run bench:pairs   for a smaller run.
 *
 * npm run bench:pairs -- --one-fold   200,000 positives (and as many negatives) in one fold from
 * 600,000 records, with landmarks.jsonl once compact (as align writes it) and once spaced as
 * Python's json.dumps writes it. Goal: under 2 minutes each.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { link, mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { validateDataJson } from '../dist/dataset/index.js';
import { makePairs, Prng, readAlignedIds, type PairProtocol } from '../dist/pairs/index.js';

const ONE_FOLD = process.argv.includes('--one-fold');
const RECORDS = Number(process.env.ECAF_BENCH_RECORDS ?? (ONE_FOLD ? 600_000 : 1_000_000));
const PER_IDENTITY = 10;
/** --one-fold: one fold of this many positives and as many negatives. */
const ONE_FOLD_POSITIVES = 200_000;
const ONE_FOLD_GOAL_S = 120;

/** Stream-write a file line by line, honouring backpressure; renamed into place when complete. */
async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp);
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  await rename(tmp, file);
}

function* dataJson(prng: Prng): Generator<string> {
  yield '[\n';
  for (let k = 0; k < RECORDS / PER_IDENTITY; k++) {
    const name = `Person_${String(k).padStart(6, '0')}`;
    const gender = prng.below(2) === 0 ? 'Male' : 'Female';
    for (let j = 0; j < PER_IDENTITY; j++) {
      const child = j < 4;
      const id = `${name}_${child ? 'child' : 'adult'}_${String(j).padStart(3, '0')}`;
      const age = child ? 2 + prng.below(11) : 18 + prng.below(53);
      const rec = {
        id,
        image_url: `https://images.example.org/${name}/${id}.jpg`,
        source_url: `https://pages.example.org/${name}`,
        faceplusplus: { face_rectangle: { top: 40, left: 52, width: 180, height: 180 }, attributes: { age: { value: age }, gender: { value: gender } } },
      };
      yield `${k === 0 && j === 0 ? '' : ',\n'}${JSON.stringify(rec)}`;
    }
  }
  yield '\n]\n';
}

function* landmarks(spaced: boolean): Generator<string> {
  for (let k = 0; k < RECORDS / PER_IDENTITY; k++) {
    const name = `Person_${String(k).padStart(6, '0')}`;
    for (let j = 0; j < PER_IDENTITY; j++) {
      const id = `${name}_${j < 4 ? 'child' : 'adult'}_${String(j).padStart(3, '0')}`;
      const line = `{"id":"${id}","status":"ok","source":"detector","score":0.998,"box":[52,40,180,180],"points5":[[101.2,110.5],[160.8,109.9],[131.0,145.2],[108.4,180.3],[155.6,179.8]]}`;
      yield (spaced ? line.replace(/([:,])/g, '$1 ') : line) + '\n'; // Python json.dumps puts a space after each : and ,
    }
  }
}

/** The dataset root, written once; `spaced` roots share the compact root's data.json (a hard link). */
async function dataset(spaced = false): Promise<string> {
  const root = path.join(os.tmpdir(), `ecaf-bench-pairs-${RECORDS}${spaced ? '-spaced' : ''}`);
  const data = path.join(root, 'image_data', 'data.json');
  const marks = path.join(root, 'image_data', 'landmarks.jsonl');
  if (existsSync(data) && existsSync(marks)) return root;
  await mkdir(path.dirname(data), { recursive: true });
  const t = performance.now();
  if (spaced) await link(path.join(await dataset(false), 'image_data', 'data.json'), data).catch(() => undefined);
  else await writeLines(data, dataJson(new Prng(2021)));
  await writeLines(marks, landmarks(spaced));
  console.log(`wrote ${RECORDS} records under ${root} in ${((performance.now() - t) / 1000).toFixed(1)} s (reused next time)`);
  return root;
}

interface ChildResult {
  protocol: PairProtocol;
  pairs: number;
  loadSeconds: number;
  drawSeconds: number;
  totalSeconds: number;
  maxRssMB: number;
}

async function child(root: string, protocol: PairProtocol): Promise<void> {
  const t = performance.now();
  const shape = ONE_FOLD ? { folds: 1, perFold: ONE_FOLD_POSITIVES } : {};
  const r = await makePairs({ root, protocol, out: path.join(root, 'image_pairs', `${protocol}.txt`), ...shape });
  const result: ChildResult = {
    protocol,
    pairs: r.pairs,
    loadSeconds: r.loadSeconds,
    drawSeconds: r.drawSeconds,
    totalSeconds: (performance.now() - t) / 1000,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

/** The two reads inside "load data", alone: the shared data.json loader and the landmarks.jsonl scan. */
async function reads(root: string): Promise<void> {
  let t = performance.now();
  await validateDataJson(path.join(root, 'image_data', 'data.json'));
  const dataSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await readAlignedIds(path.join(root, 'image_data', 'landmarks.jsonl'));
  process.stdout.write(JSON.stringify({ dataSeconds, landmarksSeconds: (performance.now() - t) / 1000 }));
}

const self = fileURLToPath(import.meta.url);

async function runChild(root: string, protocol: PairProtocol): Promise<ChildResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [self, '--child', root, protocol, ...(ONE_FOLD ? ['--one-fold'] : [])], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as ChildResult;
}

/** --one-fold: cross-age and children, 1 x (200,000 + 200,000), from compact and from spaced logs. */
async function oneFold(): Promise<void> {
  console.log(`ecaf pairs, one fold of ${ONE_FOLD_POSITIVES} positives + ${ONE_FOLD_POSITIVES} negatives from ${RECORDS} records, ${os.cpus().length} CPUs, node ${process.version}`);
  console.log('landmarks.jsonl  protocol    pairs  load data (s)  draw pairs (s)  total (s)  peak RSS (MB)  goal');
  for (const spaced of [false, true]) {
    const root = await dataset(spaced);
    for (const protocol of ['cross-age', 'children'] as PairProtocol[]) {
      const r = await runChild(root, protocol);
      console.log(
        `${(spaced ? 'spaced' : 'compact').padEnd(16)} ${protocol.padEnd(10)} ${String(r.pairs).padStart(6)}  ${r.loadSeconds.toFixed(2).padStart(13)}  ${r.drawSeconds.toFixed(2).padStart(14)}  ${r.totalSeconds.toFixed(2).padStart(9)}  ${r.maxRssMB.toFixed(0).padStart(13)}  ${r.totalSeconds < ONE_FOLD_GOAL_S ? 'met' : 'MISSED'} (< ${ONE_FOLD_GOAL_S} s)`,
      );
    }
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!, process.argv[4] as PairProtocol);
  if (process.argv[2] === '--reads') return reads(process.argv[3]!);
  if (ONE_FOLD) return oneFold();
  const root = await dataset();
  console.log(`ecaf pairs on ${RECORDS} records / ${RECORDS / PER_IDENTITY} identities, ${os.cpus().length} CPUs, node ${process.version}`);
  console.log('protocol    pairs  load data (s)  draw pairs (s)  total (s)  peak RSS (MB)  goal');
  for (const protocol of ['cross-age', 'children'] as PairProtocol[]) {
    const r = await runChild(root, protocol);
    const ok = r.totalSeconds < 10 && r.maxRssMB < 1024;
    console.log(
      `${protocol.padEnd(10)} ${String(r.pairs).padStart(6)}  ${r.loadSeconds.toFixed(2).padStart(13)}  ${r.drawSeconds.toFixed(2).padStart(14)}  ${r.totalSeconds.toFixed(2).padStart(9)}  ${r.maxRssMB.toFixed(0).padStart(13)}  ${ok ? 'met' : 'MISSED'} (< 10 s, < 1024 MB)`,
    );
  }
  const { stdout } = await promisify(execFile)(process.execPath, [self, '--reads', root]);
  const r = JSON.parse(stdout) as { dataSeconds: number; landmarksSeconds: number };
  console.log(`inside "load data": data.json streamed and validated alone ${r.dataSeconds.toFixed(2)} s; landmarks.jsonl scanned alone ${r.landmarksSeconds.toFixed(2)} s`);
}

await main();
