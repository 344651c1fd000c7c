/** The age probe: ridge regression with nested cross-validation over its strength (src/age/probe.ts). */
import { centredGram, predict, training, type FoldStats, type Training } from './fold-stats.js';
import { dotv, quadForm, shiftedSolve, tridiagonalize, type Tridiagonal } from './linear-algebra.js';
import type { AgeProbeResult } from './probe.js';

/** Ridge with an unpenalised intercept on a training set (centred Gram in tridiagonal form): weights and intercept. */
function ridgeSolve(tri: Tridiagonal, lambda: number, t: Training, ti: number): { w: Float64Array; c: number } {
  const ybar = t.sy[ti]! / t.n;
  const b = Float64Array.from(t.sxy[ti]!, (v, j) => v - t.sx[j]! * ybar);
  const w = shiftedSolve(tri, lambda, b);
  return { w, c: ybar - dotv(t.sx, w) / t.n };
}

/** Squared error of y ~ c + x.w on fold f, from its sums alone. */
function foldSse(st: FoldStats, f: number, ti: number, w: Float64Array, c: number): number {
  const t = st.targets[ti]!;
  const n = st.n[f]!;
  return t.syy[f]! - 2 * c * t.sy[f]! - 2 * dotv(w, t.sxy[f]!) + n * c * c + 2 * c * dotv(w, st.sx[f]!) + quadForm(st.gram[f]!, w, st.d);
}

/**
 * Alpha per outer fold and target: for each pair of folds {a, b} fit on the rest for every
 * alpha (one fit serves inner fold b of outer fold a and inner fold a of outer fold b), sum
 * each outer fold's inner squared errors, take the smallest (the larger alpha on ties).
 */
export function chooseAlphas(st: FoldStats, alphas: readonly number[]): number[][] {
  const { d, k } = st;
  const T = st.targets.length;
  // sse[ti][o][ai]: inner squared error of outer fold o at alpha ai
  const sse = Array.from({ length: T }, () => Array.from({ length: k }, () => new Float64Array(alphas.length)));
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const t = training(st, [a, b]);
      if (t.n === 0) continue;
      const tri = tridiagonalize(centredGram(t, d), d);
      alphas.forEach((alpha, ai) => {
        for (let ti = 0; ti < T; ti++) {
          const fit = ridgeSolve(tri, alpha * t.n, t, ti);
          sse[ti]![a]![ai]! += foldSse(st, b, ti, fit.w, fit.c);
          sse[ti]![b]![ai]! += foldSse(st, a, ti, fit.w, fit.c);
        }
      });
    }
  }
  return sse.map((perFold) =>
    perFold.map((e) => {
      let best = 0;
      for (let ai = 1; ai < alphas.length; ai++) if (e[ai]! <= e[best]!) best = ai;
      return alphas[best]!;
    }),
  );
}

export function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per outer fold: its training set and, per target, the ridge at that target's chosen alpha (one reduction serves all targets). */
export interface OuterFit {
  t: Training;
  alpha: number[];
  fit: { w: Float64Array; c: number }[];
}

export function outerFits(st: FoldStats, chosen: number[][]): OuterFit[] {
  return Array.from({ length: st.k }, (_, o) => {
    const t = training(st, [o]);
    const tri = tridiagonalize(centredGram(t, st.d), st.d);
    const alpha = chosen.map((perFold) => perFold[o]!);
    return { t, alpha, fit: alpha.map((a, ti) => ridgeSolve(tri, a * t.n, t, ti)) };
  });
}

export function ridgeProbe(x: Float32Array, dim: number, inv: Float64Array, outer: OuterFit[], ti: number, byFold: Int32Array[], identities: number, age: Float64Array): AgeProbeResult {
  const k = byFold.length;
  let err = 0;
  let base = 0;
  let n = 0;
  const foldMae: number[] = [];
  for (let o = 0; o < k; o++) {
    const fit = outer[o]!.fit[ti]!;
    const med = median(byFold.flatMap((rows, f) => (f === o ? [] : Array.from(rows, (r) => age[r]!))));
    let e = 0;
    for (const r of byFold[o]!) {
      e += Math.abs(predict(x, dim, inv, r, fit.w, fit.c) - age[r]!);
      base += Math.abs(med - age[r]!);
    }
    err += e;
    n += byFold[o]!.length;
    foldMae.push(e / byFold[o]!.length);
  }
  return { samples: n, identities, folds: k, mae: err / n, baselineMae: base / n, ratio: err / base, foldMae, alpha: outer.map((f) => f.alpha[ti]!) };
}
