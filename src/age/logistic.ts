/** The gender probe: L2-regularised logistic regression at the strength the ridge's inner folds chose (src/age/probe.ts). */
import { predict, type Training } from './fold-stats.js';
import { cholesky, choleskySolve, dotv } from './linear-algebra.js';
import type { GenderProbeResult } from './probe.js';
import type { OuterFit } from './ridge.js';

const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Stop when the preconditioned gradient's squared size per row falls below this. */
const LOGISTIC_TOLERANCE = 1e-14;
const LOGISTIC_MAX_ITERATIONS = 300;

export function logisticProbe(x: Float32Array, dim: number, inv: Float64Array, outer: OuterFit[], ti: number, byFold: Int32Array[], identities: number, male: Int8Array): GenderProbeResult {
  const k = byFold.length;
  let right = 0;
  let baseRight = 0;
  let loss = 0;
  let baseLoss = 0;
  let n = 0;
  const foldAccuracy: number[] = [];
  const iterations: number[] = [];
  for (let o = 0; o < k; o++) {
    const { t, alpha, fit: ridge } = outer[o]!;
    const rows = Int32Array.from(byFold.flatMap((r, f) => (f === o ? [] : Array.from(r))));
    // warm start: twice the +-1 ridge, the minimiser of the logistic loss's quadratic approximation at 0
    const fit = logisticFit(x, dim, inv, rows, male, t, (alpha[ti]! * t.n) / 4, ridge[ti]!);
    iterations.push(fit.iterations);
    let males = 0;
    for (const r of rows) males += male[r]!;
    const majority = 2 * males >= rows.length ? 1 : 0;
    const share = males / rows.length;
    let ok = 0;
    for (const r of byFold[o]!) {
      const z = predict(x, dim, inv, r, fit.w, fit.c);
      if ((z > 0 ? 1 : 0) === male[r]) ok++;
      if (majority === male[r]) baseRight++;
      loss += softplus(z) - male[r]! * z;
      baseLoss -= Math.log(male[r] === 1 ? share : 1 - share);
    }
    right += ok;
    n += byFold[o]!.length;
    foldAccuracy.push(ok / byFold[o]!.length);
  }
  return { samples: n, identities, folds: k, accuracy: right / n, baselineAccuracy: baseRight / n, foldAccuracy, logLoss: loss / n, baselineLogLoss: baseLoss / n, alpha: outer.map((f) => f.alpha[ti]!), iterations };
}

/**
 * Minimise sum logloss(y, c + x.w) + lambda/2 |w|^2 by preconditioned nonlinear conjugate
 * gradients (Polak-Ribiere+), preconditioned by Boehning's bound on the Hessian
 * ([1 x]^T [1 x] / 4 + lambda, one Cholesky per fit from the Gram already summed), each step
 * with an exact line search (1-D safeguarded Newton, one pass over the rows' margins).
 */
function logisticFit(
  x: Float32Array,
  dim: number,
  inv: Float64Array,
  rows: Int32Array,
  male: Int8Array,
  t: Training,
  lambda: number,
  start: { w: Float64Array; c: number },
): { w: Float64Array; c: number; iterations: number } {
  const d = dim;
  const D = d + 1;
  const m = rows.length;
  // parameters theta = [c, w]; the bound matrix on the same layout
  const bound = new Float64Array(D * D);
  bound[0] = t.n / 4;
  for (let j = 0; j < d; j++) {
    bound[j + 1] = bound[(j + 1) * D] = t.sx[j]! / 4;
    for (let i = 0; i < d; i++) bound[(i + 1) * D + j + 1] = t.gram[i * d + j]! / 4 + (i === j ? lambda : 0);
  }
  const l = cholesky(bound, D, 0);
  const theta = new Float64Array(D);
  theta[0] = 2 * start.c;
  for (let j = 0; j < d; j++) theta[j + 1] = 2 * start.w[j]!;
  const y = Float64Array.from(rows, (r) => male[r]!);
  const z = new Float64Array(m);
  const u = new Float64Array(m);
  const margins = (th: Float64Array, out: Float64Array) => {
    const w = th.subarray(1);
    rows.forEach((r, i) => (out[i] = predict(x, dim, inv, r, w, th[0]!)));
  };
  const gradient = (): Float64Array => {
    const g = new Float64Array(D);
    for (let i = 0; i < m; i++) {
      const e = sigmoid(z[i]!) - y[i]!;
      g[0]! += e;
      const r = rows[i]!;
      const f = e * inv[r]!;
      const off = r * dim - 1;
      for (let j = 1; j < D; j++) g[j]! += f * x[off + j]!;
    }
    for (let j = 1; j < D; j++) g[j]! += lambda * theta[j]!;
    return g;
  };
  margins(theta, z);
  let g = gradient();
  let h = choleskySolve(l, D, g);
  let dir = h.map((v) => -v);
  let gh = dotv(g, h);
  let it = 0;
  while (it < LOGISTIC_MAX_ITERATIONS && gh > LOGISTIC_TOLERANCE * m) {
    it++;
    if (dotv(g, dir) >= 0) dir = h.map((v) => -v); // not a descent direction: restart
    margins(dir, u);
    const step = lineSearch(z, u, y, theta, dir, lambda);
    for (let j = 0; j < D; j++) theta[j]! += step * dir[j]!;
    for (let i = 0; i < m; i++) z[i]! += step * u[i]!;
    const gNew = gradient();
    const hNew = choleskySolve(l, D, gNew);
    const ghNew = dotv(gNew, hNew);
    const beta = Math.max(0, (ghNew - dotv(gNew, h)) / gh);
    dir = hNew.map((v, j) => -v + beta * dir[j]!);
    g = gNew;
    h = hNew;
    gh = ghNew;
  }
  return { w: theta.slice(1), c: theta[0]!, iterations: it };
}

/** The t >= 0 minimising the objective along theta + t dir (margins z + t u): safeguarded Newton on the convex 1-D function. */
function lineSearch(z: Float64Array, u: Float64Array, y: Float64Array, theta: Float64Array, dir: Float64Array, lambda: number): number {
  let wd = 0;
  let dd = 0;
  for (let j = 1; j < theta.length; j++) {
    wd += theta[j]! * dir[j]!;
    dd += dir[j]! * dir[j]!;
  }
  const slope = (t: number): { d1: number; d2: number } => {
    let d1 = lambda * (wd + t * dd);
    let d2 = lambda * dd;
    for (let i = 0; i < z.length; i++) {
      const p = sigmoid(z[i]! + t * u[i]!);
      d1 += (p - y[i]!) * u[i]!;
      d2 += p * (1 - p) * u[i]! * u[i]!;
    }
    return { d1, d2 };
  };
  let lo = 0;
  let hi = 1;
  for (let s = slope(hi); s.d1 < 0 && hi < 1e6; s = slope(hi)) {
    lo = hi;
    hi *= 2;
  }
  let t = (lo + hi) / 2;
  for (let iter = 0; iter < 50; iter++) {
    const s = slope(t);
    if (s.d1 === 0) return t;
    if (s.d1 < 0) lo = t;
    else hi = t;
    const next = t - s.d1 / s.d2;
    const prev = t;
    t = next > lo && next < hi && Number.isFinite(next) ? next : (lo + hi) / 2;
    if (Math.abs(t - prev) < 1e-12 * Math.max(1, t) || hi - lo < 1e-12 * Math.max(1, hi)) break;
  }
  return t;
}
