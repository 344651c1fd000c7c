/** An insightface `.bin` verification set as a pair list and its encoded images (docs/benchmark-sets.md). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PairList } from '../../pairs/pair-list.js';
import { contiguousFolds, DEFAULT_FOLDS } from '../../pairs/read.js';
import { UsageError } from '../../util/errors.js';
import { parseBinSet } from './bin-pickle.js';

/** A `.bin` pair set: what the benchmark scores from the file alone, without a dataset root. */
export interface BinPairSet {
  list: PairList;
  /** Image k of the file under the name its pairs use (`<stem>#k`), with its encoded bytes. */
  images: { name: string; bytes: Buffer }[];
}

export const isBinSetFile = (file: string): boolean => path.extname(file).toLowerCase() === '.bin';

/** Image k of the set in `file`, as its pairs and scores.csv name it. */
export const binImageName = (file: string, k: number): string => `${path.basename(file, path.extname(file))}#${k}`;

/**
 * Read `file`: images 2k and 2k+1 are pair k, labelled issame_list[k]; folds are `folds`
 * contiguous blocks of pairs, as insightface's verification.py splits them (KFold, no shuffle).
 */
export async function readBinSet(file: string, folds = DEFAULT_FOLDS): Promise<BinPairSet> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new UsageError(`${file}: cannot read this .bin pair set (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const set = parseBinSet(buf, file);
  const n = set.same.length;
  if (n < folds) throw new UsageError(`${file}: ${n} pairs cannot make ${folds} folds`);
  const fold = contiguousFolds(n, folds);
  const images = set.images.map((bytes, k) => ({ name: binImageName(file, k), bytes }));
  return {
    list: {
      file,
      format: 'insightface-bin',
      folds,
      pairs: set.same.map((same, k) => ({ a: images[2 * k]!.name, b: images[2 * k + 1]!.name, same, fold: fold[k]!, line: k + 1 })),
    },
    images,
  };
}
