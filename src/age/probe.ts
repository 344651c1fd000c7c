/**
 * Linear probes of an identity embedding: how much age (and gender) a linear read-out of the
 * L2-normalised embedding recovers on people it never saw. Pure functions over typed arrays,
 * pinned to the numpy implementation in test/age/probe_ref.py.
 *
 * - Folds split by identity (every image of a person in one fold), assigned as scikit-learn's
 *   GroupKFold does: identities by decreasing image count, each into the fold with fewest rows.
 * - Age: ridge regression with an unpenalised intercept, solved in closed form from per-fold
 *   sums (the d x d Gram of each fold is built once; every fit is a d x d solve). Its strength
 *   is chosen per outer fold by an inner cross-validation over the other folds (nested), on
 *   the squared error, and the probe is scored by MAE against the training folds' median age.
 * - Gender: L2-regularised logistic regression; its strength is the one the inner folds choose
 *   for the least-squares fit to +-1 labels, scaled so that the logistic loss's quadratic
 *   approximation at 0 is that very ridge (a cheap, nested choice: a logistic fit per candidate
 *   would cost a pass over the rows per iteration).
 */

import { foldStats, inverseNorms, type FoldStats } from './fold-stats.js';
import { labelled } from './folds.js';
import { logisticProbe } from './logistic.js';
import { chooseAlphas, outerFits, ridgeProbe } from './ridge.js';

/** Default ridge strengths, as multiples of the training rows (lambda = alpha * n_train). */
export const PROBE_ALPHAS: readonly number[] = Array.from({ length: 13 }, (_, i) => 10 ** (-5 + i / 2));
export const PROBE_FOLDS = 5;

export interface ProbeInput {
  /** n rows of `dim` floats, normalised to unit length here (a zero row stays zero). */
  x: Float32Array;
  dim: number;
  /** The person in each row: rows of one person always share a fold. */
  identity: readonly string[];
  /** Age in years per row; NaN where unknown. */
  age?: Float64Array;
  /** 1 male, 0 female, -1 unknown. */
  male?: Int8Array;
}

export interface ProbeOptions {
  folds?: number;
  alphas?: readonly number[];
}

/** A probe that could not run, and why. */
export interface ProbeSkipped {
  skipped: string;
}

export interface AgeProbeResult {
  samples: number;
  identities: number;
  folds: number;
  /** Mean absolute error of the held-out predictions (years). */
  mae: number;
  /** The same for the constant predictor: each fold's training median age. */
  baselineMae: number;
  /** mae / baselineMae: about 1 means no age is linearly readable. */
  ratio: number;
  foldMae: number[];
  /** Ridge strength chosen per outer fold (lambda / training rows). */
  alpha: number[];
}

export interface GenderProbeResult {
  samples: number;
  identities: number;
  folds: number;
  /** Held-out accuracy of the logistic probe. */
  accuracy: number;
  /** Held-out accuracy of predicting each fold's training majority. */
  baselineAccuracy: number;
  foldAccuracy: number[];
  /** Mean held-out cross-entropy (nats) of the probe's probabilities, and of each fold's training share of men. */
  logLoss: number;
  baselineLogLoss: number;
  /** Strength chosen per outer fold (the +-1 ridge's alpha; the logistic L2 is alpha * n_train / 4). */
  alpha: number[];
  /** Solver iterations per fold. */
  iterations: number[];
}

export interface ProbeResults {
  age: AgeProbeResult | ProbeSkipped;
  gender: GenderProbeResult | ProbeSkipped;
}

/** Both probes (each on the rows that carry its label), folds by identity. */
export function linearProbes(input: ProbeInput, opts: ProbeOptions = {}): ProbeResults {
  const k = opts.folds ?? PROBE_FOLDS;
  const alphas = opts.alphas ?? PROBE_ALPHAS;
  const { x, dim, identity } = input;
  const n = identity.length;
  if (x.length !== n * dim) throw new Error(`linearProbes: ${n} identities for ${x.length / dim} rows of ${dim}`);
  const inv = inverseNorms(x, dim);
  const age = input.age;
  const male = input.male;
  const ageRows = age ? labelled(identity, (r) => Number.isFinite(age[r]!), k, 'an age') : { skipped: 'no ages' };
  let genderRows = male ? labelled(identity, (r) => male[r] === 0 || male[r] === 1, k, 'a gender') : { skipped: 'no genders' };
  if (!('skipped' in genderRows)) {
    const men = genderRows.rows.reduce((c, r) => c + male![r]!, 0);
    if (men === 0 || men === genderRows.rows.length) genderRows = { skipped: `all ${genderRows.rows.length} images are labelled ${men ? 'male' : 'female'}: nothing to tell apart` };
  }
  const sign = male ? Float64Array.from(male, (m) => (m === 1 ? 1 : -1)) : undefined;
  // one pass over the rows serves both probes when they label the same rows
  const same = !('skipped' in ageRows) && !('skipped' in genderRows) && ageRows.rows.length === genderRows.rows.length && ageRows.rows.every((r, i) => r === genderRows.rows[i]);
  let ageStats: FoldStats | undefined;
  let genderStats: FoldStats | undefined;
  let ageTarget = 0;
  let genderTarget = 0;
  if (same) {
    ageStats = genderStats = foldStats(x, dim, inv, ageRows.byFold, [age!, sign!]);
    genderTarget = 1;
  } else {
    if (!('skipped' in ageRows)) ageStats = foldStats(x, dim, inv, ageRows.byFold, [age!]);
    if (!('skipped' in genderRows)) genderStats = foldStats(x, dim, inv, genderRows.byFold, [sign!]);
  }
  const ageFits = ageStats ? outerFits(ageStats, chooseAlphas(ageStats, alphas)) : [];
  const genderFits = genderStats === ageStats ? ageFits : genderStats ? outerFits(genderStats, chooseAlphas(genderStats, alphas)) : [];
  return {
    age: 'skipped' in ageRows ? ageRows : ridgeProbe(x, dim, inv, ageFits, ageTarget, ageRows.byFold, ageRows.identities, age!),
    gender: 'skipped' in genderRows ? genderRows : logisticProbe(x, dim, inv, genderFits, genderTarget, genderRows.byFold, genderRows.identities, male!),
  };
}
