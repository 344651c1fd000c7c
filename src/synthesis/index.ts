/**
 * `synthesize` as a stage (src/stage.ts): each input face rendered at MTLFace's age groups by
 * the checkpoint's synthesis half (faces/<id>_g<k>.png, kept across runs), then judged by an
 * open recogniser and age estimator, and by the checkpoint itself (labelled), into
 * synthesis.json / synthesis.md with a sheet.png.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { modelStem, openEmbedder } from '../models/open.js';
import { loadFace, writeTensor } from '../models/preprocess.js';
import { IMAGE_FLOATS } from '../models/torch.js';
import { openTorchSynthesizer, SYNTHESIS_PREPROCESSING, type SynthesisNoise, type Synthesizer, type SynthesizerInfo } from '../models/torch-synthesizer.js';
import { runStage, type Stage, type StageOutcome, type StageResult, type Tally } from '../stage.js';
import { writeFileAtomic } from '../util/atomic.js';
import { checkInt, InputError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { groupBy } from '../util/group.js';
import { Progress } from '../util/progress.js';
import { VERSION } from '../version.js';
import { readFaces, readLabels, readRendered, SETTINGS_FILE } from './inputs.js';
import { judgeFaces } from './judges.js';
import { planSynthesis, renderedFileName, type SynthesisFace, type SynthesisInput, type SynthesisSettings, type SynthesisTask } from './plan.js';
import { writeSynthesisReport, type JudgeReport, type SynthesisReport } from './report.js';
import { synthesisScores } from './scores.js';
import { drawRowSheet } from '../sheet/rows.js';
import { AGE_GROUP_COUNT, AGE_GROUPS } from '../dataset/age-groups.js';

export interface SynthesisOptions {
  root: string;
  /** An MTLFace checkpoint with its synthesis parts. */
  model: string;
  /** A file of ids (one per line); default every face of img_mtcnn/. */
  ids?: string;
  /** Only the first this many faces (by name, or in the ids file's order). */
  limit?: number;
  groups?: readonly number[];
  device?: 'auto' | 'cpu' | 'cuda';
  /** Faces per worker frame. */
  batch?: number;
  fp16?: boolean;
  noise?: SynthesisNoise;
  seed?: number;
  /** `builtin` or an ONNX recogniser. */
  judge?: string;
  /** Also judge with the checkpoint's own embedding and age head (default true). */
  selfJudge?: boolean;
  out?: string;
  signal?: AbortSignal;
  progress?: boolean;
  log?: (line: string) => void;
}

export type SynthesisOutcomeCode = 'rendered' | 'kept' | 'missing' | 'dropped';
export const SYNTHESIS_OUTCOMES: readonly SynthesisOutcomeCode[] = ['rendered', 'kept', 'missing', 'dropped'];
export type SynthesisOutcome = StageOutcome<SynthesisOutcomeCode>;

export interface SynthesisRun extends StageResult<SynthesisOutcomeCode> {
  dir: string;
  /** The renderer, when this run rendered any face. */
  renderer?: SynthesizerInfo;
  /** Written when every face was rendered (not interrupted). */
  report?: SynthesisReport;
  sheet?: string;
}

/** The 7 groups unless told; distinct, in range, ascending. */
export function checkGroups(groups: readonly number[] | undefined): number[] {
  const all = groups ?? Array.from({ length: AGE_GROUP_COUNT }, (_, g) => g);
  const sorted = [...new Set(all)].sort((a, b) => a - b);
  const bad = all.find((g) => !Number.isInteger(g) || g < 0 || g >= AGE_GROUP_COUNT);
  if (bad !== undefined || !sorted.length) throw new InputError({ option: 'groups', expected: `age groups 0..${AGE_GROUP_COUNT - 1} (MTLFace's 7: docs/reference.md)`, actual: bad ?? all.join(',') });
  return sorted;
}

/** The noise seed of one face: its own, so a face renders the same whatever else is in its batch. */
export function faceSeed(seed: number, id: string): bigint {
  return createHash('sha256').update(`${seed}\0${id}`).digest().readBigUInt64LE(0);
}

export const synthesisDir = (o: Pick<SynthesisOptions, 'root' | 'model' | 'out'>): string =>
  o.out ? path.resolve(o.out) : path.join(datasetLayout(o.root).reports, modelStem(o.model), 'synthesis');

const defaultLog = (l: string) => process.stderr.write(`ecaf: ${l}\n`);

export function synthesisStage(o: SynthesisOptions, settings: SynthesisSettings): Stage<SynthesisInput, SynthesisTask, SynthesisOutcomeCode, SynthesisOutcome, SynthesisRun> {
  const dir = synthesisDir(o);
  const facesDir = path.join(dir, 'faces');
  const groups = checkGroups(o.groups);
  const log = o.log ?? defaultLog;
  let stopped = false;
  let renderer: SynthesizerInfo | undefined;
  return {
    name: 'synthesize',
    codes: SYNTHESIS_OUTCOMES,
    plan: planSynthesis,
    async run(tasks, { signal, progress, sink }) {
      const todo: SynthesisTask[] = [];
      for await (const t of tasks) {
        if (t.render.length) todo.push(t);
        else {
          sink({ id: t.id, code: 'kept' });
          progress?.tick();
        }
      }
      if (!todo.length) return;
      await fs.mkdir(facesDir, { recursive: true });
      if (todo[0]!.redone) log(`the faces in ${facesDir} were rendered with other settings: rendering all ${todo.length} again`);
      await writeFileAtomic(path.join(facesDir, SETTINGS_FILE), `${JSON.stringify(settings)}\n`);
      const synth = await openTorchSynthesizer(o.model, { device: o.device, fp16: o.fp16, noise: settings.noise, batch: o.batch ?? DEFAULT_BATCH, sha256: settings.checkpointSha256, log });
      renderer = synth.info;
      try {
        stopped = await renderAll(synth, todo, o.batch ?? DEFAULT_BATCH, settings, facesDir, signal, (t, code) => {
          sink({ id: t.id, code, ...(t.redone ? { redone: true } : {}) });
          if (code !== 'dropped') progress?.tick();
        });
      } finally {
        await synth.close();
      }
    },
    summarize: (tally: Tally<SynthesisOutcomeCode>, interrupted: boolean, seconds: number): SynthesisRun => ({
      stage: 'synthesize',
      interrupted: interrupted || stopped,
      outcomes: tally.counts,
      seconds,
      dir,
      ...(renderer ? { renderer } : {}),
    }),
  };
}

/** Faces per worker call unless told (each renders up to 7 images). */
const DEFAULT_BATCH = 8;

/** Render the tasks chunk by chunk, writing each face's PNGs; true when the signal stopped it first. */
async function renderAll(synth: Synthesizer, todo: SynthesisTask[], chunkSize: number, s: SynthesisSettings, facesDir: string, signal: AbortSignal | undefined, told: (t: SynthesisTask, code: SynthesisOutcomeCode) => void): Promise<boolean> {
  // tasks of one chunk share their groups (a kept face renders only what it lacks)
  const chunks = [...groupBy(todo, (t) => t.render.join(',')).values()].flatMap((ts) => Array.from({ length: Math.ceil(ts.length / chunkSize) }, (_, k) => ts.slice(k * chunkSize, (k + 1) * chunkSize)));
  const per = IMAGE_FLOATS;
  const side = synth.size;
  const bytes = side * side * 3;
  const write = async (ready: SynthesisTask[], groups: number[], pixels: Uint8Array) =>
    Promise.all(
      ready.map(async (t, i) => {
        for (let k = 0; k < groups.length; k++) {
          const at = (i * groups.length + k) * bytes;
          const png = await sharp(pixels.subarray(at, at + bytes), { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
          await writeFileAtomic(path.join(facesDir, renderedFileName(t.id, groups[k]!)), png);
        }
        told(t, 'rendered');
      }),
    );
  // the PNGs of one chunk are written while the worker renders the next
  let writing: Promise<unknown> = Promise.resolve();
  for (let c = 0; c < chunks.length; c++) {
    if (signal?.aborted) {
      await writing;
      for (const t of chunks.slice(c).flat()) told(t, 'dropped');
      return true;
    }
    const chunk = chunks[c]!;
    const ready: SynthesisTask[] = [];
    const input = new Float32Array(chunk.length * per);
    for (const t of chunk) {
      const img = await loadFace(t.face.file, 112).catch(() => undefined);
      if (!img) {
        told(t, 'missing');
        continue;
      }
      writeTensor(img, SYNTHESIS_PREPROCESSING, input, ready.length * per, false);
      ready.push(t);
    }
    if (!ready.length) continue;
    const groups = ready[0]!.render;
    const seeds = BigUint64Array.from(ready, (t) => (s.noise === 'random' ? faceSeed(s.seed ?? 0, t.id) : 0n));
    const rendering = synth.render(input.subarray(0, ready.length * per), ready.length, groups, seeds);
    // a failure is awaited below; until then it must not count as unhandled
    rendering.catch(() => undefined);
    await writing;
    const pixels = await rendering;
    writing = write(ready, groups, pixels);
  }
  await writing;
  return false;
}

/** The report of a finished folder: every face judged by `o.judge` and by the checkpoint itself. */
async function scoreFolder(o: SynthesisOptions, faces: SynthesisFace[], groups: number[], settings: SynthesisSettings, missing: Set<string>, renderer: SynthesizerInfo | undefined, signal: AbortSignal | undefined): Promise<{ report: SynthesisReport; sheet: string } | undefined> {
  const layout = datasetLayout(o.root);
  const dir = synthesisDir(o);
  const facesDir = path.join(dir, 'faces');
  const shown = faces.filter((f) => !missing.has(f.id));
  const rendered = shown.map((f) => groups.map((g) => ({ name: `${f.id}_g${g}`, file: path.join(facesDir, renderedFileName(f.id, g)) })));
  const inputs = shown.map((f) => ({ name: path.basename(f.file), file: f.file }));
  const labels = await readLabels(layout.dataJson);
  const identity = shown.map((f) => labels.get(f.id)?.identity ?? f.id);
  const age = Float64Array.from(shown, (f) => labels.get(f.id)?.age ?? Number.NaN);
  const judges: JudgeReport[] = [];
  const log = o.log ?? defaultLog;
  const judgeModels = [{ model: o.judge ?? 'builtin', self: false }, ...(o.selfJudge === false ? [] : [{ model: o.model, self: true }])];
  for (const j of judgeModels) {
    // the checkpoint judging itself was hashed for the settings already
    const embedder = await openEmbedder(j.model, { device: o.device, fp16: o.fp16, log, ...(j.self ? { sha256: settings.checkpointSha256 } : {}) });
    try {
      const { outputs, interrupted } = await judgeFaces(embedder, { inputs, rendered, cacheRoot: layout.cache, signal, progress: o.progress });
      if (interrupted) return undefined;
      judges.push({ model: j.model === 'builtin' ? 'builtin' : path.basename(j.model), self: j.self, scores: synthesisScores({ groups, identity, age, judge: outputs }) });
    } finally {
      await embedder.close();
    }
  }
  const report: SynthesisReport = {
    tool: 'ecaf',
    version: VERSION,
    date: new Date().toISOString(),
    model: { file: path.basename(o.model), sha256: settings.checkpointSha256, device: renderer?.device ?? 'none this run (every face was rendered before)', precision: settings.precision, details: renderer?.details ?? {} },
    settings: { ...settings, groups },
    faces: shown.length,
    missing: [...missing].sort(),
    judges,
  };
  const sheet = path.join(dir, 'sheet.png');
  await drawRowSheet(sheet, shown.map((f, i) => ({ label: f.id, files: [f.file, ...rendered[i]!.map((r) => r.file)] })), `MTLFace face age synthesis: ${path.basename(o.model)} (${settings.noise} noise)`, ['input', ...groups.map((g) => AGE_GROUPS[g]!.label)]);
  await writeSynthesisReport(dir, report);
  return { report, sheet };
}

/** Render (resuming), then score and write the folder; interrupted runs write no report. */
export async function runSynthesis(o: SynthesisOptions): Promise<SynthesisRun> {
  const started = performance.now();
  const groups = checkGroups(o.groups);
  const noise = o.noise ?? 'stored';
  if (noise === 'stored' && o.seed !== undefined) throw new InputError({ option: 'seed', expected: 'no seed with stored noise (the checkpoint\'s noise maps need none)', actual: o.seed });
  const layout = datasetLayout(o.root);
  const faces = (await readFaces(layout.mtcnn, o.ids)).slice(0, o.limit === undefined ? undefined : checkInt('limit', o.limit, 1));
  const stat = await fs.stat(o.model).catch(() => undefined);
  if (!stat?.isFile()) throw new InputError({ option: 'model', file: o.model, expected: 'an MTLFace checkpoint with its synthesis parts', found: 'nothing there' });
  const settings: SynthesisSettings = { checkpointSha256: await fileSha256(o.model), noise, ...(noise === 'random' ? { seed: o.seed ?? 0 } : {}), precision: o.fp16 ? 'fp16' : 'fp32' };
  const facesDir = path.join(synthesisDir(o), 'faces');
  const { done, previous } = await readRendered(facesDir);
  const missing = new Set<string>();
  const progress = o.progress === false ? undefined : new Progress({ label: 'synthesize', total: faces.length, unit: 'face' });
  const run = await runStage(synthesisStage(o, settings), { faces, groups, settings, previous, done }, {
    signal: o.signal,
    progress,
    sink: (out) => {
      if (out.code === 'missing') missing.add(out.id);
    },
  });
  progress?.finish();
  if (run.interrupted) return { ...run, seconds: (performance.now() - started) / 1000 };
  const scored = await scoreFolder(o, faces, groups, settings, missing, run.renderer, o.signal);
  return { ...run, interrupted: !scored, ...(scored ? { report: scored.report, sheet: scored.sheet } : {}), seconds: (performance.now() - started) / 1000 };
}
