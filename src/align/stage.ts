import { promises as fs } from 'node:fs';
import os from 'node:os';
import { datasetLayout, ffhqFile, mtcnnFile, type DatasetLayout } from '../dataset/layout.js';
import type { EcafRecord } from '../dataset/record.js';
import { logFileFor, prepareLogFile } from '../distribute/logs.js';
import { inShard, type Shard } from '../distribute/shard.js';
import type { Stage, StageRunContext } from '../stage.js';
import { cleanTempFiles } from '../util/atomic.js';
import { checkInt, checkNumber, InputError } from '../util/errors.js';
import { JsonlAppender } from '../util/jsonl.js';
import { distFile } from '../util/paths.js';
import { emptyTimings, type AlignImageResult, type AlignImageTask } from './align-image.js';
import { chooseFfhqSize, ffhqSizesFound, type FfhqSizeChoice } from './ffhq-size.js';
import { DETECTORS, MTCNN_SETTINGS, type AlignKernels, type DetectorName, type MtcnnSettings, type WorkerSetup } from './detect.js';
import type { LandmarksLine } from './line.js';
import { planAlign, type AlignInput, type AlignPolicy, type AlignTask } from './plan.js';
import { WorkerPool, WorkerTaskError } from './pool.js';
import { rectangleBox } from './select.js';
import { addAlignOutcome, ALIGN_OUTCOMES, emptyAlignFacts, summarizeAlign, type AlignOutcome, type AlignOutcomeCode, type AlignRunFacts, type AlignSummary } from './summary.js';

export interface AlignOptions {
  root: string;
  /** FFHQ output side (default: the size of the faces the root already holds, else 512 as ECAF released it; ffhq-size.ts). */
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
  /** The workers' pixel kernels: 'simd' (default; JavaScript where WebAssembly SIMD does not load) or 'js', the reference (bench/align.ts compares them). */
  kernels?: AlignKernels;
}

/** The options with their defaults, within their limits (checked once, here). */
interface AlignSettings {
  ffhqSize: number;
  /** Where ffhqSize came from, and the sizes the root held. */
  ffhq: FfhqSizeChoice;
  mtcnnSize: number;
  workers: number;
  ffhqFast: boolean;
  detector: DetectorName;
  detection: MtcnnSettings;
}

/**
 * The options' values with their defaults (`ffhqSizes`: the root's ok lines by FFHQ size, which
 * decide the FFHQ size when none is asked for: the stage's plan passes them again); InputError
 * naming the option (`workers`, `mtcnn.minFace`) when one is out of its limits.
 */
export function alignSettings(options: AlignOptions, ffhqSizes: Record<string, number> = {}): AlignSettings {
  const ffhq = chooseFfhqSize(options.ffhqSize, ffhqSizes);
  const s: AlignSettings = {
    ffhqSize: ffhq.size,
    ffhq,
    mtcnnSize: options.mtcnnSize ?? 112,
    workers: options.workers ?? os.availableParallelism(),
    ffhqFast: options.ffhqFast ?? false,
    detector: options.detector ?? 'mtcnn',
    detection: { ...MTCNN_SETTINGS, ...options.mtcnn },
  };
  checkInt('ffhqSize', s.ffhqSize, 16, 8192);
  checkInt('mtcnnSize', s.mtcnnSize, 16, 4096);
  checkInt('workers', s.workers, 1, 256);
  if (!DETECTORS.includes(s.detector)) throw new InputError({ option: 'detector', expected: `one of ${DETECTORS.join(', ')}`, actual: s.detector });
  checkInt('mtcnn.detectSize', s.detection.detectSize, 48, 16384);
  // 12 px is P-Net's window: no smaller face can be found
  checkNumber('mtcnn.minFace', s.detection.minFace, 12);
  s.detection.thresholds.forEach((t, i) => checkNumber(`mtcnn.thresholds.${i}`, t, 0, 0.999999));
  return s;
}

/** What the summary needs from the reading of the inputs, before the stage runs. */
export interface AlignReadFacts {
  /** Seconds spent reading data.json and the logs (added to the run's). */
  readSeconds: number;
  invalidRecords: number;
  unusedOverrides: string[];
}

/**
 * Align as a stage (src/stage.ts). `plan` gives each record an action from the inputs already
 * read (plan.ts); `run` checks earlier results on disk, aligns the rest in a worker pool and
 * appends landmarks.jsonl lines; `summarize` adds up the outcomes (summary.ts).
 */
export function alignStage(
  options: AlignOptions,
  read: AlignReadFacts = { readSeconds: 0, invalidRecords: 0, unusedOverrides: [] },
): Stage<AlignInput, AlignTask, AlignOutcomeCode, AlignOutcome, AlignSummary> {
  const settings = alignSettings(options);
  const layout = datasetLayout(options.root);
  const policy: AlignPolicy = {
    rawDir: layout.raw,
    ffhqSize: settings.ffhqSize,
    mtcnnSize: settings.mtcnnSize,
    ffhqFast: settings.ffhqFast,
    detector: settings.detector,
    force: options.force ?? false,
    retryFailed: options.retryFailed ?? false,
    redetect: options.redetect ?? false,
  };
  let facts = emptyAlignFacts();
  const setup: AlignRunFacts = {
    root: layout.root,
    invalidRecords: read.invalidRecords,
    detector: settings.detector,
    unusedOverrides: read.unusedOverrides,
    overrideFile: layout.landmarksOverride,
    landmarksFile: logFileFor(layout, 'landmarks', options.shard),
    workers: 0,
    startupSeconds: 0,
    ffhq: settings.ffhq,
  };
  return {
    name: 'align',
    codes: ALIGN_OUTCOMES,
    plan(input) {
      // without a size asked for, the root's own faces decide it (ffhq-size.ts): known only now
      const ffhq = chooseFfhqSize(options.ffhqSize, ffhqSizesFound(input.previous.values()));
      settings.ffhq = setup.ffhq = ffhq;
      settings.ffhqSize = policy.ffhqSize = ffhq.size;
      return planAlign(input, policy);
    },
    async run(tasks, context) {
      facts = emptyAlignFacts();
      const started = performance.now();
      await runAlign({ options, settings, layout, setup, started, readSeconds: read.readSeconds }, tasks, {
        ...context,
        sink: (o) => {
          addAlignOutcome(facts, o);
          context.sink(o);
        },
      });
    },
    summarize: (tally, interrupted, seconds) => summarizeAlign(tally, facts, setup, interrupted, seconds + read.readSeconds),
  };
}

interface AlignRun {
  options: AlignOptions;
  settings: AlignSettings;
  layout: DatasetLayout;
  /** Filled in as the run learns them: its pool size and start-up time. */
  setup: AlignRunFacts;
  /** performance.now() when the run began, and the seconds the inputs took before it. */
  started: number;
  readSeconds: number;
}

/** A photo for the worker pool, and what its outcome carries. */
interface PhotoJob {
  task: AlignTask;
  image: AlignImageTask;
  photoKey: string;
  /** An earlier ok line's files were gone. */
  redone: boolean;
}

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/** What a no_face or decode_error result was computed from: the photo file and the record's face rectangle. */
async function photoKey(file: string, rec: EcafRecord): Promise<string> {
  const st = await fs.stat(file);
  const r = rec.faceRectangle;
  return `${st.size}:${Math.round(st.mtimeMs)}${r ? `:${r.left},${r.top},${r.width},${r.height}` : ''}`;
}

const now = () => new Date().toISOString();
/** missing_image lines written in one append. */
const MISSING_BATCH = 1024;

/**
 * The I/O of align: check each task's earlier result on disk (already_done, kept_failure,
 * missing_image lines), then align the photos left in a worker pool, logging each line as it
 * comes. After an abort, photos in flight are finished and logged; every task left is `dropped`.
 */
async function runAlign(r: AlignRun, tasks: Iterable<AlignTask> | AsyncIterable<AlignTask>, context: StageRunContext<AlignOutcome>): Promise<void> {
  const { options, settings, layout, setup } = r;
  const { signal } = context;
  const done = (o: AlignOutcome) => {
    context.sink(o);
    if (o.code !== 'dropped') context.progress?.tick();
  };
  const dropped = (t: AlignTask) => done({ id: t.id, code: 'dropped', index: t.record.index, ...(t.prev && { line: t.prev }) });
  const kept = (t: AlignTask, code: 'already_done' | 'kept_failure') => done({ id: t.id, code, index: t.record.index, line: t.prev!, ...(t.otherDetector && { keptDetector: t.otherDetector }) });

  await fs.mkdir(layout.ffhq, { recursive: true });
  await fs.mkdir(layout.mtcnn, { recursive: true });
  // a shard sweeps only the leftovers of its own ids (`<id>.png` / `<id>.jpg`)
  const owns = (name: string) => inShard(name.slice(0, name.lastIndexOf('.')), options.shard);
  await Promise.all([cleanTempFiles(layout.ffhq, owns), cleanTempFiles(layout.mtcnn, owns)]);
  const appender = await JsonlAppender.open(await prepareLogFile(layout, 'landmarks', options.shard));

  // missing_image outcomes wait for their batch's one append; `log`: the line says something new
  let missing: { outcome: AlignOutcome; log: boolean }[] = [];
  const flushMissing = async () => {
    await appender.append(missing.filter((m) => m.log).map((m) => m.outcome.line!));
    for (const m of missing) done(m.outcome);
    missing = [];
  };
  const jobs: PhotoJob[] = [];
  const toPool = async (task: AlignTask, redone: boolean, key?: string) => {
    jobs.push({ task, image: imageTask(task, settings, layout), photoKey: key ?? (await photoKey(task.file!, task.record)), redone });
  };
  let pool: WorkerPool<AlignImageTask, AlignImageResult> | undefined;
  try {
    for await (const task of tasks) {
      if (signal?.aborted) {
        dropped(task);
        continue;
      }
      if (task.action === 'check_done' && (await exists(ffhqFile(layout, task.id))) && (await exists(mtcnnFile(layout, task.id)))) {
        kept(task, 'already_done');
      } else if (task.missing) {
        const line: LandmarksLine = { id: task.id, status: 'missing_image', source: task.override ? 'override' : 'detector', error: task.missing.error, time: now() };
        missing.push({ outcome: { id: task.id, code: 'missing_image', index: task.record.index, line, ...(task.redetect && { redetected: true }) }, log: task.missing.log });
        if (missing.length >= MISSING_BATCH) await flushMissing();
      } else if (task.action === 'check_failure') {
        const key = await photoKey(task.file!, task.record);
        if (key === task.prev!.photo_key) kept(task, 'kept_failure');
        else await toPool(task, false, key);
      } else await toPool(task, task.action === 'check_done');
    }
    await flushMissing();

    const poolSize = Math.min(settings.workers, jobs.length);
    setup.workers = poolSize;
    if (poolSize > 0 && !signal?.aborted) {
      const workerSetup: WorkerSetup = { detector: settings.detector, ...(options.mtcnnModelDir && { mtcnnModelDir: options.mtcnnModelDir }), threads: poolSize === 1 ? Math.max(1, os.availableParallelism()) : 1, ...(options.kernels && { kernels: options.kernels }) };
      pool = new WorkerPool<AlignImageTask, AlignImageResult>(distFile('align/worker.js'), poolSize, workerSetup);
      await pool.ready();
    }
    setup.startupSeconds = r.readSeconds + (performance.now() - r.started) / 1000;
    let next = 0;
    const runner = async (run: WorkerPool<AlignImageTask, AlignImageResult>) => {
      while (next < jobs.length && !signal?.aborted) {
        const job = jobs[next++]!;
        let result: AlignImageResult;
        try {
          result = await run.run(job.image);
        } catch (err) {
          if (!(err instanceof WorkerTaskError)) throw err;
          result = { line: { id: job.task.id, status: 'decode_error', source: job.task.override ? 'override' : 'detector', error: err.message, time: now() }, timings: emptyTimings() };
        }
        const line = result.line;
        if (line.status !== 'ok') line.photo_key = job.photoKey;
        await appender.append([line]);
        done({ id: line.id, code: line.status, index: job.task.record.index, line, timings: result.timings, ...(job.redone && { redone: true }), ...(job.task.redetect && { redetected: true }) });
      }
    };
    if (pool) await Promise.all(Array.from({ length: poolSize }, () => runner(pool!)));
    // the photos an interrupt left: the next run does them
    for (; next < jobs.length; next++) dropped(jobs[next]!.task);
  } finally {
    await pool?.close();
    await appender.close();
  }
}

/** What a worker needs to align the photo of a task. */
function imageTask(task: AlignTask, s: AlignSettings, layout: DatasetLayout): AlignImageTask {
  const rec = task.record;
  return {
    id: task.id,
    file: task.file!,
    ...(rec.faceRectangle && { rectangle: rectangleBox(rec.faceRectangle) }),
    ...(task.override && { override: task.override }),
    ffhqSize: s.ffhqSize,
    ffhqTransformSize: s.ffhqFast ? s.ffhqSize : 4 * s.ffhqSize,
    mtcnnSize: s.mtcnnSize,
    detection: s.detection,
    ffhqFile: ffhqFile(layout, task.id),
    mtcnnFile: mtcnnFile(layout, task.id),
  };
}
