import type { StageOutcome, StageResult, Tally } from '../stage.js';
import { emptyTimings, type AlignTimings } from './align-image.js';
import { DETECTORS, type DetectorName } from './detect.js';
import type { FfhqSizeChoice } from './ffhq-size.js';
import { lineDetector, type AlignStatus, type LandmarkSource, type LandmarksLine } from './line.js';

/**
 * What became of each record in a run: aligned `ok` now, `no_face`, `decode_error` or
 * `missing_image` now, `already_done` earlier, an earlier failure kept (`kept_failure`), or
 * `dropped` by an interrupt before its turn (the next run does it).
 */
export type AlignOutcomeCode = AlignStatus | 'already_done' | 'kept_failure' | 'dropped';
export const ALIGN_OUTCOMES: readonly AlignOutcomeCode[] = ['ok', 'no_face', 'decode_error', 'missing_image', 'already_done', 'kept_failure', 'dropped'];

const STATUSES: readonly AlignStatus[] = ['ok', 'no_face', 'decode_error', 'missing_image'];

/** One record's outcome, with the facts the summary adds up. */
export interface AlignOutcome extends StageOutcome<AlignOutcomeCode> {
  /** The record's place in data.json. */
  index: number;
  /** The id's line after this run: written now, or the earlier one (kept, or not reached); none when it never had one. */
  line?: LandmarksLine;
  /** Worker seconds per step, for a photo processed now. */
  timings?: AlignTimings;
  /** The kept line was another detector's. */
  keptDetector?: DetectorName;
  /** Another detector's line was redone now (redetect). */
  redetected?: boolean;
}

/** The per-record facts of a run's outcomes, added up (addAlignOutcome). */
export interface AlignFacts {
  counts: Record<AlignStatus, number>;
  sources: Record<LandmarkSource, number>;
  detectors: Partial<Record<DetectorName, number>>;
  keptOtherDetector: Partial<Record<DetectorName, number>>;
  redetected: number;
  facesFound: number;
  timings: AlignTimings;
  noFace: { index: number; id: string }[];
  decodeErrors: { index: number; id: string; error: string }[];
  missingImages: { index: number; id: string; error: string }[];
}

export function emptyAlignFacts(): AlignFacts {
  return {
    counts: Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<AlignStatus, number>,
    sources: { detector: 0, rectangle: 0, override: 0 },
    detectors: {},
    keptOtherDetector: {},
    redetected: 0,
    facesFound: 0,
    timings: emptyTimings(),
    noFace: [],
    decodeErrors: [],
    missingImages: [],
  };
}

const PROCESSED: ReadonlySet<AlignOutcomeCode> = new Set(['ok', 'no_face', 'decode_error']);
const bump = <K extends string>(m: Partial<Record<K, number>>, k: K) => (m[k] = (m[k] ?? 0) + 1);

/** Add one outcome to the facts (in place: a run can have millions). */
export function addAlignOutcome(f: AlignFacts, o: AlignOutcome): AlignFacts {
  if (o.keptDetector) bump(f.keptOtherDetector, o.keptDetector);
  if (o.redetected) f.redetected++;
  if (PROCESSED.has(o.code)) {
    f.facesFound += o.line?.faces ?? 0;
    if (o.timings) for (const k of Object.keys(f.timings) as (keyof AlignTimings)[]) f.timings[k] += o.timings[k];
  }
  const line = o.line;
  if (!line) return f;
  f.counts[line.status]++;
  if (line.status === 'ok') {
    f.sources[line.source]++;
    if (line.source !== 'override') bump(f.detectors, lineDetector(line));
  } else if (line.status === 'no_face') f.noFace.push({ index: o.index, id: o.id });
  else if (line.status === 'decode_error') f.decodeErrors.push({ index: o.index, id: o.id, error: line.error ?? '' });
  else f.missingImages.push({ index: o.index, id: o.id, error: line.error ?? '' });
  return f;
}

/** What the summary takes from outside the outcomes: the inputs and the run's set-up. */
export interface AlignRunFacts {
  root: string;
  invalidRecords: number;
  detector: DetectorName;
  unusedOverrides: string[];
  overrideFile: string;
  landmarksFile: string;
  workers: number;
  startupSeconds: number;
  /** The run's FFHQ size, where it came from and the sizes the root held before. */
  ffhq?: FfhqSizeChoice;
}

export interface AlignSummary extends StageResult<AlignOutcomeCode> {
  stage: 'align';
  root: string;
  /** Valid records of data.json (of the shard's ids, for a shard), and how many invalid ones skipInvalid left out. */
  records: number;
  invalidRecords: number;
  /** State of every record after this run, by status. */
  counts: Record<AlignStatus, number>;
  /** Photos aligned in this run, and ids skipped because they were already aligned. */
  alignedNow: number;
  alreadyDone: number;
  /** no_face and decode_error results of earlier runs kept because nothing changed (retryFailed redoes them). */
  keptFailures: number;
  /** Photos sent to the detector/warps in this run (all outcomes). */
  processed: number;
  /** ok records by where their landmarks came from. */
  sources: Record<LandmarkSource, number>;
  /** Faces the detector found in the photos processed now. */
  facesFound: number;
  detector: DetectorName;
  /** Lines another detector made, kept as they are (redetect redoes them), by that detector. */
  keptOtherDetector: Partial<Record<DetectorName, number>>;
  /** Lines another detector made, redone now because of redetect. */
  redetected: number;
  /** ok records by the detector of their line (override lines count under none). */
  detectors: Partial<Record<DetectorName, number>>;
  noFace: string[];
  decodeErrors: { id: string; error: string }[];
  missingImages: { id: string; error: string }[];
  /** Override entries for ids that are not in data.json. */
  unusedOverrides: string[];
  workers: number;
  wallSeconds: number;
  /** Of the wall time: reading the inputs, checking earlier results and starting the workers (models loaded), before the first photo. */
  startupSeconds: number;
  /** Worker seconds per step, summed over the photos processed now. */
  timings: AlignTimings;
  interrupted: boolean;
  /** The run's FFHQ size: asked for, kept from the root's faces, or the default; and the root's ok lines by size before the run. */
  ffhq?: FfhqSizeChoice;
  overrideFile: string;
  landmarksFile: string;
}

const inOrder = <T extends { index: number }>(items: readonly T[]) => [...items].sort((a, b) => a.index - b.index);

/** The summary of a run from its tally and facts (pure); interrupted only when the interrupt left records undone. */
export function summarizeAlign(t: Tally<AlignOutcomeCode>, f: AlignFacts, run: AlignRunFacts, interrupted: boolean, seconds: number): AlignSummary {
  const c = t.counts;
  const { root, invalidRecords, detector, unusedOverrides, overrideFile, landmarksFile, workers, startupSeconds } = run;
  return {
    stage: 'align',
    interrupted: interrupted && c.dropped > 0,
    outcomes: { ...c },
    seconds,
    root,
    // every task of the run has one outcome
    records: Object.values<number>(c).reduce((a, b) => a + b, 0),
    invalidRecords,
    counts: { ...f.counts },
    alignedNow: c.ok,
    alreadyDone: c.already_done,
    keptFailures: c.kept_failure,
    processed: c.ok + c.no_face + c.decode_error,
    sources: { ...f.sources },
    facesFound: f.facesFound,
    detector,
    keptOtherDetector: { ...f.keptOtherDetector },
    redetected: f.redetected,
    detectors: { ...f.detectors },
    noFace: inOrder(f.noFace).map((e) => e.id),
    decodeErrors: inOrder(f.decodeErrors).map(({ id, error }) => ({ id, error })),
    missingImages: inOrder(f.missingImages).map(({ id, error }) => ({ id, error })),
    unusedOverrides,
    workers,
    wallSeconds: seconds,
    startupSeconds,
    timings: { ...f.timings },
    ...(run.ffhq && { ffhq: { ...run.ffhq, found: { ...run.ffhq.found } } }),
    overrideFile,
    landmarksFile,
  };
}
