/**
 * Leave-one-out identification, as FG-NET results are reported (MTLFace, docs/benchmark-sets.md):
 * every image is the probe once, against all the other images as the gallery. Scores come a
 * block of probes at a time (`block` x N), so memory stays O(block x N), never N x N.
 */
import { InterruptedError } from '../util/errors.js';
import { jsBlockProduct, type BlockProduct } from '../similarity/block-product.js';
import { AGE_GAP_BINS } from './age-gap.js';

export interface LooBucket {
  label: string;
  /** Probes in the bucket (with a mate in the gallery). */
  probes: number;
  rank1: number;
  rank5: number;
}

export interface LooResult {
  images: number;
  identities: number;
  /** Probes scored: images whose person has at least one other image. */
  probes: number;
  /** Images left out as probes: the only image of their person (they still sit in the gallery). */
  probesWithoutMate: number;
  rank1: number;
  rank5: number;
  /** Share of probes whose person is within the first k, k = 1..cmc.length. */
  cmc: number[];
  childMaxAge: number;
  adultMinAge: number;
  /** By the probe's age: child (<= childMaxAge), teen, adult (>= adultMinAge), unknown. Empty buckets left out. */
  byAgeGroup: LooBucket[];
  /** By the age gap (years) to the nearest-in-age other image of the probe's person. Empty buckets left out. */
  byAgeGap: LooBucket[];
}

export interface LooOptions {
  childMaxAge?: number;
  adultMinAge?: number;
  /** Probes per block product (default: as many as keep a block near 64 MB of scores). */
  block?: number;
  product?: BlockProduct;
  maxRank?: number;
  signal?: AbortSignal;
  /** Called after each block with the probes done so far. */
  onBlock?: (done: number, total: number) => void;
}

const SCORE_BYTES_PER_BLOCK = 64 * 2 ** 20;

/**
 * Rank of each probe's person: people are ranked by their best-scoring image (dot product of
 * the unit embeddings, i.e. cosine), and a tie with the true person counts against it (rank =
 * 1 + other people whose best score is >= the mate's best), as `closedSetIdentification` does;
 * ranks past `maxRank` are not told apart.
 * `age[k]` is NaN when unknown.
 */
export async function leaveOneOutIdentification(
  embeddings: Float32Array,
  identity: readonly string[],
  age: ArrayLike<number>,
  dim: number,
  o: LooOptions = {},
): Promise<LooResult> {
  const n = identity.length;
  if (embeddings.length !== n * dim) throw new Error(`leaveOneOutIdentification: ${embeddings.length} floats for ${n} images of ${dim}`);
  const childMaxAge = o.childMaxAge ?? 12;
  const adultMinAge = o.adultMinAge ?? 18;
  const maxRank = o.maxRank ?? 10;
  const product = o.product ?? jsBlockProduct;
  const block = Math.max(1, o.block ?? Math.floor(SCORE_BYTES_PER_BLOCK / (4 * Math.max(n, 1))));

  // people as 0..P-1, and each person's images (members[start[p] .. start[p + 1]))
  const ids = new Map<string, number>();
  const person = Int32Array.from(identity, (name) => {
    let p = ids.get(name);
    if (p === undefined) ids.set(name, (p = ids.size));
    return p;
  });
  const P = ids.size;
  const start = new Int32Array(P + 1);
  for (let k = 0; k < n; k++) start[person[k]! + 1]!++;
  for (let p = 0; p < P; p++) start[p + 1]! += start[p]!;
  const members = new Int32Array(n);
  const fill = start.slice(0, P);
  for (let k = 0; k < n; k++) members[fill[person[k]!]!++] = k;

  // each probe's target: its best-scoring other image of the same person (rounded to float32, as the products are)
  const target = new Float32Array(n).fill(Number.NaN);
  for (let p = 0; p < P; p++) {
    const k = start[p + 1]! - start[p]!;
    if (k < 2) continue;
    const mine = new Float32Array(k * dim);
    for (let m = 0; m < k; m++) mine.set(embeddings.subarray(members[start[p]! + m]! * dim, (members[start[p]! + m]! + 1) * dim), m * dim);
    const s = jsBlockProduct(mine, k, mine, k, dim) as Float32Array;
    for (let a = 0; a < k; a++) {
      let best = Number.NEGATIVE_INFINITY;
      for (let b = 0; b < k; b++) if (a !== b && s[a * k + b]! > best) best = s[a * k + b]!;
      target[members[start[p]! + a]!] = best;
    }
  }

  // the score matrix is symmetric: block I of probes against images from I on (half the
  // products); a score counts for its row probe and, right of the diagonal block, for its column
  // probe. Each probe keeps the other people scoring >= its target, up to maxRank of them.
  const found = new Int32Array(n * maxRank);
  const count = new Int32Array(n);
  const add = (q: number, p: number): void => {
    const c = count[q]!;
    if (c >= maxRank || p === person[q]) return;
    const o = q * maxRank;
    for (let i = 0; i < c; i++) if (found[o + i] === p) return;
    found[o + c] = p;
    count[q] = c + 1;
  };
  for (let i0 = 0; i0 < n; i0 += block) {
    if (o.signal?.aborted) throw new InterruptedError(`leave-one-out identification interrupted after ${i0} of ${n} probes`);
    const rows = Math.min(block, n - i0);
    const i1 = i0 + rows;
    const cols = n - i0;
    const scores = await product(embeddings.subarray(i0 * dim, i1 * dim), rows, embeddings.subarray(i0 * dim), cols, dim);
    for (let r = 0; r < rows; r++) {
      const q = i0 + r;
      const tq = target[q]!; // NaN without a mate: never >=
      const row = r * cols;
      for (let c = 0; c < cols; c++) {
        const s = scores[row + c]!;
        const j = i0 + c;
        if (s >= tq && j !== q) add(q, person[j]!);
        if (j >= i1 && s >= target[j]!) add(j, person[q]!);
      }
    }
    o.onBlock?.(i1, n);
  }
  const rank = Int32Array.from(target, (t, q) => (Number.isNaN(t) ? 0 : 1 + count[q]!)); // 0: no mate

  const groupOf = (a: number): string => (Number.isNaN(a) ? 'unknown' : a <= childMaxAge ? `child (<= ${childMaxAge})` : a >= adultMinAge ? `adult (>= ${adultMinAge})` : 'teen');
  const groups = [`child (<= ${childMaxAge})`, 'teen', `adult (>= ${adultMinAge})`, 'unknown'];
  const gapLabels = [...AGE_GAP_BINS.map((b) => b.label), 'unknown'];
  const gapOf = (q: number): string => {
    const a = age[q]!;
    let best = Number.POSITIVE_INFINITY;
    if (!Number.isNaN(a)) {
      const mate = person[q]!;
      for (let m = start[mate]!; m < start[mate + 1]!; m++) {
        const j = members[m]!;
        const b = age[j]!;
        if (j !== q && !Number.isNaN(b) && Math.abs(a - b) < best) best = Math.abs(a - b);
      }
    }
    return AGE_GAP_BINS.find((bin) => best >= bin.lo && best < bin.hi)?.label ?? 'unknown';
  };
  const tally = (labels: string[]) => new Map(labels.map((l) => [l, { probes: 0, r1: 0, r5: 0 }]));
  const byGroup = tally(groups);
  const byGap = tally(gapLabels);
  const hits = new Float64Array(maxRank);
  let probes = 0;
  for (let q = 0; q < n; q++) {
    const rk = rank[q]!;
    if (rk === 0) continue;
    probes++;
    for (let k = rk; k <= maxRank; k++) hits[k - 1]!++;
    for (const t of [byGroup.get(groupOf(age[q]!))!, byGap.get(gapOf(q))!]) {
      t.probes++;
      if (rk <= 1) t.r1++;
      if (rk <= 5) t.r5++;
    }
  }
  const buckets = (m: Map<string, { probes: number; r1: number; r5: number }>): LooBucket[] =>
    [...m].filter(([, t]) => t.probes > 0).map(([label, t]) => ({ label, probes: t.probes, rank1: t.r1 / t.probes, rank5: t.r5 / t.probes }));
  const cmc = Array.from(hits, (h) => (probes ? h / probes : Number.NaN));
  return {
    images: n,
    identities: P,
    probes,
    probesWithoutMate: n - probes,
    rank1: cmc[0] ?? Number.NaN,
    rank5: cmc[4] ?? Number.NaN,
    cmc,
    childMaxAge,
    adultMinAge,
    byAgeGroup: buckets(byGroup),
    byAgeGap: buckets(byGap),
  };
}
