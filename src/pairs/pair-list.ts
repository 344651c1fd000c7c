/**
 * A pair list as every reader returns it, whatever the file's format: what `pairs check`
 * inspects and what `benchmark` scores.
 */
export type PairFileFormat = 'ecaf' | 'lfw-view2' | 'lfw-view1' | 'calfw' | 'csv' | 'insightface-bin';

export interface Pair {
  /** Image names as the file gives them, relative to the aligned folders (`<id>.jpg`, `name/name_0001.jpg`). */
  a: string;
  b: string;
  same: boolean;
  /** 0-based fold. */
  fold: number;
  /** 1-based line of the file the pair was read from. */
  line: number;
}

export interface PairList {
  file: string;
  format: PairFileFormat;
  pairs: Pair[];
  /** Number of folds (1 where the file has none, e.g. LFW View 1). */
  folds: number;
  /** Identity of each image name where the format tells it (LFW names do; ecaf lists get it from data.json). */
  identityOf?: Map<string, string>;
}
