import { AGE_GROUP_COUNT } from '../dataset/age-groups.js';
import type { FaceEstimates } from './embedder.js';

/**
 * A model's per-image estimates (age, gender, age-group logits) as the benchmark keeps them:
 * views combined, packed into fixed rows for the cache, read back as labels.
 */

/** Floats per image in the estimates cache: age, probability of male, the 7 group logits (NaN where absent). */
export const ESTIMATE_COLUMNS = 2 + AGE_GROUP_COUNT;

/**
 * Estimates of n images from the model's rows: with flip, 2n rows (the n originals, then
 * their mirror images) averaged pairwise, as MTLFace's `encode` averages a face and its
 * mirror; a mirror the model left without an estimate (NaN) leaves the original's.
 */
export function combineEstimates(e: FaceEstimates, n: number, flip: boolean): FaceEstimates {
  const mean = (v: Float32Array, per: number) => {
    const out = new Float32Array(n * per);
    for (let i = 0; i < n * per; i++) {
      const a = v[i]!;
      const b = flip ? v[n * per + i]! : Number.NaN;
      out[i] = Number.isNaN(b) ? a : (a + b) / 2;
    }
    return out;
  };
  return { age: mean(e.age, 1), male: mean(e.male, 1), ...(e.ageGroupLogits ? { ageGroupLogits: mean(e.ageGroupLogits, AGE_GROUP_COUNT) } : {}) };
}

/** Row i of the cache layout. */
export function packEstimate(e: FaceEstimates, i: number): Float32Array {
  const row = new Float32Array(ESTIMATE_COLUMNS).fill(Number.NaN);
  row[0] = e.age[i]!;
  row[1] = e.male[i]!;
  if (e.ageGroupLogits) row.set(e.ageGroupLogits.subarray(i * AGE_GROUP_COUNT, (i + 1) * AGE_GROUP_COUNT), 2);
  return row;
}

/** What one image's cached row says: age (NaN: none), gender (null: none), the group head's pick (null: none). */
export interface ImageEstimate {
  age: number;
  gender: 'male' | 'female' | null;
  ageGroup: number | null;
}

export function readEstimate(row: Float32Array): ImageEstimate {
  const p = row[1]!;
  let best: number | null = null;
  for (let g = 0; g < AGE_GROUP_COUNT; g++) {
    const v = row[2 + g]!;
    if (Number.isNaN(v)) break;
    if (best === null || v > row[2 + best]!) best = g;
  }
  // face-api calls a face male above probability 0.5
  return { age: row[0]!, gender: Number.isNaN(p) ? null : p > 0.5 ? 'male' : 'female', ageGroup: best };
}
