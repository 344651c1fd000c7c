/** Exit codes: 0 done, 1 the run failed, 2 bad input or usage, 128 + signal number interrupted (SIGINT 130, SIGTERM 143). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERRUPTED = 130;
export const EXIT_TERMINATED = 143;

/** Bad input or usage: the CLI prints the message (no stack) and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Where a bad input sits and what was wrong with it. `option` names a field of the called
 * function's options object (camelCase); the CLI turns it into its flag.
 */
export interface InputProblem {
  /** The file read. */
  file?: string;
  /** 1-based line of `file`. */
  line?: number;
  /** The record: its 0-based index in the file and, when known, its id. */
  record?: { index?: number; id?: string };
  /** The field of the record or of the file. */
  field?: string;
  /** The option of the call whose value is refused (camelCase, as in the options object). */
  option?: string;
  /** What was expected ("an integer in 2..100", "an existing file"). */
  expected: string;
  /** The value refused, shown as a value (strings quoted). */
  actual?: unknown;
  /** What was found instead, in words ("nothing there"), when there is no value to show. */
  found?: string;
}

/**
 * What the user can do about a refusal: an option that would change it (camelCase; the CLI words
 * it with its flag, when the command has that flag), or a stage to run first.
 */
export type Remedy =
  | 'skipInvalid'
  | 'root'
  | 'data'
  | 'allowFewer'
  | 'perFold'
  | 'folds'
  | 'pairs'
  | 'images'
  | 'out'
  | 'run:crawl'
  | 'run:align'
  | 'run:pairs'
  | 'run:benchmark';

/** How an option is named in a sentence: the library says `option "perFold"`, the CLI its flag. */
export type OptionNamer = (option: string) => string;

const libraryName: OptionNamer = (option) => `option "${option}"`;

/** `actual` as it appears in a sentence: strings quoted, long values cut. */
export function showValue(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined ? String(v) : JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * The one sentence every refusal uses: "<file>:<line>: record <i> (id "x"): field "f": expected
 * <what>, got <actual>" (the parts that are known; "found <words>" when no value), or "<option>: expected ..." for an option.
 */
export function describeProblem(p: InputProblem, nameOption: OptionNamer = libraryName): string {
  const where: string[] = [];
  if (p.file !== undefined) where.push(p.line !== undefined ? `${p.file}:${p.line}` : p.file);
  if (p.record) {
    const { index, id } = p.record;
    where.push(index !== undefined ? `record ${index}${id !== undefined ? ` (id "${id}")` : ''}` : `id "${id}"`);
  }
  if (p.field !== undefined) where.push(`field "${p.field}"`);
  if (p.option !== undefined) where.push(nameOption(p.option));
  const got = 'actual' in p ? `, got ${showValue(p.actual)}` : p.found !== undefined ? `, found ${p.found}` : '';
  return `${where.length ? `${where.join(': ')}: ` : ''}expected ${p.expected}${got}`;
}

/** A refused input (exit 2): one problem (or a headline over a list of them), and what could change it. */
export class InputError extends UsageError {
  override name = 'InputError';
  constructor(
    readonly problem: InputProblem,
    readonly remedies: readonly Remedy[] = [],
    /** More problems of the same input (every invalid record), listed under the first line. */
    readonly more: readonly InputProblem[] = [],
    /** A first line of its own, when one problem does not say it all. */
    readonly headline?: string,
  ) {
    super([headline ?? describeProblem(problem), ...more.map((p) => `  ${describeProblem(p)}`)].join('\n'));
  }
}

/** An integer option within bounds, checked once, in the library; InputError naming the option otherwise. */
export function checkInt(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InputError({ option, expected: `an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`}`, actual: value });
  }
  return value;
}

/** A finite number option within bounds; InputError naming the option otherwise. */
export function checkNumber(option: string, value: number, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InputError({ option, expected: `a number ${max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in ${min}..${max}`}`, actual: value });
  }
  return value;
}

/** The run was stopped by SIGINT or SIGTERM after flushing what was done: exit 130 or 143. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}
