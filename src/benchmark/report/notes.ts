/**
 * What a report must say beside its numbers so they are not misread (docs/benchmark-sets.md):
 * accuracy with no held-out threshold, FAR targets the training folds cannot measure, a
 * threshold grid coarser than the gap between the scores. Pure functions over ScoredPairs.
 */
import { ACCURACY_THRESHOLDS, kFoldAccuracy, meanStd, thresholdGrid, type AccuracyResult, type ScoredPairs, type TarResult } from '../metrics.js';
import type { RocMark } from './roc-svg.js';

/** Why the k-fold accuracy is not defined, or null when it is. */
export function accuracyUndefinedReason(folds: number): string | null {
  if (folds >= 2) return null;
  return `the pair file has ${folds} fold: the protocol picks each fold's threshold on the other folds, so with fewer than 2 there is no held-out threshold and no accuracy (write the pairs with 2 or more folds)`;
}

export interface FarMeasurability {
  farTarget: number;
  /** False when some fold's training negatives are too few to reach the target (FAR steps of 1 / negatives). */
  measurable: boolean;
  /** 1 / the fewest training negatives of any fold: the smallest FAR target every fold can measure. */
  smallestMeasurableFar: number;
}

/** Per FAR target: can the training folds (all folds but the held-out one) measure it? */
export function farMeasurability(p: ScoredPairs, targets: readonly number[]): FarMeasurability[] {
  const neg = new Float64Array(p.folds);
  for (let k = 0; k < p.same.length; k++) if (!p.same[k]) neg[p.fold[k]!]!++;
  const all = neg.reduce((s, v) => s + v, 0);
  let fewest = Number.POSITIVE_INFINITY;
  for (let f = 0; f < p.folds; f++) fewest = Math.min(fewest, p.folds > 1 ? all - neg[f]! : all);
  const smallest = fewest > 0 ? 1 / fewest : Number.POSITIVE_INFINITY;
  return targets.map((farTarget) => ({ farTarget, measurable: farTarget >= smallest, smallestMeasurableFar: smallest }));
}

/** Step of the fine grid reported beside the protocol's 0.01 when the scores fall between its thresholds. */
export const FINE_GRID_STEP = 1e-4;

export interface GridNote {
  /** Largest genuine and smallest impostor squared-L2 distance over all pairs. */
  maxGenuine: number;
  minImpostor: number;
  /** The protocol's grid step (squared L2). */
  step: number;
  /** Genuine and impostor pairs are separable and no grid threshold falls between them. */
  coarser: boolean;
  /** The k-fold accuracy on a grid of FINE_GRID_STEP, when `coarser` (an extra: never the protocol's number). */
  fineGrid: { step: number; mean: number; std: number } | null;
}

/**
 * Is the protocol's threshold grid coarser than the gap between genuine and impostor scores?
 * Then accuracy stays below 100% while the EER is 0: no threshold of the grid separates them.
 */
export function gridNote(p: ScoredPairs, grid: Float64Array = ACCURACY_THRESHOLDS): GridNote {
  let maxGenuine = Number.NEGATIVE_INFINITY;
  let minImpostor = Number.POSITIVE_INFINITY;
  for (let k = 0; k < p.dist.length; k++) {
    if (p.same[k]) maxGenuine = Math.max(maxGenuine, p.dist[k]!);
    else minImpostor = Math.min(minImpostor, p.dist[k]!);
  }
  const step = grid.length > 1 ? grid[1]! - grid[0]! : 0;
  // "same" when dist < t: a separating t has maxGenuine < t <= minImpostor
  const separable = maxGenuine < minImpostor && Number.isFinite(maxGenuine) && Number.isFinite(minImpostor);
  const separates = separable && grid.some((t) => maxGenuine < t && t <= minImpostor);
  const coarser = separable && !separates;
  let fineGrid: GridNote['fineGrid'] = null;
  if (coarser && p.folds >= 2) {
    const fine = kFoldAccuracy(p, thresholdGrid(FINE_GRID_STEP, Math.round((step * grid.length) / FINE_GRID_STEP)));
    fineGrid = { step: FINE_GRID_STEP, mean: fine.mean, std: fine.std };
  }
  return { maxGenuine, minImpostor, step, coarser, fineGrid };
}

/** Pooled FAR and TAR at the squared-L2 threshold `threshold` ("same" when dist < it, as the protocol decides): a point to mark on the ROC. */
export function operatingPoint(p: Pick<ScoredPairs, 'dist' | 'same'>, threshold: number): { far: number; tar: number } {
  let tp = 0;
  let fp = 0;
  let P = 0;
  for (let k = 0; k < p.dist.length; k++) {
    if (p.same[k]) P++;
    if (p.dist[k]! < threshold) {
      if (p.same[k]) tp++;
      else fp++;
    }
  }
  const N = p.dist.length - P;
  return { far: N ? fp / N : Number.NaN, tar: P ? tp / P : Number.NaN };
}

export interface ReportNotes {
  accuracyUndefined: string | null;
  grid: GridNote;
  far: FarMeasurability[];
  /** The protocol threshold (mean over folds), the EER point and each measurable TAR@FAR point, for the ROC plot. */
  marks: RocMark[];
}

/** Everything above for one scored pair file, from the protocol's results. */
export function reportNotes(p: ScoredPairs, acc: AccuracyResult, tars: readonly TarResult[], eer: number): ReportNotes {
  const accuracyUndefined = accuracyUndefinedReason(p.folds);
  const far = farMeasurability(p, tars.map((t) => t.farTarget));
  const marks: RocMark[] = [];
  if (!accuracyUndefined) {
    const t = meanStd(acc.foldThreshold).mean;
    marks.push({ label: `protocol threshold (cos ${(1 - t / 2).toFixed(3)}, mean of folds)`, ...operatingPoint(p, t) });
  }
  marks.push({ label: `EER ${(100 * eer).toFixed(2)}%`, far: eer, tar: 1 - eer });
  tars.forEach((t, k) => {
    if (far[k]!.measurable) marks.push({ label: `TAR@FAR=${t.farTarget}`, far: t.far, tar: t.tar });
  });
  return { accuracyUndefined, grid: gridNote(p), far, marks };
}
