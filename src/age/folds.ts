/** Folds by identity for the probes (src/age/probe.ts): no person in two folds. */
import type { ProbeSkipped } from './probe.js';

/**
 * Fold (0..k-1) of each row, no identity in two folds: GroupKFold's rule, identities by
 * decreasing row count (first seen first on ties), each to the fold with fewest rows (lowest index on ties).
 */
export function identityFolds(identity: readonly string[], k: number): Int32Array {
  const index = new Map<string, number>();
  const count: number[] = [];
  const group = identity.map((id) => {
    let g = index.get(id);
    if (g === undefined) {
      g = count.length;
      index.set(id, g);
      count.push(0);
    }
    count[g]!++;
    return g;
  });
  const order = count.map((_, g) => g).sort((a, b) => count[b]! - count[a]! || a - b);
  const size = new Array<number>(k).fill(0);
  const foldOf = new Int32Array(count.length);
  for (const g of order) {
    let f = 0;
    for (let j = 1; j < k; j++) if (size[j]! < size[f]!) f = j;
    foldOf[g] = f;
    size[f]! += count[g]!;
  }
  return Int32Array.from(group, (g) => foldOf[g]!);
}

/** The rows with a label, their folds, and why the probe cannot run (if it cannot). */
export function labelled(identity: readonly string[], has: (r: number) => boolean, k: number, what: string): { rows: Int32Array; byFold: Int32Array[]; identities: number } | ProbeSkipped {
  const rows: number[] = [];
  for (let r = 0; r < identity.length; r++) if (has(r)) rows.push(r);
  const ids = rows.map((r) => identity[r]!);
  const identities = new Set(ids).size;
  if (identities < k) return { skipped: `${identities} people with ${what}: the probe needs at least ${k} (one per fold)` };
  const fold = identityFolds(ids, k);
  const byFold = Array.from({ length: k }, (_, f) => Int32Array.from(rows.filter((_, i) => fold[i] === f)));
  return { rows: Int32Array.from(rows), byFold, identities };
}
