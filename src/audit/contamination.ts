/**
 * Pair contamination: the pairs of each pair file that touch a finding, and what the file's
 * accuracy is with and without them (from a benchmark report's scores, when one exists). Pure.
 */
import { kFoldAccuracy } from '../benchmark/metrics.js';
import { idOfImageName } from '../dataset/names.js';
import type { PairList } from '../pairs/pair-list.js';
import type { DuplicateFinding, PairFileEffect, PairFinding } from './findings.js';

/** One scored pair of a report's scores.csv. */
export interface ScoredRow {
  index: number;
  fold: number;
  same: boolean;
  score: number;
}

export function pairContamination(list: PairList, flagged: ReadonlyMap<string, string>, duplicates: readonly DuplicateFinding[]): PairFinding[] {
  const groupOf = new Map<string, number>();
  duplicates.forEach((d, g) => d.ids.forEach((id) => groupOf.set(id, g)));
  const out: PairFinding[] = [];
  for (const p of list.pairs) {
    const a = idOfImageName(p.a) ?? p.a;
    const b = idOfImageName(p.b) ?? p.b;
    const g = groupOf.get(a);
    const problems: string[] = [];
    if (g !== undefined && g === groupOf.get(b)) problems.push(p.same ? `one photo twice (${duplicates[g]!.kind} duplicates): a genuine pair that proves nothing` : `one photo twice (${duplicates[g]!.kind} duplicates) as an impostor pair: one of the two labels is wrong`);
    for (const id of [a, b]) {
      const why = flagged.get(id);
      if (why && !(g !== undefined && g === groupOf.get(b) && why.includes('duplicate'))) problems.push(`${id}: ${why}`);
    }
    if (problems.length) out.push({ file: list.file, line: p.line, problem: problems.join('; '), ids: [a, b] });
  }
  return out;
}

/** insightface's 10-fold accuracy (src/benchmark/metrics.ts) of some rows of a report's scores. */
function accuracyOf(rows: readonly ScoredRow[], folds: number): number {
  const present = [...new Set(rows.map((r) => r.fold))].sort((a, b) => a - b);
  const fold = Int32Array.from(rows, (r) => present.indexOf(r.fold));
  return kFoldAccuracy({ dist: Float64Array.from(rows, (r) => 2 - 2 * r.score), same: Uint8Array.from(rows, (r) => (r.same ? 1 : 0)), fold, folds: Math.min(folds, present.length) }).mean;
}

/** A pair file's counts, and its accuracy with and without the flagged pairs when its scores are given. */
export function pairFileEffect(list: PairList, found: readonly PairFinding[], scores?: { rows: ScoredRow[]; report: string }): PairFileEffect {
  const effect: PairFileEffect = { file: list.file, pairs: list.pairs.length, flagged: found.length };
  if (!scores || !scores.rows.length) return effect;
  const bad = new Set(found.map((f) => f.line));
  const lineOf = list.pairs.map((p) => p.line);
  const clean = scores.rows.filter((r) => !bad.has(lineOf[r.index]!));
  // with every pair flagged there is nothing left to score
  return { ...effect, accuracy: { all: accuracyOf(scores.rows, list.folds), clean: clean.length ? accuracyOf(clean, list.folds) : null, report: scores.report } };
}
