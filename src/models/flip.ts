import type { FlipRule } from './embedder.js';

/** Divide `v[off .. off+dim)` by its L2 norm in place (a zero vector stays zero). */
export function normalizeInPlace(v: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let i = 0; i < dim; i++) s += v[off + i]! * v[off + i]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < dim; i++) v[off + i]! *= inv;
}

/**
 * Unit embeddings of `n` images from the model's raw outputs. With flip, `raw` holds 2n
 * rows: the n originals, then their n mirror images in the same order; the two views are
 * combined by `rule`: 'mtlface' normalises each view before adding (MTLFace `encode`),
 * 'insightface' adds the raw outputs (`verification.py`); then the sum is normalised.
 */
export function combineViews(raw: Float32Array, n: number, dim: number, flip: boolean, rule: FlipRule): Float32Array {
  const out = new Float32Array(n * dim);
  if (!flip) {
    out.set(raw.subarray(0, n * dim));
    for (let k = 0; k < n; k++) normalizeInPlace(out, k * dim, dim);
    return out;
  }
  const views = rule === 'mtlface' ? Float32Array.from(raw.subarray(0, 2 * n * dim)) : raw;
  if (rule === 'mtlface') for (let k = 0; k < 2 * n; k++) normalizeInPlace(views, k * dim, dim);
  const mirror = n * dim;
  for (let i = 0; i < n * dim; i++) out[i] = views[i]! + views[mirror + i]!;
  for (let k = 0; k < n; k++) normalizeInPlace(out, k * dim, dim);
  return out;
}
