import path from 'node:path';
import type { EcafRecord } from '../dataset/record.js';
import type { StageTask } from '../stage.js';
import type { DetectorName } from './detect.js';
import { lineDetector, roundPoint, type LandmarksLine } from './line.js';
import type { LandmarkOverride } from './override.js';

/** Why a record has no photo to align when crawl left no file for it (the `error` of its missing_image line). */
export const NO_RAW_FILE = 'no file in image_data/raw/';

/** The parts of a crawl.jsonl line align reads. */
export interface CrawlState {
  id: string;
  status: string;
  format?: string;
  error?: string;
}

/** What align plans from, all read beforehand: the records and the last state of each id in each log. */
export interface AlignInput {
  records: readonly EcafRecord[];
  /** The last landmarks.jsonl line of each id (shard logs merged). */
  previous: ReadonlyMap<string, LandmarksLine>;
  overrides: ReadonlyMap<string, LandmarkOverride>;
  /** The last crawl.jsonl line of each id. */
  crawl: ReadonlyMap<string, CrawlState>;
  /** File names in image_data/raw/ by id. */
  raw: ReadonlyMap<string, readonly string[]>;
}

/** What decides whether an earlier line still holds. */
export interface AlignPolicy {
  /** image_data/raw/, where the photos are. */
  rawDir: string;
  ffhqSize: number;
  mtcnnSize: number;
  ffhqFast: boolean;
  detector: DetectorName;
  force: boolean;
  retryFailed: boolean;
  redetect: boolean;
}

/**
 * What run does with a record:
 * - `check_done`: the previous line is ok with these sizes and this override: `already_done` if
 *   both output files exist, else it is aligned again (or is missing_image, without a photo);
 * - `check_failure`: the previous line is no_face / decode_error of the detector: kept
 *   (`kept_failure`) if the photo and face rectangle are unchanged, else aligned again;
 * - `missing`: no photo: a missing_image line (written only when it says something new);
 * - `align`: the photo goes to the detector and warps.
 */
export type AlignAction = 'check_done' | 'check_failure' | 'missing' | 'align';

/** Why a record has no photo, and whether its missing_image line is new (not the previous line again). */
export interface MissingPhoto {
  error: string;
  log: boolean;
}

export interface AlignTask extends StageTask {
  record: EcafRecord;
  action: AlignAction;
  /** The stored photo; absent when there is none (then `missing` says why). */
  file?: string;
  missing?: MissingPhoto;
  prev?: LandmarksLine;
  override?: LandmarkOverride;
  /** The previous line is a face search of another detector (kept unless `redetect`). */
  otherDetector?: DetectorName;
  /** That line is redone now because of the redetect policy. */
  redetect: boolean;
}

/** One task per record, in data.json order (pure: no file is read). */
export function* planAlign(input: AlignInput, policy: AlignPolicy): Generator<AlignTask> {
  for (const record of input.records) yield planRecord(record, input, policy);
}

/** The task of one record: the rules of docs/align.md ("Reruns"). */
export function planRecord(record: EcafRecord, input: AlignInput, policy: AlignPolicy): AlignTask {
  const prev = input.previous.get(record.id);
  const override = input.overrides.get(record.id);
  // a line another detector made is kept (it is a result, not a fault) unless asked to redetect
  const detected = prev !== undefined && !override && prev.source !== 'override' && (prev.status === 'ok' || prev.status === 'no_face');
  const otherDetector = detected && lineDetector(prev) !== policy.detector ? lineDetector(prev) : undefined;
  const redetect = otherDetector !== undefined && policy.redetect;
  const photo = rawFileOf(input.crawl.get(record.id), input.raw.get(record.id), policy.rawDir);
  const missing = typeof photo === 'string' ? undefined : { error: photo.error, log: policy.force || prev?.status !== 'missing_image' || prev.error !== photo.error };
  const file = typeof photo === 'string' ? photo : undefined;
  const failedBefore = prev?.status === 'no_face' || prev?.status === 'decode_error';
  let action: AlignAction;
  if (!policy.force && prev && !redetect && okLineHolds(prev, override, policy)) action = 'check_done';
  else if (missing) action = 'missing';
  // a photo that gave no face (or did not decode) gives the same again unless something changed
  else if (!policy.force && !policy.retryFailed && failedBefore && !override && prev.source !== 'override' && !redetect) action = 'check_failure';
  else action = 'align';
  return {
    id: record.id,
    record,
    action,
    ...(file !== undefined && { file }),
    ...(missing && { missing }),
    ...(prev && { prev }),
    ...(override && { override }),
    ...(otherDetector && { otherDetector }),
    redetect,
  };
}

/** An ok line holds when its sizes are these and its landmarks come from the override exactly when there is one (run checks the files). */
export function okLineHolds(prev: LandmarksLine, override: LandmarkOverride | undefined, p: Pick<AlignPolicy, 'ffhqSize' | 'mtcnnSize' | 'ffhqFast'>): boolean {
  if (prev.status !== 'ok' || prev.ffhq_size !== p.ffhqSize || prev.mtcnn_size !== p.mtcnnSize || Boolean(prev.ffhq_fast) !== p.ffhqFast) return false;
  return override ? prev.source === 'override' && sameOverride(prev, override) : prev.source !== 'override';
}

function sameOverride(line: LandmarksLine, o: LandmarkOverride): boolean {
  if (o.landmarks68) return JSON.stringify(line.landmarks68) === JSON.stringify(o.landmarks68.map(roundPoint));
  return line.landmarks68 === undefined && JSON.stringify(line.points5) === JSON.stringify(o.points5!.map(roundPoint));
}

/** The stored photo of a record, or why there is none (a crawl line that is not ok wins over a stale file). */
export function rawFileOf(crawl: CrawlState | undefined, files: readonly string[] | undefined, rawDir: string): string | { error: string } {
  if (crawl && crawl.status !== 'ok') return { error: `crawl status ${crawl.status}${crawl.error ? ` (${crawl.error})` : ''}` };
  if (!files || files.length === 0) return { error: NO_RAW_FILE };
  // crawl's `format` is the extension it stored; a stale file of another format loses to it
  const name = files.find((f) => crawl?.format && f.endsWith(`.${crawl.format}`)) ?? files[0]!;
  return path.join(rawDir, name);
}

/** Override entries for ids that are not in data.json. */
export function unusedOverrides(input: Pick<AlignInput, 'records' | 'overrides'>): string[] {
  const ids = new Set(input.records.map((r) => r.id));
  return [...input.overrides.keys()].filter((id) => !ids.has(id));
}
