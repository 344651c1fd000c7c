/** Dense symmetric solves for the ridge fits (src/age/ridge.ts): Cholesky, and the tridiagonal form that serves every lambda. */

/** Lower Cholesky factor of (a + shift I) (a symmetric positive semi-definite, d x d row-major). */
export function cholesky(a: Float64Array, d: number, shift: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let s = a[ri + j]! + (i === j ? shift : 0);
      for (let p = 0; p < j; p++) s -= l[ri + p]! * l[rj + p]!;
      if (i === j) {
        if (!(s > 0)) throw new Error(`cholesky: matrix not positive definite at row ${i} (pivot ${s})`);
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j]!;
      }
    }
  }
  return l;
}

/** Solve (L L^T) x = b. */
export function choleskySolve(l: Float64Array, d: number, b: Float64Array): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= l[i * d + p]! * y[p]!;
    y[i] = s / l[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let p = i + 1; p < d; p++) s -= l[p * d + i]! * x[p]!;
    x[i] = s / l[i * d + i]!;
  }
  return x;
}

export const dotv = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** x^T A x for symmetric A. */
export function quadForm(a: Float64Array, x: Float64Array, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    let r = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) r += a[row + j]! * x[j]!;
    s += x[i]! * r;
  }
  return s;
}

/**
 * Householder reduction of a symmetric matrix to tridiagonal form, A = Q T Q^T: done once per
 * training set, it solves (A + lambda I) w = b for every lambda in O(d^2) (two reflector
 * sweeps and a tridiagonal solve) instead of a Cholesky factorisation per lambda.
 */
export interface Tridiagonal {
  d: number;
  diag: Float64Array;
  off: Float64Array;
  /** Reflector k acts on entries k+1..d-1: I - beta_k v_k v_k^T. */
  v: Float64Array[];
  beta: Float64Array;
}

export function tridiagonalize(a: Float64Array, d: number): Tridiagonal {
  const m = Float64Array.from(a);
  const v: Float64Array[] = [];
  const beta = new Float64Array(Math.max(0, d - 2));
  const off = new Float64Array(Math.max(0, d - 1));
  const p = new Float64Array(d);
  for (let k = 0; k < d - 2; k++) {
    const len = d - k - 1;
    const h = new Float64Array(len);
    let norm = 0;
    for (let i = 0; i < len; i++) {
      h[i] = m[(k + 1 + i) * d + k]!;
      norm += h[i]! * h[i]!;
    }
    norm = Math.sqrt(norm);
    const alpha = h[0]! > 0 ? -norm : norm;
    h[0]! -= alpha;
    const vv = dotv(h, h);
    const b = vv > 0 ? 2 / vv : 0;
    v.push(h);
    beta[k] = b;
    off[k] = vv > 0 ? alpha : h[0]! + alpha;
    if (b === 0) continue;
    // p = b A' h, then w = p - (b p.h / 2) h, A' -= h w^T + w h^T; A' kept in its lower triangle
    const base = k + 1;
    p.fill(0, 0, len);
    for (let i = 0; i < len; i++) {
      const row = (base + i) * d + base;
      const hi = h[i]!;
      let s = 0;
      for (let j = 0; j < i; j++) {
        const a = m[row + j]!;
        s += a * h[j]!;
        p[j]! += a * hi;
      }
      p[i]! += s + m[row + i]! * hi;
    }
    let ph = 0;
    for (let i = 0; i < len; i++) {
      p[i]! *= b;
      ph += p[i]! * h[i]!;
    }
    const c = (b * ph) / 2;
    for (let i = 0; i < len; i++) p[i]! -= c * h[i]!;
    for (let i = 0; i < len; i++) {
      const row = (base + i) * d + base;
      const hi = h[i]!;
      const wi = p[i]!;
      for (let j = 0; j <= i; j++) m[row + j]! -= hi * p[j]! + wi * h[j]!;
    }
  }
  if (d >= 2) off[d - 2] = m[(d - 1) * d + d - 2]!;
  const diag = Float64Array.from({ length: d }, (_, i) => m[i * d + i]!);
  return { d, diag, off, v, beta };
}

/** Apply the reflectors to x in place: Q^T x (first to last) or Q x (last to first). */
export function reflect(t: Tridiagonal, x: Float64Array, transpose: boolean): void {
  const K = t.v.length;
  for (let s = 0; s < K; s++) {
    const k = transpose ? s : K - 1 - s;
    const h = t.v[k]!;
    const b = t.beta[k]!;
    if (b === 0) continue;
    let dot = 0;
    for (let i = 0; i < h.length; i++) dot += h[i]! * x[k + 1 + i]!;
    const f = b * dot;
    for (let i = 0; i < h.length; i++) x[k + 1 + i]! -= f * h[i]!;
  }
}

/** (A + shift I)^-1 b from A's tridiagonal form (Thomas algorithm: T + shift I is positive definite). */
export function shiftedSolve(t: Tridiagonal, shift: number, b: Float64Array): Float64Array {
  const { d, diag, off } = t;
  const y = Float64Array.from(b);
  reflect(t, y, true);
  const c = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const sub = i > 0 ? off[i - 1]! : 0;
    const den = diag[i]! + shift - (i > 0 ? sub * c[i - 1]! : 0);
    if (!(den > 0)) throw new Error(`ridge: matrix not positive definite at row ${i}`);
    c[i] = i < d - 1 ? off[i]! / den : 0;
    y[i] = (y[i]! - (i > 0 ? sub * y[i - 1]! : 0)) / den;
  }
  for (let i = d - 2; i >= 0; i--) y[i]! -= c[i]! * y[i + 1]!;
  reflect(t, y, false);
  return y;
}
