import { imageNameOf } from '../dataset/names.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { PairInputs } from './inputs.js';
import type { FoldPairs } from './protocol.js';

/** The pair-file name of image `i` (dataset/names.ts: relative to the aligned folders). */
export const imageName = (inp: PairInputs, i: number): string => imageNameOf(inp.ids[i]!);

/** The pair list: per fold its positives (`a b 1`) then its negatives (`a b -1`), one pair a line. */
export function formatPairList(inp: PairInputs, folds: readonly FoldPairs[]): string {
  const lines: string[] = [];
  for (const f of folds) {
    for (const [a, b] of f.positives) lines.push(`${imageName(inp, a)} ${imageName(inp, b)} 1`);
    for (const [a, b] of f.negatives) lines.push(`${imageName(inp, a)} ${imageName(inp, b)} -1`);
  }
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** Write the list, then its sidecar, each atomically (readers see a whole old or a whole new file). */
export async function writePairFiles(file: string, text: string, sidecar: string, meta: object): Promise<void> {
  await writeFileAtomic(file, text);
  await writeFileAtomic(sidecar, JSON.stringify(meta, null, 2) + '\n');
}
