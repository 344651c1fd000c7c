import { promises as fs } from 'node:fs';
import path from 'node:path';
import { imageNameProblem } from '../dataset/names.js';
import { checkInt, InputError, type Remedy } from '../util/errors.js';
import type { Pair, PairFileFormat, PairList } from './pair-list.js';

/** Folds of a file that does not say (ecaf list without sidecar, CSV), as insightface does. */
export const DEFAULT_FOLDS = 10;

/** Folds a pair list may have: the one limit for reading, checking, drawing and scoring lists. */
export const MAX_FOLDS = 1000;

/** A fold count within 1..MAX_FOLDS; InputError naming `option` otherwise. */
export function checkFolds(option: string, k: number): number {
  return checkInt(option, k, 1, MAX_FOLDS);
}

/** A pair file that cannot be read as any supported format: names the file and the line. */
export class PairFileError extends InputError {
  override name = 'PairFileError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
    remedies: readonly Remedy[] = [],
  ) {
    super({ file, line, expected: 'a pair file of a supported format', found: detail }, remedies, [], `${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
  }
}

export interface ParseOptions {
  /** Number of contiguous folds for files that do not say (default 10). */
  folds?: number;
  /** Pairs per fold of an ecaf list (from its `.json` sidecar); overrides `folds`. */
  foldSize?: number;
}

interface Line {
  no: number;
  tokens: string[];
  text: string;
}

/** Non-blank lines with their 1-based numbers; BOM and CRLF tolerated. */
function splitLines(text: string, sep: RegExp): Line[] {
  const out: Line[] = [];
  const raw = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i]!.replace(/\r$/, '');
    if (t.trim() === '') continue;
    out.push({ no: i + 1, text: t, tokens: t.trim().split(sep) });
  }
  return out;
}

const INT = /^\d+$/;

/**
 * A pair as read, its image names checked: readers resolve names through dataset/names.ts, so
 * a name that cannot resolve is refused here, with its line.
 */
function checkedPair(file: string, p: Pair): Pair {
  for (const name of [p.a, p.b]) {
    const problem = imageNameProblem(name);
    if (problem) throw new PairFileError(file, p.line, `image ${JSON.stringify(name)} ${problem}`);
  }
  return p;
}

/** Which supported format `text` is in, from its first non-blank line. */
export function detectPairFormat(text: string, file: string): Exclude<PairFileFormat, 'insightface-bin'> {
  const first = splitLines(text, /\s+/)[0];
  if (!first) throw new PairFileError(file, undefined, 'the file has no pairs (it is empty)');
  if (file.toLowerCase().endsWith('.csv') || first.text.includes(',')) return 'csv';
  const t = first.tokens;
  if (t.every((x) => INT.test(x))) {
    if (t.length === 1) return 'lfw-view1';
    if (t.length === 2) return 'lfw-view2';
  }
  if (t.length === 3) return 'ecaf';
  if (t.length === 2) return 'calfw';
  throw new PairFileError(
    file,
    first.no,
    `cannot tell the format from the first line ${JSON.stringify(first.text)}: expected "a.jpg b.jpg 1|-1" (ecaf), an LFW header ("10<TAB>300" or "1100"), "name.jpg fold" (CALFW) or a CSV header`,
  );
}

/**
 * Fold of each of `n` consecutive pairs split into `k` contiguous blocks, the way insightface's
 * KFold (no shuffle) does: the first n % k folds hold one pair more.
 */
export function contiguousFolds(n: number, k: number): number[] {
  const folds = new Array<number>(n);
  const base = Math.floor(n / k);
  const extra = n % k;
  let i = 0;
  for (let f = 0; f < k; f++) {
    const size = base + (f < extra ? 1 : 0);
    for (let j = 0; j < size; j++) folds[i++] = f;
  }
  return folds;
}

function foldCount(file: string, n: number, opts: ParseOptions): number {
  const k = checkFolds('folds', opts.folds ?? DEFAULT_FOLDS);
  if (n < k) throw new PairFileError(file, undefined, `${n} pairs cannot form ${k} folds`, ['folds']);
  return k;
}

const lfwImage = (name: string, n: number): string => `${name}/${name}_${String(n).padStart(4, '0')}.jpg`;

function parseLfw(lines: Line[], file: string, view: 'lfw-view1' | 'lfw-view2'): PairList {
  const header = lines[0]!;
  const sets = view === 'lfw-view2' ? Number(header.tokens[0]) : 1;
  const perSet = Number(header.tokens[view === 'lfw-view2' ? 1 : 0]);
  if (sets < 1 || perSet < 1) throw new PairFileError(file, header.no, `the header must give positive numbers, got ${JSON.stringify(header.text)}`);
  const body = lines.slice(1);
  const expected = sets * perSet * 2;
  const shape = view === 'lfw-view2' ? `${sets} set${sets === 1 ? '' : 's'} x (${perSet} matched + ${perSet} mismatched)` : `${perSet} matched + ${perSet} mismatched`;
  if (body.length !== expected) {
    const at = body.length > expected ? body[expected]!.no : undefined;
    throw new PairFileError(file, at, `the header ${JSON.stringify(header.text)} announces ${expected} pair lines (${shape}), but the file has ${body.length}`);
  }
  const pairs: Pair[] = [];
  const identityOf = new Map<string, string>();
  const number = (l: Line, tok: string): number => {
    if (!INT.test(tok) || Number(tok) < 1) throw new PairFileError(file, l.no, `image number must be a positive integer, got ${JSON.stringify(tok)}`);
    return Number(tok);
  };
  body.forEach((l, i) => {
    const fold = Math.floor(i / (2 * perSet));
    const same = i % (2 * perSet) < perSet;
    const t = l.tokens;
    let a: string;
    let b: string;
    if (same) {
      if (t.length !== 3) throw new PairFileError(file, l.no, `set ${fold + 1} expects a matched pair "name n1 n2" here, found ${JSON.stringify(l.text)}`);
      a = lfwImage(t[0]!, number(l, t[1]!));
      b = lfwImage(t[0]!, number(l, t[2]!));
      identityOf.set(a, t[0]!);
      identityOf.set(b, t[0]!);
    } else {
      if (t.length !== 4) throw new PairFileError(file, l.no, `set ${fold + 1} expects a mismatched pair "name1 n1 name2 n2" here, found ${JSON.stringify(l.text)}`);
      a = lfwImage(t[0]!, number(l, t[1]!));
      b = lfwImage(t[2]!, number(l, t[3]!));
      identityOf.set(a, t[0]!);
      identityOf.set(b, t[2]!);
    }
    pairs.push(checkedPair(file, { a, b, same, fold, line: l.no }));
  });
  return { file, format: view, pairs, folds: sets, identityOf };
}

const ECAF_LABELS: Record<string, boolean> = { '1': true, '-1': false, '0': false };

function parseEcaf(lines: Line[], file: string, opts: ParseOptions): PairList {
  const pairs: Pair[] = lines.map((l) => {
    if (l.tokens.length !== 3) throw new PairFileError(file, l.no, `expected "imageA imageB label" (3 fields), found ${l.tokens.length}: ${JSON.stringify(l.text)}`);
    const same = ECAF_LABELS[l.tokens[2]!];
    if (same === undefined) throw new PairFileError(file, l.no, `label must be 1 (same person) or -1 (different), got ${JSON.stringify(l.tokens[2])}`);
    return checkedPair(file, { a: l.tokens[0]!, b: l.tokens[1]!, same, fold: 0, line: l.no });
  });
  let folds: number;
  if (opts.foldSize !== undefined) {
    const size = opts.foldSize;
    if (!Number.isInteger(size) || size < 1 || pairs.length % size !== 0) {
      throw new PairFileError(file, undefined, `its sidecar gives a fold size of ${size} pairs, which does not divide the file's ${pairs.length} pairs (was the list edited?)`);
    }
    folds = pairs.length / size;
    pairs.forEach((p, i) => (p.fold = Math.floor(i / size)));
  } else {
    folds = foldCount(file, pairs.length, opts);
    const of = contiguousFolds(pairs.length, folds);
    pairs.forEach((p, i) => (p.fold = of[i]!));
  }
  return { file, format: 'ecaf', pairs, folds };
}

/** `Abel_Pacheco_0001.jpg` -> `Abel_Pacheco` (CALFW and LFW-style names). */
const NUMBERED_NAME = /^(?:.*\/)?(.+)_\d+\.[A-Za-z0-9]+$/;

function parseCalfw(lines: Line[], file: string, opts: ParseOptions): PairList {
  if (lines.length % 2 !== 0) throw new PairFileError(file, lines[lines.length - 1]!.no, 'CALFW lists have two lines per pair: this last line has no partner');
  const pairs: Pair[] = [];
  const identityOf = new Map<string, string>();
  const negatives: Pair[] = [];
  let maxFold = 0;
  for (let i = 0; i < lines.length; i += 2) {
    const l1 = lines[i]!;
    const l2 = lines[i + 1]!;
    for (const l of [l1, l2]) {
      if (l.tokens.length !== 2 || !INT.test(l.tokens[1]!)) {
        throw new PairFileError(file, l.no, `expected "filename token" (token: fold 1..N for a positive pair, 0 for a negative), found ${JSON.stringify(l.text)}`);
      }
    }
    if (l1.tokens[1] !== l2.tokens[1]) {
      throw new PairFileError(file, l2.no, `the two lines of a pair must carry the same token: line ${l1.no} has ${l1.tokens[1]}, line ${l2.no} has ${l2.tokens[1]}`);
    }
    const token = Number(l1.tokens[1]);
    const pair = checkedPair(file, { a: l1.tokens[0]!, b: l2.tokens[0]!, same: token > 0, fold: token - 1, line: l1.no });
    if (token === 0) negatives.push(pair);
    else if (negatives.length > 0) throw new PairFileError(file, l1.no, 'CALFW lists give all positive pairs (token 1..N) before the negative ones (token 0)');
    maxFold = Math.max(maxFold, token);
    pairs.push(pair);
    for (const name of [pair.a, pair.b]) {
      const m = NUMBERED_NAME.exec(name);
      if (m) identityOf.set(name, m[1]!);
    }
  }
  // negatives carry no fold: the i-th of `folds` contiguous blocks of negatives goes with fold i
  const folds = maxFold > 0 ? maxFold : foldCount(file, negatives.length, opts);
  if (negatives.length < folds) throw new PairFileError(file, undefined, `${negatives.length} negative pairs cannot be spread over ${folds} folds`);
  const of = contiguousFolds(negatives.length, folds);
  negatives.forEach((p, i) => (p.fold = of[i]!));
  return { file, format: 'calfw', pairs, folds, identityOf: identityOf.size > 0 ? identityOf : undefined };
}

/** One CSV record (RFC 4180 quoting) of a single line; multi-line fields are not supported. */
function csvFields(text: string, file: string, no: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new PairFileError(file, no, 'unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',') field += text[i++];
    }
    out.push(field.trim());
    if (i >= text.length) return out;
    if (text[i] !== ',') throw new PairFileError(file, no, `expected ',' after a quoted field at column ${i + 1}`);
    i++;
  }
}

const LABEL_COLUMNS = ['label', 'decision', 'same', 'issame', 'is_same', 'match', 'ismatch', 'is_match', 'same_person', 'target', 'y'];
const IMAGE_COLUMN = /file|img|image|path|photo|face|^a$|^b$|left|right/i;
const CSV_LABELS: Record<string, boolean> = { '1': true, '-1': false, '0': false, true: true, false: false, yes: true, no: false };

function parseCsv(text: string, file: string, opts: ParseOptions): PairList {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((t, i) => ({ no: i + 1, text: t.replace(/\r$/, '') }))
    .filter((l) => l.text.trim() !== '');
  const header = lines[0]!;
  const names = csvFields(header.text, file, header.no);
  const lower = names.map((n) => n.toLowerCase());
  const labelCol = lower.findIndex((n) => LABEL_COLUMNS.includes(n));
  if (labelCol < 0) {
    throw new PairFileError(file, header.no, `the CSV header ${JSON.stringify(header.text)} names no label column (one of: ${LABEL_COLUMNS.join(', ')})`);
  }
  const others = names.map((_, i) => i).filter((i) => i !== labelCol);
  const named = others.filter((i) => IMAGE_COLUMN.test(names[i]!));
  const imageCols = (named.length >= 2 ? named : others).slice(0, 2);
  if (imageCols.length < 2) throw new PairFileError(file, header.no, `the CSV header ${JSON.stringify(header.text)} needs two image columns besides the label`);
  const [ca, cb] = imageCols as [number, number];
  const pairs: Pair[] = lines.slice(1).map((l) => {
    const f = csvFields(l.text, file, l.no);
    if (f.length !== names.length) throw new PairFileError(file, l.no, `expected ${names.length} fields as in the header, found ${f.length}`);
    const same = CSV_LABELS[f[labelCol]!.toLowerCase()];
    if (same === undefined) throw new PairFileError(file, l.no, `column "${names[labelCol]}": label must be 1/-1/0, true/false or yes/no, got ${JSON.stringify(f[labelCol])}`);
    if (f[ca] === '' || f[cb] === '') throw new PairFileError(file, l.no, `column "${names[f[ca] === '' ? ca : cb]}": empty image name`);
    return checkedPair(file, { a: f[ca]!, b: f[cb]!, same, fold: 0, line: l.no });
  });
  if (pairs.length === 0) throw new PairFileError(file, header.no, 'the CSV has a header but no pairs');
  const folds = foldCount(file, pairs.length, opts);
  const of = contiguousFolds(pairs.length, folds);
  pairs.forEach((p, i) => (p.fold = of[i]!));
  return { file, format: 'csv', pairs, folds };
}

/** Parse a pair file's text in any supported format (pure: `file` only names it in errors). */
export function parsePairText(text: string, file: string, opts: ParseOptions = {}): PairList {
  const format = detectPairFormat(text, file);
  if (format === 'csv') return parseCsv(text, file, opts);
  const lines = splitLines(text, /\s+/);
  switch (format) {
    case 'lfw-view1':
    case 'lfw-view2':
      return parseLfw(lines, file, format);
    case 'calfw':
      return parseCalfw(lines, file, opts);
    case 'ecaf':
      return parseEcaf(lines, file, opts);
  }
}

/** The `.json` sidecar that `ecaf pairs` writes beside `<name>.txt`. */
export const sidecarPath = (file: string): string => path.join(path.dirname(file), `${path.basename(file, path.extname(file))}.json`);

/**
 * The parsed `.json` sidecar beside pair file `file`, or undefined when there is none; an
 * unreadable or invalid one is a PairFileError naming the sidecar.
 */
export async function readPairSidecar(file: string): Promise<unknown> {
  const side = sidecarPath(file);
  let text: string;
  try {
    text = await fs.readFile(side, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PairFileError(side, undefined, `cannot read the sidecar of ${path.basename(file)}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PairFileError(side, undefined, `sidecar of ${path.basename(file)} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Fold size an ecaf list's sidecar gives, if there is a sidecar. */
async function sidecarFoldSize(file: string): Promise<number | undefined> {
  const size = ((await readPairSidecar(file)) as { foldSize?: unknown } | null | undefined)?.foldSize;
  if (size === undefined) return undefined; // no sidecar, or a JSON file of the same name that is not ours
  if (typeof size !== 'number') throw new PairFileError(sidecarPath(file), undefined, `sidecar of ${path.basename(file)}: "foldSize" must be a number`);
  return size;
}

/**
 * Read a pair file in any supported format. An ecaf list takes its fold size from the `.json`
 * sidecar beside it when there is one, else `folds` contiguous blocks (default 10).
 */
export async function readPairFile(file: string, opts: { folds?: number } = {}): Promise<PairList> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PairFileError(file, undefined, 'not found');
    if (code === 'EISDIR') throw new PairFileError(file, undefined, 'is a folder, not a pair file');
    throw new PairFileError(file, undefined, `cannot read: ${(err as Error).message}`);
  }
  const format = detectPairFormat(text, file);
  const foldSize = format === 'ecaf' ? await sidecarFoldSize(file) : undefined;
  return parsePairText(text, file, { ...opts, foldSize });
}
