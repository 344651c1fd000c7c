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
  /** Rows per block (default: about 64 MB of scores). */
  block?: number;
  signal?: AbortSignal;
}

const SCORE_BYTES_PER_BLOCK = 64 << 20;

export async function nearestNeighbours(x: Float32Array, n: number, dim: number, o: NeighbourOptions = {}): Promise<Neighbours> {
  const k = o.k ?? 10;
  const product = o.product ?? jsBlockProduct;
  const block = Math.max(1, o.block ?? Math.floor(SCORE_BYTES_PER_BLOCK / (4 * Math.max(n, 1))));
  const index = new Int32Array(n * k).fill(-1);
  const score = new Float32Array(n * k).fill(Number.NEGATIVE_INFINITY);
  // insertion into a row's sorted top-k: most candidates fail the first comparison with its k-th
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
  for (let i0 = 0; i0 < n; i0 += block) {
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
