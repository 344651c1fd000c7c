import { promises as fs } from 'node:fs';
import { InputError, UsageError } from '../util/errors.js';
import { streamTopLevel, JsonSyntaxError } from './json-stream.js';
import { normalizeRecord } from './normalize.js';
import { formatIssue, type EcafRecord, type RecordIssue } from './record.js';

/** How many issues are kept to print; all are counted. */
const MAX_KEPT_ISSUES = 1000;
/** How many issues an error message lists before "and N more". */
const MAX_PRINTED_ISSUES = 20;

export interface DataJsonSummary {
  file: string;
  /** Entries in the file. */
  total: number;
  /** Entries that pass every rule (first occurrence of a duplicated id counts as valid). */
  valid: number;
  /** Entries that break a rule. */
  invalidCount: number;
  /** The first issues found (at most 1000), in file order. */
  issues: RecordIssue[];
  /** How far the scan has gone: byte offset of the last entry read (for progress). */
  bytesRead: number;
  /** Worth saying, not invalid: a file with no records at all. */
  warnings: string[];
}

/** The warning of a data.json that parses but holds no record. */
export const noRecordsWarning = (file: string): string => `${file}: holds no records (an empty array or object): there is nothing to crawl, align or pair`;

/** data.json breaks the rules: refused (exit 2) before anything is written, every broken record listed. */
export class DataJsonError extends InputError {
  override name = 'DataJsonError';
  constructor(readonly summary: DataJsonSummary) {
    super({ file: summary.file, expected: 'every record to follow the rules', found: `${summary.invalidCount} of ${summary.total} that break them` }, ['skipInvalid'], [], describeInvalid(summary, ', so nothing was written'));
  }
}

/**
 * The invalid records of a data.json under one headline, a line each (the first 20): what a
 * refusal, a check and a skipInvalid run print; `outcome` ends the headline (", so nothing was written").
 */
export function describeInvalid(summary: DataJsonSummary, outcome = ''): string {
  const shown = summary.issues.slice(0, MAX_PRINTED_ISSUES).map(formatIssue);
  const more = summary.invalidCount - Math.min(summary.invalidCount, shown.length);
  const lines = [`${summary.file}: ${summary.invalidCount} of ${summary.total} records break the rules${outcome}:`, ...shown.map((l) => `  ${l}`)];
  if (more > 0) lines.push(`  ... and ${more} more`);
  return lines.join('\n');
}

async function ensureReadable(file: string): Promise<void> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new InputError({ file, expected: 'a file', found: 'something else (a folder?)' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError({ file, expected: 'a records file (image_data/data.json of the dataset root)', found: 'nothing there' }, ['root', 'data']);
    }
    throw err;
  }
}

/**
 * One streaming pass over data.json: yields each valid record (later duplicates of an id are
 * invalid) and fills `summary` as it goes. Memory: one record plus the set of ids.
 */
export async function* iterateDataJson(file: string, summary?: DataJsonSummary): AsyncGenerator<EcafRecord> {
  await ensureReadable(file);
  const s: DataJsonSummary = summary ?? emptySummary(file);
  // ids in lower case -> slot of the first record with it: ids that differ only in case name the
  // same files on macOS and Windows; the slot's id and index (no object per record) name it
  const seen = new Map<string, number>();
  const firstId: string[] = [];
  const firstIndex: number[] = [];
  const note = (issue: RecordIssue) => {
    if (s.issues.length < MAX_KEPT_ISSUES) s.issues.push(issue);
  };
  try {
    for await (const entry of streamTopLevel(file)) {
      s.total++;
      s.bytesRead = entry.offset;
      const result = normalizeRecord(entry.value, entry.index, entry.key);
      if (!result.ok) {
        s.invalidCount++;
        result.issues.forEach(note);
        continue;
      }
      const { record } = result;
      const folded = record.id.toLowerCase();
      const first = seen.get(folded);
      if (first !== undefined) {
        s.invalidCount++;
        const message =
          firstId[first] === record.id
            ? `duplicate id (first used by record ${firstIndex[first]})`
            : `differs only in case from the id "${firstId[first]}" of record ${firstIndex[first]} (their files would collide on macOS and Windows)`;
        note({ index: record.index, id: record.id, field: 'id', message });
        continue;
      }
      seen.set(folded, firstId.push(record.id) - 1);
      firstIndex.push(record.index);
      s.valid++;
      yield record;
    }
    if (s.total === 0) s.warnings.push(noRecordsWarning(file));
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new UsageError(err.message);
    throw err;
  }
}

export function emptySummary(file: string): DataJsonSummary {
  return { file, total: 0, valid: 0, invalidCount: 0, issues: [], bytesRead: 0, warnings: [] };
}

/** Check every rule without keeping the records (a first pass before a streaming second one). */
export async function validateDataJson(file: string): Promise<DataJsonSummary> {
  const summary = emptySummary(file);
  for await (const _record of iterateDataJson(file, summary)) {
    // counting only
  }
  return summary;
}

export interface LoadOptions {
  /** Go on with the valid records instead of refusing the whole file. */
  skipInvalid?: boolean;
}

export interface LoadedData {
  records: EcafRecord[];
  summary: DataJsonSummary;
}

/** Load every valid record; throws DataJsonError (exit 2) on any invalid one unless skipInvalid. */
export async function loadDataJson(file: string, opts: LoadOptions = {}): Promise<LoadedData> {
  const summary = emptySummary(file);
  const records: EcafRecord[] = [];
  for await (const record of iterateDataJson(file, summary)) records.push(record);
  if (summary.invalidCount > 0 && !opts.skipInvalid) throw new DataJsonError(summary);
  return { records, summary };
}
