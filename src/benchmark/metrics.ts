/**
 * Verification metrics, as pure functions over per-pair squared-L2 distances between unit
 * embeddings: insightface's `eval/verification.py` protocol (10-fold accuracy, TAR@FAR with
 * scipy's interpolation), and the pooled ROC, AUC and EER.
 */

/** Pairs with their fold: what every metric here reads. */
export interface ScoredPairs {
  /** Squared L2 distance between the two unit embeddings (= 2 - 2 cos), one per pair. */
  dist: Float64Array;
  /** 1 = same person. */
  same: Uint8Array;
  /** 0-based fold of each pair, < folds. */
  fold: Int32Array;
  folds: number;
}

/** `np.arange(0, count * step, step)`: numpy fills element i as start + i * step. */
export function thresholdGrid(step: number, count: number): Float64Array {
  const t = new Float64Array(count);
  for (let i = 0; i < count; i++) t[i] = i * step;
  return t;
}

/** insightface's grids: accuracy over 0..3.99 step 0.01, TAR@FAR over 0..3.999 step 0.001. */
export const ACCURACY_THRESHOLDS = thresholdGrid(0.01, 400);
export const VAL_THRESHOLDS = thresholdGrid(0.001, 4000);

/**
 * Per fold and threshold i, how many positives / negatives have dist < grid[i]: one pass
 * binning each pair by the first threshold above it, then prefix sums (so 1M pairs cost
 * one pass, not folds x thresholds passes). Row f, column i at f * T + i.
 */
export function countsBelow(p: ScoredPairs, grid: Float64Array): { pos: Float64Array; neg: Float64Array } {
  const T = grid.length;
  const W = T + 1;
  const pos = new Float64Array(p.folds * W);
  const neg = new Float64Array(p.folds * W);
  const step = T > 1 ? grid[1]! - grid[0]! : 1;
  const start = grid[0] ?? 0;
  for (let k = 0; k < p.dist.length; k++) {
    const d = p.dist[k]!;
    // first index with d < grid[i] (T when none): estimate, then settle on the exact comparisons
    let i = Math.floor((d - start) / step) + 1;
    if (!(i >= 0)) i = d < start ? 0 : T;
    if (i > T) i = T;
    while (i > 0 && d < grid[i - 1]!) i--;
    while (i < T && !(d < grid[i]!)) i++;
    const row = p.fold[k]! * W;
    if (p.same[k]) pos[row + i]!++;
    else neg[row + i]!++;
  }
  // prefix sums: column i becomes the count of bins 0..i, i.e. of dist < grid[i]
  for (let f = 0; f < p.folds; f++) {
    const row = f * W;
    for (let i = 1; i < T; i++) {
      pos[row + i]! += pos[row + i - 1]!;
      neg[row + i]! += neg[row + i - 1]!;
    }
  }
  return { pos, neg };
}

function foldTotals(p: ScoredPairs): { pos: Float64Array; neg: Float64Array } {
  const pos = new Float64Array(p.folds);
  const neg = new Float64Array(p.folds);
  for (let k = 0; k < p.same.length; k++) {
    if (p.same[k]) pos[p.fold[k]!]!++;
    else neg[p.fold[k]!]!++;
  }
  return { pos, neg };
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** np.mean and np.std (population, ddof 0). */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = sum(values) / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / n) };
}

export interface AccuracyResult {
  /** Held-out accuracy of each fold. */
  foldAccuracy: number[];
  /** Squared-L2 threshold chosen on the other folds, per fold ("same" when dist < it). */
  foldThreshold: number[];
  mean: number;
  std: number;
  /** TPR and FPR per grid threshold, averaged over the held-out folds (insightface's ROC). */
  tpr: Float64Array;
  fpr: Float64Array;
  thresholds: Float64Array;
}

/** insightface `calculate_roc`: the threshold with the best accuracy on the other folds (first on ties), applied to the held-out fold. */
export function kFoldAccuracy(p: ScoredPairs, grid: Float64Array = ACCURACY_THRESHOLDS): AccuracyResult {
  const T = grid.length;
  const W = T + 1;
  const { pos, neg } = countsBelow(p, grid);
  const tot = foldTotals(p);
  const allPos = new Float64Array(T);
  const allNeg = new Float64Array(T);
  for (let f = 0; f < p.folds; f++) {
    for (let i = 0; i < T; i++) {
      allPos[i]! += pos[f * W + i]!;
      allNeg[i]! += neg[f * W + i]!;
    }
  }
  const P = sum(tot.pos);
  const N = sum(tot.neg);
  const foldAccuracy: number[] = [];
  const foldThreshold: number[] = [];
  const tpr = new Float64Array(T);
  const fpr = new Float64Array(T);
  for (let f = 0; f < p.folds; f++) {
    const row = f * W;
    const trainPos = P - tot.pos[f]!;
    const trainNeg = N - tot.neg[f]!;
    const trainN = trainPos + trainNeg;
    let best = 0;
    let bestAcc = -1;
    for (let i = 0; i < T; i++) {
      const tp = allPos[i]! - pos[row + i]!;
      const tn = trainNeg - (allNeg[i]! - neg[row + i]!);
      const acc = (tp + tn) / trainN;
      if (acc > bestAcc) {
        bestAcc = acc;
        best = i;
      }
    }
    const testN = tot.pos[f]! + tot.neg[f]!;
    for (let i = 0; i < T; i++) {
      const tp = pos[row + i]!;
      const fp = neg[row + i]!;
      tpr[i]! += tot.pos[f]! === 0 ? 0 : tp / tot.pos[f]!;
      fpr[i]! += tot.neg[f]! === 0 ? 0 : fp / tot.neg[f]!;
    }
    foldAccuracy.push((pos[row + best]! + tot.neg[f]! - neg[row + best]!) / testN);
    foldThreshold.push(grid[best]!);
  }
  for (let i = 0; i < T; i++) {
    tpr[i]! /= p.folds;
    fpr[i]! /= p.folds;
  }
  const { mean, std } = meanStd(foldAccuracy);
  return { foldAccuracy, foldThreshold, mean, std, tpr, fpr, thresholds: grid };
}

/**
 * scipy `interp1d(x, y, kind='slinear')(target)` for a non-decreasing x starting at or below
 * target: the degree-1 B-spline on knots [x0, x..., xlast], evaluated as scipy's de Boor does.
 */
export function slinearAt(x: ArrayLike<number>, y: ArrayLike<number>, target: number): number {
  const n = x.length;
  // the interval scipy's find_interval picks: last j with x[j] <= target, at most n - 2
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (x[mid]! <= target) lo = mid;
    else hi = mid - 1;
  }
  const j = Math.min(lo, n - 2);
  const xa = x[j]!;
  const xb = x[j + 1]!;
  // scipy's de Boor gives 0 on an empty interval
  if (xb === xa) return 0;
  const w = 1 / (xb - xa);
  return y[j]! * (w * (xb - target)) + y[j + 1]! * (w * (target - xa));
}

export interface TarResult {
  farTarget: number;
  /** Mean over folds of the held-out TAR and FAR (insightface's val_mean, far_mean), and the TAR std. */
  tar: number;
  tarStd: number;
  far: number;
  foldTar: number[];
  foldFar: number[];
  /** Squared-L2 threshold per fold (0 when the training FAR never reaches the target). */
  foldThreshold: number[];
}

/** insightface `calculate_val`: per fold, the threshold where the other folds' FAR hits the target, measured on the held-out fold. */
export function tarAtFar(p: ScoredPairs, farTarget: number, grid: Float64Array = VAL_THRESHOLDS): TarResult {
  return tarAtFars(p, [farTarget], grid)[0]!;
}

/** `tarAtFar` for several targets, binning the pairs once. */
export function tarAtFars(p: ScoredPairs, farTargets: readonly number[], grid: Float64Array = VAL_THRESHOLDS): TarResult[] {
  const T = grid.length;
  const W = T + 1;
  const { neg } = countsBelow(p, grid);
  const tot = foldTotals(p);
  const N = sum(tot.neg);
  const allNeg = new Float64Array(T);
  for (let f = 0; f < p.folds; f++) for (let i = 0; i < T; i++) allNeg[i]! += neg[f * W + i]!;
  // FAR on the training folds per threshold, one row per fold
  const farTrain = new Float64Array(p.folds * T);
  const maxFar = new Float64Array(p.folds);
  for (let f = 0; f < p.folds; f++) {
    const trainNeg = N - tot.neg[f]!;
    for (let i = 0; i < T; i++) {
      const v = trainNeg === 0 ? 0 : (allNeg[i]! - neg[f * W + i]!) / trainNeg;
      farTrain[f * T + i] = v;
      if (v > maxFar[f]!) maxFar[f] = v;
    }
  }
  return farTargets.map((farTarget) => {
    const foldThreshold: number[] = [];
    for (let f = 0; f < p.folds; f++) {
      foldThreshold.push(maxFar[f]! >= farTarget ? slinearAt(farTrain.subarray(f * T, (f + 1) * T), grid, farTarget) : 0);
    }
    const ta = new Float64Array(p.folds);
    const fa = new Float64Array(p.folds);
    for (let k = 0; k < p.dist.length; k++) {
      const f = p.fold[k]!;
      if (p.dist[k]! < foldThreshold[f]!) {
        if (p.same[k]) ta[f]!++;
        else fa[f]!++;
      }
    }
    const foldTar: number[] = [];
    const foldFar: number[] = [];
    for (let f = 0; f < p.folds; f++) {
      foldTar.push(tot.pos[f]! === 0 ? 0 : ta[f]! / tot.pos[f]!);
      foldFar.push(tot.neg[f]! === 0 ? 0 : fa[f]! / tot.neg[f]!);
    }
    const { mean: tar, std: tarStd } = meanStd(foldTar);
    return { farTarget, tar, tarStd, far: meanStd(foldFar).mean, foldTar, foldFar, foldThreshold };
  });
}

export interface RocCurve {
  /** One point per distinct score, from the strictest threshold to the loosest; starts at (0, 0). */
  fpr: Float64Array;
  tpr: Float64Array;
  /** Cosine threshold of each point ("same" when cos >= it); +Infinity for the first point. */
  thresholds: Float64Array;
}

/** The exact ROC over all pairs pooled (sklearn `roc_curve` without dropping points), on cosine scores. */
export function rocCurve(score: Float64Array, same: Uint8Array): RocCurve {
  // positives and negatives sorted apart (native numeric sort), then merged from the top score down
  const n = score.length;
  let P = 0;
  for (let k = 0; k < n; k++) P += same[k]!;
  const N = n - P;
  const ps = new Float64Array(P);
  const ns = new Float64Array(N);
  for (let k = 0, a = 0, b = 0; k < n; k++) {
    // a NaN score (never produced by unit vectors) ranks last instead of stalling the merge
    const v = Number.isNaN(score[k]) ? Number.NEGATIVE_INFINITY : score[k]!;
    if (same[k]) ps[a++] = v;
    else ns[b++] = v;
  }
  ps.sort();
  ns.sort();
  const fpr = new Float64Array(n + 1);
  const tpr = new Float64Array(n + 1);
  const thr = new Float64Array(n + 1);
  thr[0] = Number.POSITIVE_INFINITY;
  let m = 1;
  let i = P - 1;
  let j = N - 1;
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? ns[j]! : j < 0 ? ps[i]! : Math.max(ps[i]!, ns[j]!);
    while (i >= 0 && ps[i] === v) i--;
    while (j >= 0 && ns[j] === v) j--;
    fpr[m] = N === 0 ? 0 : (N - 1 - j) / N;
    tpr[m] = P === 0 ? 0 : (P - 1 - i) / P;
    thr[m++] = v;
  }
  return { fpr: fpr.slice(0, m), tpr: tpr.slice(0, m), thresholds: thr.slice(0, m) };
}

/** Area under the ROC by the trapezoid rule (= the probability a positive outscores a negative, ties half). */
export function rocAuc(roc: RocCurve): number {
  let a = 0;
  for (let i = 1; i < roc.fpr.length; i++) a += ((roc.fpr[i]! - roc.fpr[i - 1]!) * (roc.tpr[i]! + roc.tpr[i - 1]!)) / 2;
  return a;
}

/** Equal error rate: where FPR = 1 - TPR, linearly interpolated between the two ROC points around the crossing. */
export function equalErrorRate(roc: RocCurve): number {
  for (let i = 1; i < roc.fpr.length; i++) {
    const d0 = roc.fpr[i - 1]! - (1 - roc.tpr[i - 1]!);
    const d1 = roc.fpr[i]! - (1 - roc.tpr[i]!);
    if (d1 >= 0) {
      if (d1 === d0) return roc.fpr[i]!;
      const s = d0 / (d0 - d1);
      return roc.fpr[i - 1]! + s * (roc.fpr[i]! - roc.fpr[i - 1]!);
    }
  }
  return 1;
}

/** TAR at each FAR of the pooled step ROC: the TPR of the last point with FPR <= far (both rise along the curve). */
export function tarAtFarPooled(roc: RocCurve, fars: readonly number[]): number[] {
  return fars.map((far) => {
    let lo = 0;
    let hi = roc.fpr.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (roc.fpr[mid]! <= far) lo = mid;
      else hi = mid - 1;
    }
    return roc.tpr[lo]!;
  });
}

/** The ROC thinned for reports and plots: TAR at FARs spaced evenly on a log axis from 1/negatives to 1. */
export function rocForPlot(roc: RocCurve, negatives: number, points = 120): { far: number[]; tar: number[] } {
  const lo = Math.log10(1 / Math.max(negatives, 1));
  const far: number[] = [];
  for (let i = 0; i < points; i++) far.push(10 ** (lo + ((0 - lo) * i) / (points - 1)));
  return { far, tar: tarAtFarPooled(roc, far) };
}
