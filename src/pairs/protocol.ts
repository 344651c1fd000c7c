import type { Prng } from './prng.js';
import type { PairIdx, PairState } from './select.js';

/** The pairs of one fold, positives and negatives in the order they are written. */
export interface FoldPairs {
  positives: PairIdx[];
  negatives: PairIdx[];
}

/** One pair protocol over the loaded inputs: what each identity can give, and how a fold is drawn. */
export interface ProtocolPlan {
  /** Images of each identity this protocol can use. */
  usable: Int32Array;
  /** Estimated positives each identity can give under the image cap (balances the folds). */
  capacity: Float64Array;
  /** Draw up to `perFold` positives, then as many negatives, from the identities of one fold. */
  fold(members: readonly number[], prng: Prng, state: PairState, perFold: number): FoldPairs;
}
