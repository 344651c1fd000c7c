/**
 * Each image's k nearest other images by cosine, over blocked products (src/similarity/): the
 * product is symmetric, so block I of rows meets only the columns from I on and each score
 * serves both its row and its column. Memory O(block x N + N x k), never N x N. Pure but for the
 * product it is given.
 */
import { jsBlockProduct, type BlockProduct } from '../similarity/block-product.js';
import { InterruptedError } from '../util/errors.js';

export interface Neighbours {
  k: number;
  /** n x k image indices, nearest first (-1 where an image has fewer than k others). */
  index: Int32Array;
  /** n x k cosines, aligned with `index`. */
  score: Float32Array;
}

export interface NeighbourOptions {
  k?: number;
  product?: BlockProduct;
  /** Rows per block (default: about 64 MB of scores, blockRows). */
  block?: number;
  /** Only the row blocks of these shards of `count` (neighbourShardOfBlock): a partial search that mergeNeighbours completes. */
  shards?: { count: number; take: readonly number[] };
  signal?: AbortSignal;
}

const SCORE_BYTES_PER_BLOCK = 64 << 20;

/** Rows per block of a search over n images: the same n gives the same blocks in every process, so shards of one search fit together. */
export const blockRows = (n: number, block?: number): number => Math.max(1, block ?? Math.floor(SCORE_BYTES_PER_BLOCK / (4 * Math.max(n, 1))));

/**
 * The shard of `count` that searches row block b of `blocks`: block b meets the n - b x block
 * columns from its own on, so b is paired with blocks - 1 - b (the pair costs the same for every
 * b) and the pairs are dealt round the shards.
 */
export function neighbourShardOfBlock(b: number, blocks: number, count: number): number {
  return Math.min(b, blocks - 1 - b) % count;
}

/** An empty top-k of n rows, and the insertion of a candidate into a row's sorted top-k. */
function topK(n: number, k: number): Neighbours & { offer: (q: number, j: number, s: number) => void } {
  const index = new Int32Array(n * k).fill(-1);
  const score = new Float32Array(n * k).fill(Number.NEGATIVE_INFINITY);
  // most candidates fail the first comparison, with the row's k-th
  const offer = (q: number, j: number, s: number): void => {
    const o0 = q * k;
    if (!(s > score[o0 + k - 1]!)) return;
    let i = k - 1;
    while (i > 0 && score[o0 + i - 1]! < s) {
      score[o0 + i] = score[o0 + i - 1]!;
      index[o0 + i] = index[o0 + i - 1]!;
      i--;
    }
    score[o0 + i] = s;
    index[o0 + i] = j;
  };
  return { k, index, score, offer };
}

export async function nearestNeighbours(x: Float32Array, n: number, dim: number, o: NeighbourOptions = {}): Promise<Neighbours> {
  const k = o.k ?? 10;
  const product = o.product ?? jsBlockProduct;
  const block = blockRows(n, o.block);
  const blocks = Math.ceil(n / block);
  const take = o.shards ? new Set(o.shards.take) : undefined;
  const { index, score, offer } = topK(n, k);
  for (let b = 0; b < blocks; b++) {
    if (take && !take.has(neighbourShardOfBlock(b, blocks, o.shards!.count))) continue;
    const i0 = b * block;
    if (o.signal?.aborted) throw new InterruptedError(`neighbour search interrupted after ${i0} of ${n} images`);
    const rows = Math.min(block, n - i0);
    const cols = n - i0;
    const s = await product(x.subarray(i0 * dim, (i0 + rows) * dim), rows, x.subarray(i0 * dim), cols, dim);
    for (let r = 0; r < rows; r++) {
      const q = i0 + r;
      const off = r * cols;
      // columns left of the diagonal inside the block were seen as rows' columns already: start right of q
      for (let c = r + 1; c < cols; c++) {
        const v = s[off + c]!;
        offer(q, i0 + c, v);
        offer(i0 + c, q, v);
      }
    }
  }
  return { k, index, score };
}

/** The k nearest of partial searches over disjoint shards of one search's blocks: each pair of images was scored in exactly one of them. */
export function mergeNeighbours(parts: readonly Neighbours[], n: number): Neighbours {
  const k = parts[0]?.k ?? 10;
  const { index, score, offer } = topK(n, k);
  for (const p of parts) {
    for (let q = 0; q < n; q++) {
      for (let i = q * k; i < (q + 1) * k && p.index[i]! >= 0; i++) offer(q, p.index[i]!, p.score[i]!);
    }
  }
  return { k, index, score };
}
