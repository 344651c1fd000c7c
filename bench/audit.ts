/**
 * `npm run bench:audit`: the audit's findings on planted cases of real photos, and its search at scale.
 * 1. Real photos (ECAF_SHARED_DATA, default ../shared/data: bbt/, 8 people x 5 face crops) as a
 *    root of 112x112 faces; planted: each face re-posted three ways under another person (JPEG
 *    quality 60, 85% scale, a 3-px crop): 120 near duplicates; 8 faces relabelled to another
 *    person. Found with the builtin model: near-duplicate recall and precision (by pairs), relabel
 *    recall, outliers on clean faces; and the hash distances of copies against other photos of one person.
 * 2. ECAF_BENCH_AUDIT_N (100000) synthetic 512-d embeddings in people of 10: the neighbour search
 *    (ONNX GEMM blocks) and the outlier and near-duplicate passes: seconds and peak memory; then the
 *    same search as ECAF_BENCH_AUDIT_SHARDS (4; 0 skips) --search-only shards, one after another,
 *    and the plain run's merge of their files, checked against the whole search.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runAudit } from '../dist/audit/index.js';
import { nearDuplicates } from '../dist/audit/near.js';
import { nearestNeighbours } from '../dist/audit/neighbours.js';
import { searchKey, searchNeighbours, writeNeighbourShard } from '../dist/audit/neighbour-shards.js';
import { identityOutliers } from '../dist/audit/outliers.js';
import { hashDistance, hashOfFile } from '../dist/audit/phash.js';
import { openOnnxBlockProduct } from '../dist/similarity/onnx-gemm.js';

const SHARED = process.env.ECAF_SHARED_DATA ?? path.resolve('..', 'shared', 'data');
const N = Number(process.env.ECAF_BENCH_AUDIT_N ?? 100_000);
const SHARDS = Number(process.env.ECAF_BENCH_AUDIT_SHARDS ?? 4);
const ALTER = ['jpeg60', 'scale85', 'crop3'] as const;

async function altered(file: string, how: (typeof ALTER)[number] | 'none'): Promise<Buffer> {
  const base = await sharp(file).removeAlpha().resize(112, 112, { fit: 'cover' }).raw().toBuffer();
  const img = () => sharp(base, { raw: { width: 112, height: 112, channels: 3 } });
  if (how === 'jpeg60') return img().jpeg({ quality: 60 }).toBuffer();
  if (how === 'scale85') return sharp(await img().resize(95, 95).png().toBuffer()).resize(112, 112).jpeg({ quality: 95 }).toBuffer();
  if (how === 'crop3') return img().extract({ left: 3, top: 3, width: 106, height: 106 }).resize(112, 112).jpeg({ quality: 95 }).toBuffer();
  return img().jpeg({ quality: 95 }).toBuffer();
}

const pct = (v: number[], q: number) => v.slice().sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))]!;

async function planted(): Promise<void> {
  const labels = (await fs.readFile(path.join(SHARED, 'bbt', 'labels.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
  const people = [...new Set(labels.map((l) => l[1]!))].sort();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-bench-audit-'));
  const dir = path.join(root, 'image_data', 'img_mtcnn');
  await fs.mkdir(dir, { recursive: true });
  const records: { id: string; url: string; identity: string }[] = [];
  const copies: [string, string][] = [];
  const relabelled = new Set<string>();
  for (const [k, [rel, who]] of labels.entries()) {
    const id = `${who}_adult_${String(k).padStart(3, '0')}`;
    await fs.writeFile(path.join(dir, `${id}.jpg`), await altered(path.join(SHARED, 'bbt', rel!), 'none'));
    // every fifth face filed under the next person
    const relabel = k % 5 === 2;
    if (relabel) relabelled.add(id);
    records.push({ id, url: `http://127.0.0.1/${id}.jpg`, identity: relabel ? people[(people.indexOf(who!) + 1) % people.length]! : who! });
    for (const [a, how] of ALTER.entries()) {
      const other = people[(people.indexOf(who!) + 2 + a) % people.length]!;
      const cid = `${other}_copy_${String(k).padStart(3, '0')}_${how}`;
      await fs.writeFile(path.join(dir, `${cid}.jpg`), await altered(path.join(SHARED, 'bbt', rel!), how));
      records.push({ id: cid, url: `http://127.0.0.1/${cid}.jpg`, identity: other });
      copies.push([id, cid]);
    }
  }
  await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(records));
  const t0 = performance.now();
  const run = await runAudit({ root, model: 'builtin', progress: false, log: () => undefined });
  const seconds = (performance.now() - t0) / 1000;
  const r = run.report!;
  const together = new Set<string>();
  let reported = 0;
  for (const d of r.duplicates) {
    for (let i = 0; i < d.ids.length; i++) for (let j = i + 1; j < d.ids.length; j++) {
      together.add(`${d.ids[i]} ${d.ids[j]}`).add(`${d.ids[j]} ${d.ids[i]}`);
      reported++;
    }
  }
  const plantedSet = new Set(copies.map(([a, b]) => `${a} ${b}`));
  // copies of one face are duplicates of each other too: those pairs are right
  const sourceOf = (id: string) => (id.includes('_copy_') ? id.split('_').at(-2) : id.split('_').at(-1));
  const sameSource = (a: string, b: string) => sourceOf(a) === sourceOf(b);
  let right = 0;
  for (const d of r.duplicates) for (let i = 0; i < d.ids.length; i++) for (let j = i + 1; j < d.ids.length; j++) if (sameSource(d.ids[i]!, d.ids[j]!)) right++;
  const found = copies.filter(([a, b]) => together.has(`${a} ${b}`)).length;
  const byHow = ALTER.map((how) => `${how} ${copies.filter(([a, b]) => b.endsWith(how) && together.has(`${a} ${b}`)).length}/${copies.filter(([, b]) => b.endsWith(how)).length}`);
  const outl = new Set(r.outliers.map((o) => o.id));
  console.log(`## planted on real photos (bbt: ${labels.length} faces of ${people.length} people, builtin model), audit ${seconds.toFixed(1)} s`);
  console.log(`near duplicates: ${found}/${plantedSet.size} planted pairs found (${(100 * found / plantedSet.size).toFixed(1)}%: ${byHow.join(', ')}); precision ${right}/${reported} pairs reported (${(100 * right / Math.max(1, reported)).toFixed(1)}%)`);
  console.log(`relabelled: ${[...relabelled].filter((id) => outl.has(id)).length}/${relabelled.size} found as outliers; outliers among the other ${records.length - relabelled.size} images: ${[...outl].filter((id) => !relabelled.has(id)).length}`);
  // the hash distances that chose NEAR_HASH_BITS: copies against their source, and other photos of one person
  const hash = new Map<string, [number, number]>();
  for (const rec of records) hash.set(rec.id, await hashOfFile(path.join(dir, `${rec.id}.jpg`)));
  const d = (a: string, b: string) => hashDistance(Uint32Array.from([...hash.get(a)!, ...hash.get(b)!]), 0, 1);
  const copyD = copies.map(([a, b]) => d(a, b));
  const originals = records.filter((x) => !x.id.includes('_copy_'));
  const otherD: number[] = [];
  for (let i = 0; i < originals.length; i++) for (let j = i + 1; j < originals.length; j++) if (originals[i]!.id.split('_')[0] === originals[j]!.id.split('_')[0]) otherD.push(d(originals[i]!.id, originals[j]!.id));
  console.log(`hash bits, copy vs source: median ${pct(copyD, 0.5)}, 95th ${pct(copyD, 0.95)}, max ${Math.max(...copyD)}; two photos of one person: min ${Math.min(...otherD)}, 5th ${pct(otherD, 0.05)}, median ${pct(otherD, 0.5)}`);
  await fs.rm(root, { recursive: true, force: true });
}

async function scale(): Promise<void> {
  const dim = 512;
  const per = 10;
  let s = 11;
  const g = () => {
    const u1 = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
    const u2 = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
  const x = new Float32Array(N * dim);
  const identity: string[] = [];
  const centre = new Float32Array(dim);
  for (let i = 0; i < N; i++) {
    if (i % per === 0) for (let j = 0; j < dim; j++) centre[j] = g();
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += (x[i * dim + j] = centre[j]! + 1.2 * g()) ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < dim; j++) x[i * dim + j]! /= norm;
    identity.push(`p${Math.floor(i / per)}`);
  }
  const ids = identity.map((p, i) => `${p}_${i}`);
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  const gemm = await openOnnxBlockProduct();
  const t0 = performance.now();
  const nb = await nearestNeighbours(x, N, dim, { k: 10, product: gemm.product });
  const t1 = performance.now();
  const out = identityOutliers({ ids, identity, age: new Float64Array(N).fill(Number.NaN), x, dim, neighbours: nb });
  const hashes = Uint32Array.from({ length: 2 * N }, (_, i) => Math.imul(i + 1, 2654435761) >>> 0);
  const near = nearDuplicates({ ids, identity, hashes, hashed: new Uint8Array(N).fill(1), neighbours: nb });
  const t2 = performance.now();
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(`## search at scale: ${N} images x ${dim}-d (people of ${per}), ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`);
  console.log(`neighbours (k=10, ONNX GEMM blocks) ${((t1 - t0) / 1000).toFixed(1)} s; outliers + near duplicates ${((t2 - t1) / 1000).toFixed(1)} s; total ${((t2 - t0) / 1000).toFixed(1)} s; peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB (${out.length} outliers, ${near.length} near groups on clean data)`);
  if (SHARDS > 0) {
    // the same search as SHARDS --search-only tasks, one after another here, then the plain run's merge of their files
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-bench-nbr-'));
    const key = searchKey(ids, x, dim, 10);
    const times: string[] = [];
    for (let i = 0; i < SHARDS; i++) {
      const t = performance.now();
      await writeNeighbourShard(dir, i, SHARDS, key, await nearestNeighbours(x, N, dim, { k: 10, product: gemm.product, shards: { count: SHARDS, take: [i] } }));
      times.push(((performance.now() - t) / 1000).toFixed(1));
    }
    const t3 = performance.now();
    const merged = await searchNeighbours({ ids, x, dim, k: 10, product: gemm.product, dir, log: () => undefined });
    const t4 = performance.now();
    let differ = 0;
    for (let q = 0; q < N; q++) {
      const a = new Set(nb.index.subarray(q * 10, q * 10 + 10));
      if (!merged.index.subarray(q * 10, q * 10 + 10).every((j) => a.has(j))) differ++;
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    await fs.rm(dir, { recursive: true, force: true });
    console.log(`in ${SHARDS} search shards: ${times.join(', ')} s each (search and its file); the plain run's read and merge of the files ${((t4 - t3) / 1000).toFixed(1)} s; rows unlike the whole search's: ${differ}; peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB; load ${os.loadavg()[0]!.toFixed(2)}`);
  }
  clearInterval(timer);
  await gemm.close();
}

console.log(`uptime: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (await fs.stat(path.join(SHARED, 'bbt')).then(() => true, () => false)) await planted();
else console.log(`(planted cases skipped: no ${path.join(SHARED, 'bbt')}; set ECAF_SHARED_DATA)`);
await scale();
console.log(`uptime: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
