/**
 * The neighbour search split across processes (docs/cluster.md, "Audit in three steps"): each
 * search shard's partial top-k is saved as `neighbours/<K>-of-<N>.bin` in the audit folder, and the
 * plain run merges the set, searching itself any shard that is not there. A file counts only for the
 * same images and embeddings: its header holds a digest of the ids and vectors it was searched on.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BlockProduct } from '../similarity/block-product.js';
import { writeFileAtomic } from '../util/atomic.js';
import { blockRows, mergeNeighbours, nearestNeighbours, type Neighbours } from './neighbours.js';

const MAGIC = 'ECAFNBR1';
/** Magic, then n, k, dim, block rows, shard index, shard count (uint32 LE), then the 32-byte digest. */
const HEADER_BYTES = 8 + 6 * 4 + 32;
const FILE = /^(\d+)-of-(\d+)\.bin$/;

/** What a shard file must match to be merged: the search's images, embeddings and blocks. */
export interface SearchKey {
  n: number;
  k: number;
  dim: number;
  block: number;
  /** sha256 of the ids (one per line) and the n x dim float32 vectors. */
  digest: Buffer;
}

export function searchKey(ids: readonly string[], x: Float32Array, dim: number, k: number, block?: number): SearchKey {
  const h = createHash('sha256').update(ids.join('\n')).update('\0');
  h.update(new Uint8Array(x.buffer, x.byteOffset, ids.length * dim * 4));
  return { n: ids.length, k, dim, block: blockRows(ids.length, block), digest: h.digest() };
}

export const neighbourShardFile = (dir: string, index: number, count: number): string => path.join(dir, 'neighbours', `${index}-of-${count}.bin`);

export async function writeNeighbourShard(dir: string, index: number, count: number, key: SearchKey, nb: Neighbours): Promise<string> {
  const head = Buffer.alloc(HEADER_BYTES);
  head.write(MAGIC, 0, 'latin1');
  [key.n, key.k, key.dim, key.block, index, count].forEach((v, i) => head.writeUInt32LE(v, 8 + 4 * i));
  key.digest.copy(head, 8 + 6 * 4);
  const file = neighbourShardFile(dir, index, count);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, Buffer.concat([head, new Uint8Array(nb.index.buffer, nb.index.byteOffset, nb.index.byteLength), new Uint8Array(nb.score.buffer, nb.score.byteOffset, nb.score.byteLength)]));
  return file;
}

/** Whether a file's header says it is shard `index` of `count` of the search `key` (and it has the size that needs). */
function fits(head: Buffer, size: number, key: SearchKey, index: number, count: number): boolean {
  return (
    size === HEADER_BYTES + 8 * key.n * key.k &&
    head.length >= HEADER_BYTES &&
    head.toString('latin1', 0, 8) === MAGIC &&
    [key.n, key.k, key.dim, key.block, index, count].every((v, at) => head.readUInt32LE(8 + 4 * at) === v) &&
    head.subarray(8 + 6 * 4, HEADER_BYTES).equals(key.digest)
  );
}

/** The shard file is there and fits (its header read alone): a rerun of a finished search shard keeps it. */
export async function fitsNeighbourShard(file: string, key: SearchKey, index: number, count: number): Promise<boolean> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEADER_BYTES, 0);
    return fits(head.subarray(0, bytesRead), (await handle.stat()).size, key, index, count);
  } finally {
    await handle.close();
  }
}

/** The shard files of `dir` that fit `key`: the count with the most of them, its parts by index, and how many files did not fit. */
export async function readNeighbourShards(dir: string, key: SearchKey): Promise<{ count: number; parts: Map<number, Neighbours>; stale: number }> {
  const names = (await fs.readdir(path.join(dir, 'neighbours')).catch(() => [] as string[])).filter((name) => FILE.test(name));
  const byCount = new Map<number, Map<number, Neighbours>>();
  const cells = key.n * key.k;
  let stale = 0;
  for (const name of names) {
    const [, i, c] = FILE.exec(name)!.map(Number) as [number, number, number];
    const bytes = await fs.readFile(path.join(dir, 'neighbours', name));
    if (i >= c || !fits(bytes, bytes.length, key, i, c)) {
      stale++;
      continue;
    }
    const at = bytes.byteOffset + HEADER_BYTES;
    const index = new Int32Array(bytes.buffer.slice(at, at + 4 * cells));
    const score = new Float32Array(bytes.buffer.slice(at + 4 * cells, at + 8 * cells));
    if (!byCount.has(c)) byCount.set(c, new Map());
    byCount.get(c)!.set(i, { k: key.k, index, score });
  }
  let best: [number, Map<number, Neighbours>] = [0, new Map()];
  for (const entry of byCount) if (entry[1].size > best[1].size) best = entry;
  for (const [c, parts] of byCount) if (c !== best[0]) stale += parts.size;
  return { count: best[0], parts: best[1], stale };
}

export interface SearchInput {
  ids: readonly string[];
  x: Float32Array;
  dim: number;
  k: number;
  /** Rows per block (default blockRows's). */
  block?: number;
  product: BlockProduct;
  /** The audit folder: its neighbours/ shard files are merged when they fit. */
  dir: string;
  signal?: AbortSignal;
  log: (line: string) => void;
}

/** The k nearest of every image: from the shard files that fit, the shards missing searched here; without any, the whole search. */
export async function searchNeighbours(s: SearchInput): Promise<Neighbours> {
  const n = s.ids.length;
  const hasFiles = (await fs.readdir(path.join(s.dir, 'neighbours')).catch(() => [] as string[])).some((name) => FILE.test(name));
  if (!hasFiles) return nearestNeighbours(s.x, n, s.dim, { k: s.k, block: s.block, product: s.product, signal: s.signal });
  const key = searchKey(s.ids, s.x, s.dim, s.k, s.block);
  const { count, parts, stale } = await readNeighbourShards(s.dir, key);
  if (stale) s.log(`neighbours: ${stale} shard file(s) in ${path.join(s.dir, 'neighbours')} were searched on other images or embeddings: not used`);
  if (!count) return nearestNeighbours(s.x, n, s.dim, { k: s.k, block: s.block, product: s.product, signal: s.signal });
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !parts.has(i));
  s.log(`neighbours: ${parts.size} of ${count} shard files merged${missing.length ? `; searching shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} here` : ''}`);
  const found = [...parts.values()];
  if (missing.length) found.push(await nearestNeighbours(s.x, n, s.dim, { k: s.k, block: s.block, product: s.product, signal: s.signal, shards: { count, take: missing } }));
  return mergeNeighbours(found, n);
}
