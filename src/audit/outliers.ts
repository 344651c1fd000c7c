/**
 * Identity outliers (likely mislabelled): an image whose nearest images of another identity are
 * closer than the images of its own. Age-aware: an image is compared with its identity's images
 * within AGE_WINDOW years of it where it has OUTLIER_MIN_OTHERS such, since a child photo is far
 * from the same person's adult photos by nature. Pure.
 */
import { jsBlockProduct } from '../similarity/block-product.js';
import type { OutlierFinding } from './findings.js';
import type { Neighbours } from './neighbours.js';
import { groupBy } from '../util/group.js';

export const AGE_WINDOW = 10;
/** Images of its own identity an image is compared with at least (the identity needs one more). */
export const OUTLIER_MIN_OTHERS = 2;
/** How much closer (cosine) the other identity must be: below it, a weak recogniser's noise. */
export const OUTLIER_MARGIN = 0.05;
/** Nearest images averaged on each side. */
const TOP = 3;

export interface OutlierInput {
  ids: readonly string[];
  identity: readonly string[];
  /** Years, NaN where unknown. */
  age: ArrayLike<number>;
  /** Unit embeddings, n x dim. */
  x: Float32Array;
  dim: number;
  neighbours: Neighbours;
  margin?: number;
}

const meanTop = (v: number[]): number => {
  const s = v.sort((a, b) => b - a).slice(0, TOP);
  return s.reduce((a, b) => a + b, 0) / s.length;
};

export function identityOutliers(s: OutlierInput): OutlierFinding[] {
  const margin = s.margin ?? OUTLIER_MARGIN;
  const out: OutlierFinding[] = [];
  for (const [p, members] of groupBy(s.identity.map((_, i) => i), (i) => s.identity[i]!)) {
    if (members.length < OUTLIER_MIN_OTHERS + 1) continue;
    const m = members.length;
    const mine = new Float32Array(m * s.dim);
    members.forEach((i, r) => mine.set(s.x.subarray(i * s.dim, (i + 1) * s.dim), r * s.dim));
    const gram = jsBlockProduct(mine, m, mine, m, s.dim) as Float32Array;
    members.forEach((i, a) => {
      const ageI = s.age[i]!;
      const near = members.map((j, b) => ({ j, b })).filter(({ j }) => j !== i && Number.isFinite(ageI) && Math.abs(s.age[j]! - ageI) <= AGE_WINDOW);
      const useNear = near.length >= OUTLIER_MIN_OTHERS;
      const others = useNear ? near : members.map((j, b) => ({ j, b })).filter(({ j }) => j !== i);
      const own = meanTop(others.map(({ b }) => gram[a * m + b]!));
      // the other identities among its nearest images, each by its best few
      const k = s.neighbours.k;
      const nearest = Array.from({ length: k }, (_, t) => i * k + t).filter((at) => s.neighbours.index[at]! >= 0 && s.identity[s.neighbours.index[at]!] !== p);
      let suspected: string | null = null;
      let best = Number.NEGATIVE_INFINITY;
      for (const [q, ats] of groupBy(nearest, (at) => s.identity[s.neighbours.index[at]!]!)) {
        const v = ats.map((at) => s.neighbours.score[at]!);
        // one close image of another identity is its own outlier (or a duplicate), not evidence against this one
        if (v.length < OUTLIER_MIN_OTHERS) continue;
        const sim = meanTop(v);
        if (sim > best) [best, suspected] = [sim, q];
      }
      if (suspected === null || best - own <= margin) return;
      out.push({ id: s.ids[i]!, identity: p, suspected, score: best - own, ownSimilarity: own, suspectedSimilarity: best, comparedWith: useNear ? 'nearby-ages' : 'all-ages', confidence: Math.min(1, (best - own) / (4 * margin)) });
    });
  }
  return out.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}
