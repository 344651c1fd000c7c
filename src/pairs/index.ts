/** Pair lists: readers of every supported format, the two ECAF protocols, and `pairs check`. */
export type { Pair, PairList, PairFileFormat } from './pair-list.js';
export { readPairFile, parsePairText, detectPairFormat, contiguousFolds, sidecarPath, PairFileError, DEFAULT_FOLDS, type ParseOptions } from './read.js';
export { ageClass, DEFAULT_CHILD_MAX_AGE, DEFAULT_ADULT_MIN_AGE, type AgeClassOptions } from './age-class.js';
export {
  makePairs,
  PROTOCOLS,
  DEFAULT_PER_FOLD,
  DEFAULT_SEED,
  DEFAULT_MAX_PER_IMAGE,
  type PairProtocol,
  type PairsOptions,
  type PairsResult,
  type PairsSidecar,
} from './make.js';
export { DEFAULT_MIN_AGE_GAP, GAP_BIN_YEARS } from './cross-age.js';
export { checkPairFile, checkPairList, ONE_FOLD_WARNING, type PairCheckReport, type FoldSummary } from './check.js';
export { loadPairInputs, type PairInputs } from './inputs.js';
export { readAlignedIds } from './aligned-ids.js';
export { Prng } from './prng.js';
export type { Histogram } from './stats.js';
