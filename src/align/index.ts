import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetLayout, ffhqFile, mtcnnFile, RAW_EXTENSIONS, type DatasetLayout } from '../dataset/layout.js';
import { loadDataJson } from '../dataset/load.js';
import type { EcafRecord } from '../dataset/record.js';
import { prepareLogFile, readStageStates } from '../distribute/logs.js';
import { inShard, type Shard } from '../distribute/shard.js';
import { cleanTempFiles } from '../util/atomic.js';
import type { StageResult } from '../stage.js';
import { checkInt, checkNumber, InputError } from '../util/errors.js';
import { JsonlAppender } from '../util/jsonl.js';
import { distFile } from '../util/paths.js';
import { formatDuration, Progress } from '../util/progress.js';
import { emptyTimings, type AlignOutcome, type AlignTask, type AlignTimings } from './align-image.js';
import { DETECTORS, MTCNN_SETTINGS, type DetectorName, type MtcnnSettings, type WorkerSetup } from './detect.js';
import { lineDetector, roundPoint, type AlignStatus, type LandmarkSource, type LandmarksLine } from './line.js';
import { readOverrides, type LandmarkOverride } from './override.js';
import { WorkerPool, WorkerTaskError } from './pool.js';
import { rectangleBox } from './select.js';

export * from './similarity.js';
export * from './template.js';
export * from './ffhq.js';
export { ffhqPad, gaussianBlur, gaussianBlurExact, median } from './ffhq-pad.js';
export { alignFfhq, ffhqSource, quadInverse } from './ffhq-image.js';
export { warpAffine, cropRgb, transformResize, lanczosTaps, type ResizeTaps } from './warp.js';
export * from './select.js';
export * from './line.js';
export { readOverrides, type LandmarkOverride } from './override.js';
export { alignImage, alignMtcnn, type AlignTask, type AlignTimings, type AlignOutcome } from './align-image.js';
export { FaceDetector, DETECT_MAX_SIDE, MIN_CONFIDENCE, DETECTORS, MTCNN_SETTINGS, MTCNN_DETECT_SIZE, type DetectorName, type MtcnnSettings } from './detect.js';
export { ModelFileError, MTCNN_MODEL_DIR } from './mtcnn/nets.js';

export interface AlignOptions {
  root: string;
  /** FFHQ output side (default 1024). */
  ffhqSize?: number;
  /** 5-point output side (default 112). */
  mtcnnSize?: number;
  /** Worker threads (default: the number of cores). */
  workers?: number;
  /** Redo ids already aligned. */
  force?: boolean;
  /** Try again the no_face and decode_error ids whose photo has not changed. */
  retryFailed?: boolean;
  /** Go on with the valid records of a data.json with invalid ones. */
  skipInvalid?: boolean;
  /** Transform straight at the output size, skipping FFHQ's 4x step (faster, not the published procedure). */
  ffhqFast?: boolean;
  /** Face detector (default mtcnn, ECAF's own). */
  detector?: DetectorName;
  /** MTCNN's detection size, minimum face and thresholds (default MTCNN_SETTINGS). */
  mtcnn?: Partial<MtcnnSettings>;
  /** Folder of MTCNN's pnet/rnet/onet.onnx (default: the shipped models/mtcnn). */
  mtcnnModelDir?: string;
  /** Find the faces again of ids whose line another detector made (kept by default). */
  redetect?: boolean;
  signal?: AbortSignal;
  /** Draw progress on stderr (default true). */
  progress?: boolean;
  /** Align only this shard's ids, logging to its own file (docs/cluster.md). */
  shard?: Shard;
}

/**
 * What became of each record in a run: aligned `ok` now, `no_face`, `decode_error` or
 * `missing_image` now, `already_done` earlier, an earlier failure kept (`kept_failure`), or
 * `dropped` by an interrupt before its turn (the next run does it).
 */
export type AlignOutcomeCode = AlignStatus | 'already_done' | 'kept_failure' | 'dropped';

export interface AlignSummary extends StageResult<AlignOutcomeCode> {
  stage: 'align';
  root: string;
  /** Valid records of data.json (and how many invalid ones skipInvalid left out). */
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
  /** Of the wall time: reading the inputs and starting the workers (models loaded), before the first photo. */
  startupSeconds: number;
  /** Worker seconds per step, summed over the photos processed now. */
  timings: AlignTimings;
  interrupted: boolean;
  overrideFile: string;
  landmarksFile: string;
}

/** The parts of a crawl.jsonl line align reads. */
interface CrawlState {
  id: string;
  status: string;
  format?: string;
  error?: string;
}

const STATUSES: AlignStatus[] = ['ok', 'no_face', 'decode_error', 'missing_image'];

/** raw/ file names by id: `<id>.<ext>` with a crawl extension (ids may hold dots). */
async function rawFilesById(layout: DatasetLayout): Promise<Map<string, string[]>> {
  const byId = new Map<string, string[]>();
  let names: string[] = [];
  try {
    names = await fs.readdir(layout.raw);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of names) {
    const dot = name.lastIndexOf('.');
    if (dot <= 0 || !(RAW_EXTENSIONS as readonly string[]).includes(name.slice(dot + 1))) continue;
    const id = name.slice(0, dot);
    byId.set(id, [...(byId.get(id) ?? []), name]);
  }
  return byId;
}

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/** What a no_face or decode_error result was computed from: the photo file and the record's face rectangle. */
async function photoKey(file: string, rec: EcafRecord): Promise<string> {
  const st = await fs.stat(file);
  const r = rec.faceRectangle;
  return `${st.size}:${Math.round(st.mtimeMs)}${r ? `:${r.left},${r.top},${r.width},${r.height}` : ''}`;
}

function sameOverride(line: LandmarksLine, o: LandmarkOverride): boolean {
  if (o.landmarks68) return JSON.stringify(line.landmarks68) === JSON.stringify(o.landmarks68.map(roundPoint));
  return line.landmarks68 === undefined && JSON.stringify(line.points5) === JSON.stringify(o.points5!.map(roundPoint));
}

/** Align every record of `<root>/image_data/data.json` whose photo crawl stored. */
export async function align(options: AlignOptions): Promise<AlignSummary> {
  const start = Date.now();
  const ffhqSize = options.ffhqSize ?? 1024;
  const mtcnnSize = options.mtcnnSize ?? 112;
  const workers = options.workers ?? os.availableParallelism();
  const ffhqFast = options.ffhqFast ?? false;
  checkInt('ffhqSize', ffhqSize, 16, 8192);
  checkInt('mtcnnSize', mtcnnSize, 16, 4096);
  checkInt('workers', workers, 1, 256);
  const detector = options.detector ?? 'mtcnn';
  if (!DETECTORS.includes(detector)) throw new InputError({ option: 'detector', expected: `one of ${DETECTORS.join(', ')}`, actual: detector });
  const detection: MtcnnSettings = { ...MTCNN_SETTINGS, ...options.mtcnn };
  checkMtcnnSettings(detection);
  const layout = datasetLayout(options.root);
  const loaded = await loadDataJson(layout.dataJson, { skipInvalid: options.skipInvalid });
  const dataSummary = loaded.summary;
  const records = options.shard ? loaded.records.filter((r) => inShard(r.id, options.shard)) : loaded.records;
  const overrides = await readOverrides(layout.landmarksOverride);
  const crawl = await readStageStates<CrawlState>(layout, 'crawl');
  const previous = await readStageStates<LandmarksLine>(layout, 'landmarks');
  const raw = await rawFilesById(layout);
  await fs.mkdir(layout.ffhq, { recursive: true });
  await fs.mkdir(layout.mtcnn, { recursive: true });
  // a shard sweeps only the leftovers of its own ids (`<id>.png` / `<id>.jpg`)
  const owns = (name: string) => inShard(name.slice(0, name.lastIndexOf('.')), options.shard);
  await Promise.all([cleanTempFiles(layout.ffhq, owns), cleanTempFiles(layout.mtcnn, owns)]);

  const state = new Map<string, LandmarksLine>();
  const newLines: LandmarksLine[] = [];
  const tasks: AlignTask[] = [];
  const photoKeys = new Map<string, string>();
  let alreadyDone = 0;
  let keptFailures = 0;
  let missingNow = 0;
  let redetected = 0;
  const keptOtherDetector: Partial<Record<DetectorName, number>> = {};
  for (const rec of records) {
    const prev = previous.get(rec.id);
    const override = overrides.get(rec.id);
    // a line another detector made is kept (it is a result, not a fault) unless asked to redetect
    const detected = prev && !override && prev.source !== 'override' && (prev.status === 'ok' || prev.status === 'no_face');
    const otherDetector = detected && lineDetector(prev) !== detector;
    if (!options.force && prev && (await isAligned(prev, override, layout, ffhqSize, mtcnnSize, ffhqFast))) {
      if (!(otherDetector && options.redetect)) {
        alreadyDone++;
        if (otherDetector) keptOtherDetector[lineDetector(prev)] = (keptOtherDetector[lineDetector(prev)] ?? 0) + 1;
        state.set(rec.id, prev);
        continue;
      }
    }
    if (otherDetector && options.redetect) redetected++;
    const file = rawFileOf(rec, crawl.get(rec.id), raw.get(rec.id), layout);
    if (typeof file !== 'string') {
      const line: LandmarksLine = { id: rec.id, status: 'missing_image', source: override ? 'override' : 'detector', error: file.error, time: new Date().toISOString() };
      state.set(rec.id, line);
      missingNow++;
      if (options.force || prev?.status !== 'missing_image' || prev.error !== line.error) newLines.push(line);
      continue;
    }
    const key = await photoKey(file, rec);
    // a photo that gave no face (or did not decode) gives the same again unless something changed
    const failedBefore = prev?.status === 'no_face' || prev?.status === 'decode_error';
    if (!options.force && !options.retryFailed && failedBefore && !override && prev.source !== 'override' && prev.photo_key === key && !(otherDetector && options.redetect)) {
      keptFailures++;
      if (otherDetector) keptOtherDetector[lineDetector(prev)] = (keptOtherDetector[lineDetector(prev)] ?? 0) + 1;
      state.set(rec.id, prev);
      continue;
    }
    photoKeys.set(rec.id, key);
    tasks.push({
      id: rec.id,
      file,
      ...(rec.faceRectangle ? { rectangle: rectangleBox(rec.faceRectangle) } : {}),
      ...(override ? { override } : {}),
      ffhqSize,
      ffhqTransformSize: ffhqFast ? ffhqSize : 4 * ffhqSize,
      mtcnnSize,
      detection,
      ffhqFile: ffhqFile(layout, rec.id),
      mtcnnFile: mtcnnFile(layout, rec.id),
    });
  }

  const landmarksFile = await prepareLogFile(layout, 'landmarks', options.shard);
  const appender = await JsonlAppender.open(landmarksFile);
  const timings = emptyTimings();
  let facesFound = 0;
  let processed = 0;
  const tally = { ok: 0, no_face: 0, failed: 0 };
  const poolSize = Math.min(workers, tasks.length);
  const progress =
    options.progress === false || tasks.length === 0
      ? undefined
      : new Progress({ label: 'align', total: tasks.length, unit: 'img', extra: () => `ok ${tally.ok} no_face ${tally.no_face} failed ${tally.failed}` });
  let pool: WorkerPool<AlignTask, AlignOutcome> | undefined;
  let startupSeconds = (Date.now() - start) / 1000;
  try {
    await appender.append(newLines);
    if (poolSize > 0) {
      const setup: WorkerSetup = { detector, ...(options.mtcnnModelDir ? { mtcnnModelDir: options.mtcnnModelDir } : {}), threads: poolSize === 1 ? Math.max(1, os.availableParallelism()) : 1 };
      pool = new WorkerPool<AlignTask, AlignOutcome>(distFile('align/worker.js'), poolSize, setup);
      await pool.ready();
      startupSeconds = (Date.now() - start) / 1000;
      const run = pool;
      let next = 0;
      const runner = async () => {
        while (next < tasks.length && !options.signal?.aborted) {
          const task = tasks[next++]!;
          let outcome: AlignOutcome;
          try {
            outcome = await run.run(task);
          } catch (err) {
            if (!(err instanceof WorkerTaskError)) throw err;
            const line: LandmarksLine = { id: task.id, status: 'decode_error', source: task.override ? 'override' : 'detector', error: err.message, time: new Date().toISOString() };
            outcome = { line, timings: emptyTimings() };
          }
          if (outcome.line.status !== 'ok') outcome.line.photo_key = photoKeys.get(task.id);
          await appender.append([outcome.line]);
          state.set(task.id, outcome.line);
          processed++;
          facesFound += outcome.line.faces ?? 0;
          for (const k of Object.keys(timings) as (keyof AlignTimings)[]) timings[k] += outcome.timings[k];
          if (outcome.line.status === 'ok') tally.ok++;
          else if (outcome.line.status === 'no_face') tally.no_face++;
          else tally.failed++;
          progress?.tick();
        }
      };
      await Promise.all(Array.from({ length: poolSize }, runner));
    }
  } finally {
    progress?.finish();
    await pool?.close();
    await appender.close();
  }

  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<AlignStatus, number>;
  const sources: Record<LandmarkSource, number> = { detector: 0, rectangle: 0, override: 0 };
  const detectors: Partial<Record<DetectorName, number>> = {};
  const noFace: string[] = [];
  const decodeErrors: { id: string; error: string }[] = [];
  const missingImages: { id: string; error: string }[] = [];
  for (const rec of records) {
    const line = state.get(rec.id) ?? previous.get(rec.id);
    if (!line) continue; // not reached before an interrupt
    counts[line.status]++;
    if (line.status === 'ok') {
      sources[line.source]++;
      if (line.source !== 'override') detectors[lineDetector(line)] = (detectors[lineDetector(line)] ?? 0) + 1;
    } else if (line.status === 'no_face') noFace.push(rec.id);
    else if (line.status === 'decode_error') decodeErrors.push({ id: rec.id, error: line.error ?? '' });
    else missingImages.push({ id: rec.id, error: line.error ?? '' });
  }
  const ids = new Set(loaded.records.map((r) => r.id));
  const wallSeconds = (Date.now() - start) / 1000;
  return {
    stage: 'align',
    interrupted: Boolean(options.signal?.aborted) && processed < tasks.length,
    outcomes: {
      ok: tally.ok,
      no_face: tally.no_face,
      decode_error: tally.failed,
      missing_image: missingNow,
      already_done: alreadyDone,
      kept_failure: keptFailures,
      dropped: tasks.length - processed,
    },
    seconds: wallSeconds,
    root: layout.root,
    records: records.length,
    invalidRecords: dataSummary.invalidCount,
    counts,
    alignedNow: tally.ok,
    alreadyDone,
    keptFailures,
    processed,
    sources,
    facesFound,
    detector,
    keptOtherDetector,
    redetected,
    detectors,
    noFace,
    decodeErrors,
    missingImages,
    unusedOverrides: [...overrides.keys()].filter((id) => !ids.has(id)),
    workers: poolSize,
    wallSeconds,
    startupSeconds,
    timings,
    overrideFile: layout.landmarksOverride,
    landmarksFile,
  };
}

/** MTCNN settings a run accepts (the CLI names the flags). */
/** MTCNN's settings within their limits; InputError naming the option (`mtcnn.minFace`, `mtcnn.thresholds.0`) otherwise. */
function checkMtcnnSettings(m: MtcnnSettings): void {
  checkInt('mtcnn.detectSize', m.detectSize, 48, 16384);
  // 12 px is P-Net's window: no smaller face can be found
  checkNumber('mtcnn.minFace', m.minFace, 12);
  m.thresholds.forEach((t, i) => checkNumber(`mtcnn.thresholds.${i}`, t, 0, 0.999999));
}

/** Already done: ok with the same sizes, both files there, and landmarks from the override exactly when there is one. */
async function isAligned(prev: LandmarksLine, override: LandmarkOverride | undefined, layout: DatasetLayout, ffhqSize: number, mtcnnSize: number, ffhqFast: boolean): Promise<boolean> {
  if (prev.status !== 'ok' || prev.ffhq_size !== ffhqSize || prev.mtcnn_size !== mtcnnSize || Boolean(prev.ffhq_fast) !== ffhqFast) return false;
  if (override ? prev.source !== 'override' || !sameOverride(prev, override) : prev.source === 'override') return false;
  return (await exists(ffhqFile(layout, prev.id))) && (await exists(mtcnnFile(layout, prev.id)));
}

/** The stored photo of a record, or why there is none (a crawl line that is not ok wins over a stale file). */
function rawFileOf(rec: EcafRecord, crawl: CrawlState | undefined, files: string[] | undefined, layout: DatasetLayout): string | { error: string } {
  if (crawl && crawl.status !== 'ok') return { error: `crawl status ${crawl.status}${crawl.error ? ` (${crawl.error})` : ''}` };
  if (!files || files.length === 0) return { error: 'no file in image_data/raw/ (run ecaf crawl)' };
  // crawl's `format` is the extension it stored; a stale file of another format loses to it
  const name = files.find((f) => crawl?.format && f.endsWith(`.${crawl.format}`)) ?? files[0]!;
  return path.join(layout.raw, name);
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
