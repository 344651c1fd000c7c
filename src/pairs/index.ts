/** Pair lists: readers of every supported format, the two ECAF protocols, and `pairs check`. */
export type { Pair, PairList, PairFileFormat } from './pair-list.js';
export { readPairFile, parsePairText, detectPairFormat, contiguousFolds, sidecarPath, PairFileError, DEFAULT_FOLDS, type ParseOptions } from './read.js';
export { ageClass, DEFAULT_CHILD_MAX_AGE, DEFAULT_ADULT_MIN_AGE, type AgeClassOptions } from './age-class.js';
