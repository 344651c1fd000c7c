import type { StageOutcome, StageResult, Tally } from '../stage.js';
import { formatDuration } from '../util/progress.js';
import { emptyTimings, type AlignTimings } from './align-image.js';
import { DETECTORS, type DetectorName } from './detect.js';
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
    overrideFile,
    landmarksFile,
  };
}

function list(items: string[], max = 20): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} ... and ${items.length - max} more`;
}

/** The summary the CLI prints: counts, ids without a face, and how to fix them by hand. */
export function formatAlignSummary(s: AlignSummary): string {
  const c = s.counts;
  const lines = [
    `align: ${s.records} records${s.invalidRecords ? ` (${s.invalidRecords} invalid skipped)` : ''}: ${c.ok} ok (${s.alignedNow} aligned now, ${s.alreadyDone} already done), ` +
      `${c.no_face} no_face, ${c.decode_error} decode_error, ${c.missing_image} missing_image${s.interrupted ? ' (interrupted: rerun to go on)' : ''}`,
    `  landmarks of ok faces: detector ${s.sources.detector}, rectangle ${s.sources.rectangle}, override ${s.sources.override}; ` +
      `faces by detector: ${DETECTORS.map((d) => `${d} ${s.detectors[d] ?? 0}`).join(', ')} (this run: ${s.detector})`,
  ];
  const kept = DETECTORS.filter((d) => s.keptOtherDetector[d]);
  if (kept.length) {
    lines.push(`  kept ${kept.map((d) => `${s.keptOtherDetector[d]} line${s.keptOtherDetector[d] === 1 ? '' : 's'} of detector ${d}`).join(', ')} as they were`);
  }
  if (s.redetected) lines.push(`  redetected ${s.redetected} id${s.redetected === 1 ? '' : 's'} that another detector had done, with ${s.detector}`);
  if (s.processed > 0) {
    const per = (v: number) => `${(v / s.processed).toFixed(3)} s`;
    const t = s.timings;
    lines.push(
      `  ${s.processed} photo${s.processed === 1 ? '' : 's'} in ${formatDuration(s.wallSeconds)} with ${s.workers} worker${s.workers === 1 ? '' : 's'} ` +
        `(${(s.processed / s.wallSeconds).toFixed(2)} photos/s, start-up ${s.startupSeconds.toFixed(1)} s, ${s.facesFound} faces found); per photo: decode ${per(t.decode)}, ` +
        `detection ${per(t.detect)}, landmarks ${per(t.landmarks)}, ffhq ${per(t.ffhq)}, mtcnn ${per(t.mtcnn)}, encode+write ${per(t.write)}`,
    );
  }
  if (s.keptFailures > 0) {
    lines.push(`  ${s.keptFailures} no_face/decode_error result${s.keptFailures === 1 ? '' : 's'} of earlier runs kept: photo and face rectangle unchanged`);
  }
  if (s.noFace.length) lines.push(`  no face found (${s.noFace.length}): ${list(s.noFace)}`);
  if (s.decodeErrors.length) lines.push(`  decode errors (${s.decodeErrors.length}): ${list(s.decodeErrors.map((e) => `${e.id} (${e.error})`), 10)}`);
  if (s.missingImages.length) lines.push(`  missing images (${s.missingImages.length}): ${list(s.missingImages.map((e) => `${e.id} (${e.error})`), 10)}`);
  if (s.unusedOverrides.length) lines.push(`  override entries for ids not in data.json: ${list(s.unusedOverrides)}`);
  if (s.noFace.length) {
    lines.push(
      `  to fix a face by hand (also a wrong face picked in a group photo): put {"<id>": {"points5": [[x, y] x 5]}} (left eye, right eye, nose, left and right mouth corner) ` +
        `or {"<id>": {"landmarks68": [...]}} in ${s.overrideFile} and run ecaf align again; see also ${s.landmarksFile}`,
    );
  }
  return lines.join('\n');
}
