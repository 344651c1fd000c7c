import { existsSync } from 'node:fs';
import { datasetLayout } from '../dataset/layout.js';
import { alignedFileOfImage, idOfImageName } from '../dataset/names.js';
import { iterateDataJson } from '../dataset/load.js';
import type { PairFileFormat, PairList } from './pair-list.js';
import { readPairFile } from './read.js';

/** Said by `ecaf pairs` and `pairs check` of a one-fold list (docs/benchmark-sets.md). */
export const ONE_FOLD_WARNING = 'one fold only: the benchmark protocol picks thresholds on the other folds, so its accuracy is not defined on this list (TAR, ROC, AUC and EER are)';

/** How many examples of each kind of problem the report keeps (all are counted). */
const MAX_EXAMPLES = 20;

export interface FoldSummary {
  fold: number;
  positives: number;
  negatives: number;
  /** Distinct identities in the fold's pairs, where identities are known. */
  identities?: number;
}

/** What `ecaf pairs check` finds in one pair file. */
export interface PairCheckReport {
  file: string;
  format: PairFileFormat;
  pairs: number;
  positives: number;
  negatives: number;
  folds: number;
  perFold: FoldSummary[];
  /** Every fold has as many positives as negatives, and all folds the same size. */
  balanced: boolean;
  images: number;
  /** The image in the most pairs, and how many. */
  busiestImage?: { image: string; pairs: number };
  /** Where identities came from: the file's names (LFW, CALFW), data.json of the dataset root, or nowhere. */
  identitySource: 'file' | 'data.json' | 'none';
  duplicates: { count: number; examples: { line: number; firstLine: number; a: string; b: string }[] };
  selfPairs: { count: number; examples: { line: number; image: string }[] };
  /** Identities whose images appear in more than one fold (leaks the threshold). */
  overlaps: { count: number; examples: { identity: string; folds: number[] }[] };
  /** Positives naming two identities, negatives naming one (where identities are known). */
  labelConflicts: { count: number; examples: { line: number; a: string; b: string; same: boolean }[] };
  /** With a dataset root: images found in neither aligned folder. */
  missing?: { count: number; checked: number; examples: { line: number; image: string }[] };
  /** Each makes the file invalid (exit 1). */
  problems: string[];
  /** Worth knowing, not invalid. */
  warnings: string[];
}

/** Id -> identity from data.json (an image name names its id: dataset/names.ts). */
async function identitiesFromData(dataJson: string): Promise<Map<string, string> | undefined> {
  if (!existsSync(dataJson)) return undefined;
  const map = new Map<string, string>();
  for await (const r of iterateDataJson(dataJson)) map.set(r.id, r.identity);
  return map;
}

/** Check a pair list already read (pure but for the existence test of images under `root`). */
export function checkPairList(list: PairList, opts: { identityOf?: (image: string) => string | undefined; identitySource?: 'file' | 'data.json'; root?: string } = {}): PairCheckReport {
  const { pairs } = list;
  const identityOf = opts.identityOf ?? (list.identityOf ? (img: string) => list.identityOf!.get(img) : undefined);
  const identitySource = identityOf ? (opts.identitySource ?? 'file') : 'none';
  const perFold: FoldSummary[] = Array.from({ length: list.folds }, (_, fold) => ({ fold, positives: 0, negatives: 0 }));
  const foldIdentities = perFold.map(() => new Set<string>());
  const seen = new Map<string, number>();
  const uses = new Map<string, number>();
  const firstLine = new Map<string, number>();
  const foldsOf = new Map<string, Set<number>>();
  const r: PairCheckReport = {
    file: list.file,
    format: list.format,
    pairs: pairs.length,
    positives: 0,
    negatives: 0,
    folds: list.folds,
    perFold,
    balanced: true,
    images: 0,
    identitySource,
    duplicates: { count: 0, examples: [] },
    selfPairs: { count: 0, examples: [] },
    overlaps: { count: 0, examples: [] },
    labelConflicts: { count: 0, examples: [] },
    problems: [],
    warnings: [],
  };
  const note = <T>(bucket: { count: number; examples: T[] }, example: T) => {
    bucket.count++;
    if (bucket.examples.length < MAX_EXAMPLES) bucket.examples.push(example);
  };
  for (const p of pairs) {
    const f = perFold[p.fold]!;
    if (p.same) {
      r.positives++;
      f.positives++;
    } else {
      r.negatives++;
      f.negatives++;
    }
    const key = p.a < p.b ? `${p.a}\n${p.b}` : `${p.b}\n${p.a}`;
    const first = seen.get(key);
    if (first !== undefined) note(r.duplicates, { line: p.line, firstLine: first, a: p.a, b: p.b });
    else seen.set(key, p.line);
    if (p.a === p.b) note(r.selfPairs, { line: p.line, image: p.a });
    for (const img of p.a === p.b ? [p.a] : [p.a, p.b]) {
      uses.set(img, (uses.get(img) ?? 0) + 1);
      if (!firstLine.has(img)) firstLine.set(img, p.line);
    }
    if (identityOf) {
      const ia = identityOf(p.a);
      const ib = identityOf(p.b);
      for (const id of [ia, ib]) {
        if (id === undefined) continue;
        foldIdentities[p.fold]!.add(id);
        let s = foldsOf.get(id);
        if (!s) foldsOf.set(id, (s = new Set()));
        s.add(p.fold);
      }
      if (ia !== undefined && ib !== undefined && (ia === ib) !== p.same) note(r.labelConflicts, { line: p.line, a: p.a, b: p.b, same: p.same });
    }
  }
  r.images = uses.size;
  for (const [image, n] of uses) if (!r.busiestImage || n > r.busiestImage.pairs) r.busiestImage = { image, pairs: n };
  if (identityOf) {
    perFold.forEach((f, i) => (f.identities = foldIdentities[i]!.size));
    for (const [identity, folds] of [...foldsOf].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (folds.size > 1) note(r.overlaps, { identity, folds: [...folds].sort((a, b) => a - b) });
    }
  }
  if (opts.root) {
    const layout = datasetLayout(opts.root);
    const missing = { count: 0, checked: uses.size, examples: [] as { line: number; image: string }[] };
    const present = (file: string | null): boolean => file !== null && existsSync(file);
    for (const image of uses.keys()) {
      if (!present(alignedFileOfImage(layout.mtcnn, image, 'mtcnn')) && !present(alignedFileOfImage(layout.ffhq, image, 'ffhq'))) note(missing, { line: firstLine.get(image)!, image });
    }
    r.missing = missing;
  }

  const sizes = new Set(perFold.map((f) => f.positives + f.negatives));
  r.balanced = sizes.size === 1 && perFold.every((f) => f.positives === f.negatives);
  if (r.duplicates.count) r.problems.push(`${r.duplicates.count} duplicate pairs (the same two images, in either order)`);
  if (r.selfPairs.count) r.problems.push(`${r.selfPairs.count} pairs of an image with itself`);
  if (r.overlaps.count) r.problems.push(`${r.overlaps.count} identities appear in more than one fold`);
  if (r.labelConflicts.count) r.problems.push(`${r.labelConflicts.count} pairs whose label contradicts the identities`);
  if (r.missing?.count) r.problems.push(`${r.missing.count} of ${r.missing.checked} images are missing under ${datasetLayout(opts.root!).imageData}`);
  if (perFold.some((f) => f.positives + f.negatives === 0)) r.problems.push('some folds have no pairs');
  if (list.folds < 2) r.warnings.push(ONE_FOLD_WARNING);
  if (!r.balanced) r.warnings.push('unbalanced: folds differ in size, or hold unequal numbers of positives and negatives');
  if (identitySource === 'none') r.warnings.push('identities unknown: overlap between folds not checked (a dataset root gives them, from data.json)');
  return r;
}

/** `ecaf pairs check`: read a pair file in any supported format and check it. */
export async function checkPairFile(file: string, opts: { root?: string; folds?: number } = {}): Promise<PairCheckReport> {
  const list = await readPairFile(file, { folds: opts.folds });
  if (list.identityOf || !opts.root) return checkPairList(list, { root: opts.root });
  const byId = await identitiesFromData(datasetLayout(opts.root).dataJson);
  const report = byId
    ? checkPairList(list, { root: opts.root, identityOf: (img) => byId.get(idOfImageName(img) ?? ''), identitySource: 'data.json' })
    : checkPairList(list, { root: opts.root });
  if (!byId) report.warnings.push(`no ${datasetLayout(opts.root).dataJson}: identities unknown`);
  return report;
}
