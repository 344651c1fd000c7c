import type { Prng } from './prng.js';

/**
 * Identity -> fold, every identity in exactly one fold, balanced by what identities can give.
 * Identities are shuffled (seeded), then taken by decreasing positive capacity (ties: more
 * usable images first, then the shuffled order) and each is put in the fold with the least
 * capacity so far (ties: fewest images, then the lowest fold number): greedy longest-
 * processing-time balancing. Identities with no positive capacity balance the image counts
 * instead; identities with no usable image get no fold (-1).
 */
export function assignFolds(capacity: ArrayLike<number>, images: ArrayLike<number>, folds: number, prng: Prng): Int32Array {
  const n = capacity.length;
  const order = prng.shuffle(Array.from({ length: n }, (_, k) => k));
  order.sort((x, y) => capacity[y]! - capacity[x]! || images[y]! - images[x]!);
  const foldCap = new Float64Array(folds);
  const foldImages = new Float64Array(folds);
  const fold = new Int32Array(n).fill(-1);
  for (const k of order) {
    if (images[k]! === 0) continue;
    const byCapacity = capacity[k]! > 0;
    let best = 0;
    for (let f = 1; f < folds; f++) {
      const [p, q] = byCapacity ? [foldCap, foldImages] : [foldImages, foldCap];
      if (p[f]! < p[best]! || (p[f] === p[best] && q[f]! < q[best]!)) best = f;
    }
    fold[k] = best;
    foldCap[best]! += capacity[k]!;
    foldImages[best]! += images[k]!;
  }
  return fold;
}
