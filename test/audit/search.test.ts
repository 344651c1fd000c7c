import { jsBlockProduct } from '../../src/similarity/block-product.js';
import { exactDuplicates } from '../../src/audit/exact.js';
import { nearDuplicates } from '../../src/audit/near.js';
import { mergeNeighbours, nearestNeighbours, neighbourShardOfBlock, type Neighbours } from '../../src/audit/neighbours.js';
import { fitsNeighbourShard, neighbourShardFile, readNeighbourShards, searchKey, searchNeighbours, writeNeighbourShard } from '../../src/audit/neighbour-shards.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { identityOutliers } from '../../src/audit/outliers.js';
import { inconsistencies, iou } from '../../src/audit/consistency.js';

/** n seeded unit vectors of `dim`, identity p's around its own centre (spread `noise`). */
function people(persons: number, per: number, dim: number, noise: number, seed = 5): { x: Float32Array; identity: string[] } {
  let s = seed;
  const g = () => {
    const u1 = ((s = (s * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
    const u2 = ((s = (s * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
  const x = new Float32Array(persons * per * dim);
  const identity: string[] = [];
  for (let p = 0; p < persons; p++) {
    const c = Array.from({ length: dim }, g);
    for (let k = 0; k < per; k++) {
      const v = c.map((ci) => ci + noise * g());
      const norm = Math.hypot(...v);
      x.set(v.map((vi) => vi / norm), (p * per + k) * dim);
      identity.push(`person${p}`);
    }
  }
  return { x, identity };
}

describe('the neighbour search', () => {
  it('finds the k nearest of every image, as a brute-force sort does, across blocks', async () => {
    const n = 157;
    const dim = 24;
    const { x } = people(20, 8, dim, 0.8);
    const got = await nearestNeighbours(x.subarray(0, n * dim), n, dim, { k: 5, block: 16 });
    const all = jsBlockProduct(x, n, x, n, dim) as Float32Array;
    for (let i = 0; i < n; i++) {
      const brute = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i).sort((a, b) => all[i * n + b]! - all[i * n + a]!).slice(0, 5);
      expect(Array.from(got.score.subarray(i * 5, i * 5 + 5))).toEqual(brute.map((j) => expect.closeTo(all[i * n + j]!, 5)));
      expect(new Set(got.index.subarray(i * 5, i * 5 + 5))).toEqual(new Set(brute));
    }
  });
});

/** Every row's neighbours as a set of "index:score" (ties may come in either order). */
const rowsOf = (nb: Neighbours, n: number) => Array.from({ length: n }, (_, q) => new Set(Array.from(nb.index.subarray(q * nb.k, (q + 1) * nb.k), (j, i) => `${j}:${nb.score[q * nb.k + i]}`)));

describe('the neighbour search in shards', () => {
  const n = 157;
  const dim = 24;
  const { x } = people(20, 8, dim, 0.8, 11);
  const xs = x.subarray(0, n * dim);
  const ids = Array.from({ length: n }, (_, i) => `img${i}`);

  it('deals every block to one shard, the pairs of blocks evenly', () => {
    for (const [blocks, count] of [[10, 3], [7, 2], [1, 4], [12, 12]] as const) {
      const work = new Array<number>(count).fill(0);
      for (let b = 0; b < blocks; b++) work[neighbourShardOfBlock(b, blocks, count)]! += blocks - b;
      expect(work.reduce((a, w) => a + w, 0)).toBe((blocks * (blocks + 1)) / 2);
      // the pairs (b, blocks-1-b) cost blocks+1 each: no shard holds more than one pair above another
      expect(Math.max(...work) - Math.min(...work)).toBeLessThanOrEqual(blocks + 1);
    }
  });

  it('the shards of any count, merged, equal the whole search', async () => {
    const whole = await nearestNeighbours(xs, n, dim, { k: 5, block: 16 });
    for (const count of [1, 2, 3, 7, 12]) {
      const parts = await Promise.all(Array.from({ length: count }, (_, i) => nearestNeighbours(xs, n, dim, { k: 5, block: 16, shards: { count, take: [i] } })));
      expect(rowsOf(mergeNeighbours(parts, n), n)).toEqual(rowsOf(whole, n));
    }
  });

  it('shard files: read back when they fit the images and embeddings, the missing shards searched by the plain run', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-nbr-'));
    try {
      const key = searchKey(ids, xs, dim, 5, 16);
      const whole = await nearestNeighbours(xs, n, dim, { k: 5, block: 16 });
      for (const i of [0, 2]) await writeNeighbourShard(dir, i, 3, key, await nearestNeighbours(xs, n, dim, { k: 5, block: 16, shards: { count: 3, take: [i] } }));
      expect(await fitsNeighbourShard(neighbourShardFile(dir, 0, 3), key, 0, 3)).toBe(true);
      expect(await fitsNeighbourShard(neighbourShardFile(dir, 1, 3), key, 1, 3)).toBe(false);
      // another embedding of one image: the files no longer fit
      const moved = Float32Array.from(xs);
      moved[5] = -moved[5]!;
      const other = searchKey(ids, moved, dim, 5, 16);
      expect(await fitsNeighbourShard(neighbourShardFile(dir, 0, 3), other, 0, 3)).toBe(false);
      expect(await readNeighbourShards(dir, other)).toMatchObject({ count: 0, stale: 2 });
      const lines: string[] = [];
      const got = await searchNeighbours({ ids, x: xs, dim, k: 5, block: 16, product: jsBlockProduct, dir, log: (l) => lines.push(l) });
      expect(lines).toEqual(['neighbours: 2 of 3 shard files merged; searching shard 1 here']);
      expect(rowsOf(got, n)).toEqual(rowsOf(whole, n));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('findings on planted data', () => {
  const dim = 32;
  const { x, identity } = people(30, 6, dim, 0.5);
  const n = identity.length;
  const ids = identity.map((p, i) => `${p}_${i}`);

  it('near duplicates: a copy under another id is found, with its hash close; clean data has none', async () => {
    const planted = Float32Array.from(x);
    // image 7 (person1) copied as image 100 (person16), as a re-encode would: same embedding, hash 2 bits off
    planted.set(x.subarray(7 * dim, 8 * dim), 100 * dim);
    const hashes = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) [hashes[2 * i], hashes[2 * i + 1]] = [(i * 2654435761) >>> 0, (i * 40503) >>> 0];
    [hashes[200], hashes[201]] = [hashes[14]! ^ 0b101, hashes[15]!];
    const hashed = new Uint8Array(n).fill(1);
    const nb = await nearestNeighbours(planted, n, dim, { k: 10 });
    const found = nearDuplicates({ ids, identity, hashes, hashed, neighbours: nb });
    expect(found.map((f) => [f.ids, f.identities, f.hashDistance])).toEqual([[[ids[100]!, ids[7]!].sort(), ['person1', 'person16'], 2]]);
    const clean = nearDuplicates({ ids, identity, hashes: Uint32Array.from(hashes).fill(0, 200, 202), hashed, neighbours: await nearestNeighbours(x, n, dim, { k: 10 }) });
    expect(clean).toEqual([]);
  });

  it('identity outliers: a relabelled image is found with the identity it belongs to; clean labels give none', async () => {
    const nb = await nearestNeighbours(x, n, dim, { k: 10 });
    const age = new Float64Array(n).fill(Number.NaN);
    expect(identityOutliers({ ids, identity, age, x, dim, neighbours: nb })).toEqual([]);
    const relabelled = [...identity];
    relabelled[13] = 'person9'; // image 13 is person2's
    const found = identityOutliers({ ids, identity: relabelled, age, x, dim, neighbours: nb });
    expect(found.map((f) => [f.id, f.identity, f.suspected, f.comparedWith])).toEqual([[ids[13], 'person9', 'person2', 'all-ages']]);
  });

  it('identity outliers are age-aware: an identity compared within its ages says so', async () => {
    const nb = await nearestNeighbours(x, n, dim, { k: 10 });
    const age = Float64Array.from({ length: n }, (_, i) => 20 + (i % 6));
    const found = identityOutliers({ ids, identity: identity.map((p, i) => (i === 13 ? 'person9' : p)), age, x, dim, neighbours: nb });
    expect(found[0]!.comparedWith).toBe('nearby-ages');
  });

  it('exact duplicates: one photo under several ids, split by the face each record shows', () => {
    const sha = new Map([['a', 'h1'], ['b', 'h1'], ['c', 'h1'], ['d', 'h2'], ['e', 'h3'], ['f', 'h3']]);
    const face: Record<string, number> = { a: 0, b: 0, c: 1, e: 0, f: 0 };
    const found = exactDuplicates(sha, (id) => (id === 'b' ? 'P2' : 'P1'), (p, q) => face[p] === face[q]);
    expect(found.map((f) => [f.ids, f.identities])).toEqual([[['a', 'b'], ['P1', 'P2']], [['e', 'f'], ['P1']]]);
  });

  it('record consistency: a face far from its Face++ rectangle, a fallback, no face, the other gender', () => {
    const rect = { left: 100, top: 100, width: 50, height: 50 };
    expect(iou([100, 100, 50, 50], rect)).toBe(1);
    expect(iou([125, 100, 50, 50], rect)).toBeCloseTo(1 / 3, 12);
    const found = inconsistencies([
      { id: 'ok', rectangle: rect, gender: 'male', align: { status: 'ok', source: 'detector', box: [102, 98, 50, 52] }, male: 0.9 },
      { id: 'moved', rectangle: rect, align: { status: 'ok', source: 'detector', box: [400, 100, 50, 50] }, male: Number.NaN },
      { id: 'fallback', rectangle: rect, align: { status: 'ok', source: 'rectangle', box: [100, 100, 50, 50] }, male: Number.NaN },
      { id: 'gone', rectangle: rect, align: { status: 'no_face' }, male: Number.NaN },
      { id: 'gender', rectangle: rect, gender: 'female', align: { status: 'ok', source: 'detector', box: [100, 100, 50, 50] }, male: 0.95 },
    ]);
    expect(found.map((f) => [f.id, f.problem]).sort()).toEqual([['fallback', 'face-elsewhere'], ['gender', 'gender'], ['gone', 'no-face'], ['moved', 'face-moved']]);
  });
});
