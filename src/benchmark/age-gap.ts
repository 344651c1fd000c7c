import type { ScoredPairs } from './metrics.js';

/** Age-gap bins in years, [lo, hi). */
export const AGE_GAP_BINS = [
  { label: '0-5', lo: 0, hi: 5 },
  { label: '5-10', lo: 5, hi: 10 },
  { label: '10-20', lo: 10, hi: 20 },
  { label: '20-30', lo: 20, hi: 30 },
  { label: '30+', lo: 30, hi: Number.POSITIVE_INFINITY },
] as const;

export interface AgeGapResult {
  bin: string;
  pairs: number;
  positives: number;
  negatives: number;
  /** Share of the bin's pairs right at each pair's fold threshold from the 10-fold accuracy. */
  accuracy: number;
  /** Share of the bin's positives accepted at each fold's TAR@FAR threshold (set on all pairs). */
  tar: number;
  /** Share of the bin's negatives accepted at those thresholds. */
  far: number;
}

/**
 * Results per age-gap bin, with the thresholds the whole protocol chose per fold (a bin is
 * too small to pick its own): `gap[k]` is |age a - age b| of pair k, NaN when an age is unknown.
 */
export function ageGapResults(p: ScoredPairs, gap: Float64Array, accuracyThreshold: readonly number[], tarThreshold: readonly number[]): AgeGapResult[] {
  return AGE_GAP_BINS.map(({ label, lo, hi }) => {
    let pos = 0;
    let neg = 0;
    let right = 0;
    let ta = 0;
    let fa = 0;
    for (let k = 0; k < p.dist.length; k++) {
      const g = gap[k]!;
      if (!(g >= lo && g < hi)) continue;
      const d = p.dist[k]!;
      const f = p.fold[k]!;
      const same = p.same[k] === 1;
      if (same) pos++;
      else neg++;
      if (d < accuracyThreshold[f]! === same) right++;
      if (d < tarThreshold[f]!) {
        if (same) ta++;
        else fa++;
      }
    }
    const n = pos + neg;
    return {
      bin: label,
      pairs: n,
      positives: pos,
      negatives: neg,
      accuracy: n ? right / n : Number.NaN,
      tar: pos ? ta / pos : Number.NaN,
      far: neg ? fa / neg : Number.NaN,
    };
  });
}
