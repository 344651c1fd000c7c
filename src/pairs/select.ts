import type { Prng } from './prng.js';

/** How far a partner search scans from its random start before giving up on an anchor. */
export const MAX_PROBES = 256;

/** A chosen pair of image indices, in the order the line names them. */
export type PairIdx = readonly [number, number];

/**
 * What a run has used so far: how many positive and negative pairs each image is in (the cap
 * spreads images), and every pair already taken (no pair twice, in either order).
 */
export class PairState {
  readonly posUse: Uint8Array;
  readonly negUse: Uint8Array;
  private readonly taken = new Set<number>();

  constructor(
    private readonly images: number,
    readonly cap: number,
  ) {
    this.posUse = new Uint8Array(images);
    this.negUse = new Uint8Array(images);
  }

  private key(a: number, b: number): number {
    return a < b ? a * this.images + b : b * this.images + a;
  }

  has(a: number, b: number): boolean {
    return this.taken.has(this.key(a, b));
  }

  take(a: number, b: number, same: boolean): void {
    this.taken.add(this.key(a, b));
    const use = same ? this.posUse : this.negUse;
    use[a]!++;
    use[b]!++;
  }
}

/** First index in sorted `values[lo..hi)` whose value is >= v. */
export function lowerBound(values: Float64Array, v: number, lo = 0, hi = values.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A partner from `pool[lo..hi)`: scan cyclically from a random start, at most MAX_PROBES
 * candidates, for the first that `ok` accepts; -1 if none.
 */
export function findPartner(pool: Int32Array, lo: number, hi: number, prng: Prng, ok: (y: number) => boolean): number {
  const len = hi - lo;
  if (len <= 0) return -1;
  const first = prng.below(len);
  const probes = Math.min(len, MAX_PROBES);
  for (let k = 0; k < probes; k++) {
    const y = pool[lo + ((first + k) % len)]!;
    if (ok(y)) return y;
  }
  return -1;
}

/**
 * Anchors taken in turn, cyclically: `next` offers each anchor to `tryAnchor` until one
 * gives a pair; null after a whole cycle gave none (the anchors are exhausted).
 */
export class AnchorCycle {
  private cursor = 0;

  constructor(readonly anchors: Int32Array) {}

  next(tryAnchor: (x: number) => PairIdx | null): PairIdx | null {
    const n = this.anchors.length;
    for (let t = 0; t < n; t++) {
      const x = this.anchors[this.cursor]!;
      this.cursor = (this.cursor + 1) % n;
      const pair = tryAnchor(x);
      if (pair) return pair;
    }
    return null;
  }
}

/**
 * Positives spread over identities: rounds over `identities` (in their shuffled order), each
 * round asking every identity still able to give one for one more pair, until `need` pairs.
 */
export function roundRobin(identities: readonly number[], need: number, one: (identity: number) => PairIdx | null): PairIdx[] {
  const out: PairIdx[] = [];
  let active = identities.slice();
  while (out.length < need && active.length > 0) {
    const still: number[] = [];
    for (const k of active) {
      if (out.length >= need) break;
      const pair = one(k);
      if (pair) {
        out.push(pair);
        still.push(k);
      }
    }
    active = still;
  }
  return out;
}

/**
 * Up to `need` more pairs from `cycle` appended to `out` (returned), stopping early when it is
 * exhausted. Appending in place: a fold's pairs can outnumber what one call may take as arguments.
 */
export function take(cycle: AnchorCycle, need: number, tryAnchor: (x: number) => PairIdx | null, out: PairIdx[] = []): PairIdx[] {
  for (let got = 0; got < need; got++) {
    const pair = cycle.next(tryAnchor);
    if (!pair) break;
    out.push(pair);
  }
  return out;
}
