import { GAP_BIN_YEARS, gapBin } from './cross-age.js';
import type { PairInputs } from './inputs.js';
import type { FoldPairs } from './protocol.js';
import type { PairIdx } from './select.js';

/** Counts per 5-year bin [from, to), ascending; `unknown` counts values that are not known. */
export interface Histogram {
  bins: { from: number; to: number; count: number }[];
  unknown: number;
}

export function histogram(values: Iterable<number>): Histogram {
  const counts = new Map<number, number>();
  let unknown = 0;
  for (const v of values) {
    if (Number.isNaN(v)) {
      unknown++;
      continue;
    }
    const b = gapBin(v);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const bins = [...counts.keys()].sort((a, b) => a - b).map((b) => ({ from: b * GAP_BIN_YEARS, to: (b + 1) * GAP_BIN_YEARS, count: counts.get(b)! }));
  return { bins, unknown };
}

/** Every pair of the lists in turn: folds are read in place, never spread into one call or array. */
function* each(lists: Iterable<readonly PairIdx[]>): Generator<PairIdx> {
  for (const list of lists) yield* list;
}

function* ages(inp: PairInputs, pairs: Iterable<PairIdx>): Generator<number> {
  for (const [a, b] of pairs) {
    yield inp.age[a]!;
    yield inp.age[b]!;
  }
}

function* gaps(inp: PairInputs, pairs: Iterable<PairIdx>): Generator<number> {
  for (const [a, b] of pairs) yield Math.abs(inp.age[b]! - inp.age[a]!);
}

export interface PairStats {
  /** Distinct identities named by each fold's pairs. */
  identitiesPerFold: number[];
  identities: number;
  images: number;
  /** Ages of the photos in positive / negative pairs (two per pair). */
  ageHistogram: { positive: Histogram; negative: Histogram };
  /** |age A - age B| of positive / negative pairs. */
  ageGapHistogram: { positive: Histogram; negative: Histogram };
  /** Largest |positives - negatives| in one age-gap bin of one fold (0: matched exactly). */
  maxGapBinDifference: number;
}

export function pairStats(inp: PairInputs, folds: readonly FoldPairs[]): PairStats {
  const identities = new Set<number>();
  const images = new Set<number>();
  let maxGapBinDifference = 0;
  const identitiesPerFold = folds.map((f) => {
    const inFold = new Set<number>();
    for (const [a, b] of each([f.positives, f.negatives])) {
      inFold.add(inp.identity[a]!).add(inp.identity[b]!);
      images.add(a).add(b);
    }
    inFold.forEach((k) => identities.add(k));
    const diff = new Map<number, number>();
    for (const g of gaps(inp, f.positives)) if (!Number.isNaN(g)) diff.set(gapBin(g), (diff.get(gapBin(g)) ?? 0) + 1);
    for (const g of gaps(inp, f.negatives)) if (!Number.isNaN(g)) diff.set(gapBin(g), (diff.get(gapBin(g)) ?? 0) - 1);
    for (const d of diff.values()) maxGapBinDifference = Math.max(maxGapBinDifference, Math.abs(d));
    return inFold.size;
  });
  return {
    identitiesPerFold,
    identities: identities.size,
    images: images.size,
    ageHistogram: { positive: histogram(ages(inp, each(folds.map((f) => f.positives)))), negative: histogram(ages(inp, each(folds.map((f) => f.negatives)))) },
    ageGapHistogram: { positive: histogram(gaps(inp, each(folds.map((f) => f.positives)))), negative: histogram(gaps(inp, each(folds.map((f) => f.negatives)))) },
    maxGapBinDifference,
  };
}
