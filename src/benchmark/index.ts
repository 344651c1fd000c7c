/** `ecaf benchmark` as a stage: score a face model on the dataset root's pair files (plan -> embed -> report -> write). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { loadDataJson } from '../dataset/load.js';
import { idOfImageName, type AlignedVariant } from '../dataset/names.js';
import { inShard, shardTag, type Shard } from '../distribute/shard.js';
import type { EcafRecord } from '../dataset/record.js';
import { DEFAULT_ADULT_MIN_AGE, DEFAULT_CHILD_MAX_AGE } from '../pairs/age-class.js';
import { checkFolds, readPairFile, readPairSidecar } from '../pairs/read.js';
import { runStage, type Stage, type StageOutcome, type StageTask } from '../stage.js';
import { checkInt, InputError, InterruptedError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { isBinSetFile, readBinSet, type BinPairSet } from './sets/bin-set.js';
import { buildReport } from './report/build.js';
import { embedImages, IMAGE_OUTCOMES, type Embeddings } from '../models/embed-pipeline.js';
import type { Embedder } from '../models/embedder.js';
import { modelStem, openEmbedder } from '../models/open.js';
import { writeLooReport } from './report/loo.js';
import { leaveOneOutReport, planLeaveOneOut } from './loo-run.js';
import { openOnnxBlockProduct } from '../similarity/onnx-gemm.js';
import { planBenchmark, type FilePlan, type ImagesFolder, type PairInput } from './plan.js';
import type { ImageToEmbed } from '../models/embed-pipeline.js';
import { summarizeBenchmark, type BenchmarkOutcomeCode, type BenchmarkRun, type BenchmarkWritten } from './summary.js';
import { writeReportFiles } from './report/write.js';

export { writeComparison } from './report/compare.js';
export type { BenchmarkReport } from './report/markdown.js';
export type { LooReport } from './report/loo.js';
export { summarizeBenchmark, type BenchmarkOutcomeCode, type BenchmarkResult, type BenchmarkRun } from './summary.js';

export interface BenchmarkOptions {
  root: string;
  /** `builtin`, a `.onnx` file, or a PyTorch checkpoint (`.pth`, `.pt`, `.tar`). */
  model: string;
  /** Pair files; default every `image_pairs/*.txt` under the root. */
  pairs?: string[];
  device?: 'auto' | 'cpu' | 'cuda';
  /** Images per model call (each with its mirror image when flip is on); default 32. */
  batch?: number;
  images?: 'mtcnn' | 'ffhq';
  /** Flip test-time augmentation (default on). */
  flip?: boolean;
  /** Report folder; default `reports/<model>/<pairs>/` (with several pair files: `<out>/<pairs>/`). */
  out?: string;
  size?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
  bgr?: boolean;
  /** Folds of pair files that do not say, and of .bin sets (default 10). */
  folds?: number;
  /** `loo`: leave-one-out identification over every aligned image of data.json (reports/<model>/leave-one-out/). */
  identification?: 'loo';
  /** Age groups of leave-one-out (defaults 12 and 18). */
  childMaxAge?: number;
  adultMinAge?: number;
  fp16?: boolean;
  /** The age section: the model's age / gender estimates and the linear probes of its embedding (default true). */
  age?: boolean;
  /** Progress lines on stderr (default true). */
  progress?: boolean;
  signal?: AbortSignal;
  /** Notes such as "auto: running on CPU" (default: stderr). */
  log?: (line: string) => void;
}

/** An embed-only run: embed (this shard's share of) the images into the cache, score nothing. */
export interface EmbedOnlyOptions extends Omit<BenchmarkOptions, 'out'> {
  /** Embed only the images of this shard's ids, into cache chunks named for the shard (docs/cluster.md). */
  shard?: Shard;
}

/** What a benchmark plans from, already read: text pair files with their sidecars, `.bin` sets, and data.json's records. */
export interface BenchmarkInput {
  pairs: PairInput[];
  binSets: BinPairSet[];
  records: ReadonlyMap<string, EcafRecord>;
}

/** One image to embed; `id` (its record id, else its name) is what shards split on (docs/cluster.md). */
export interface BenchmarkTask extends StageTask {
  image: ImageToEmbed;
}

export type BenchmarkOutcome = StageOutcome<BenchmarkOutcomeCode>;

/** Limits of the options, checked once, here. */
function checkBenchmarkOptions(o: Omit<BenchmarkOptions, 'model'>): void {
  if (o.batch !== undefined) checkInt('batch', o.batch, 1, 4096);
  if (o.size !== undefined) checkInt('size', o.size, 16, 1024);
  if (o.folds !== undefined) checkFolds('folds', o.folds);
}

/** Where a run's images and reports are, from its options. */
function settingOf(o: Omit<BenchmarkOptions, 'model'>) {
  const layout = datasetLayout(o.root);
  const variant: AlignedVariant = o.images === 'ffhq' ? 'ffhq' : 'mtcnn';
  const folder: ImagesFolder = { dir: variant === 'ffhq' ? layout.ffhq : layout.mtcnn, variant };
  return { layout, folder, flip: o.flip ?? true, log: o.log ?? defaultLog };
}

/** What the plan keeps for scoring: each pair file's plan, leave-one-out's images, and the records. */
interface ScoringPlan {
  files: FilePlan[];
  looImages: ImageToEmbed[];
  records: ReadonlyMap<string, EcafRecord>;
}

/**
 * Benchmark as a stage (src/stage.ts). `plan` names every image the pair files, `.bin` sets and
 * leave-one-out need, once, as a task; `run` embeds the tasks it is given (cache, signal,
 * progress) and tells the sink what became of each, then scores every pair file (and
 * leave-one-out) and writes the reports. A scoring run is given every task. With `embedOnly`
 * it stops after embedding, and may be given one shard's tasks (cache chunks named for `shard`).
 */
export function benchmarkStage(options: BenchmarkOptions, embedOnly?: { shard?: Shard }): Stage<BenchmarkInput, BenchmarkTask, BenchmarkOutcomeCode, BenchmarkOutcome, BenchmarkRun> {
  checkBenchmarkOptions(options);
  const { layout, folder, flip, log } = settingOf(options);
  let planned: (ScoringPlan & { tasks: number }) | undefined;
  const nothingWritten = (): BenchmarkWritten => ({ results: [], cacheDir: layout.cache, stopped: false });
  let written = nothingWritten();
  return {
    name: 'benchmark',
    codes: IMAGE_OUTCOMES,
    plan({ pairs, binSets, records }) {
      const plan = planBenchmark(pairs, records, folder);
      const looImages = options.identification === 'loo' ? planLeaveOneOut(records, folder) : [];
      const images = uniqueImages([...plan.images, ...binSets.flatMap((b) => b.images.map((im) => ({ name: im.name, file: b.list.file, bytes: im.bytes }))), ...looImages]);
      planned = { files: [...binSets.map((b) => ({ list: b.list })), ...plan.files], looImages, records, tasks: images.length };
      written = nothingWritten();
      return images.map((image) => ({ id: idOfImageName(image.name) ?? image.name, image }));
    },
    async run(tasks, { signal, progress, sink }) {
      if (!planned) throw new Error('internal: benchmark run before its plan');
      const given: BenchmarkTask[] = [];
      for await (const t of tasks) given.push(t);
      // reports from a share of the images would score the rest as missing
      if (!embedOnly && given.length !== planned.tasks) throw new Error(`internal: a scoring benchmark run is given every planned image (${planned.tasks}), not ${given.length}`);
      const embedder = await openFor(options, log);
      try {
        const embeddings = await embedImages(
          embedder,
          given.map((t) => t.image),
          {
            flip,
            batch: options.batch,
            progress: options.progress,
            signal,
            cacheRoot: layout.cache,
            cacheTag: embedOnly?.shard ? `shard-${shardTag(embedOnly.shard)}` : undefined,
            estimates: options.age,
            onOutcome: (at, code) => {
              sink({ id: given[at]!.id, code });
              if (code !== 'dropped') progress?.tick();
            },
          },
        );
        written.cacheDir = embeddings.cacheDir ?? layout.cache;
        written.stopped = embeddings.interrupted;
        if (embedOnly || embeddings.interrupted) return;
        await scoreAndWrite(options, planned, embeddings, embedder, signal, written);
      } finally {
        await embedder.close();
      }
    },
    summarize: (tally, interrupted, seconds) => summarizeBenchmark(tally, written, interrupted, seconds),
  };
}

/** A scoring run's reports, from its embeddings: one per pair file, then leave-one-out when asked; each added to `written`. */
async function scoreAndWrite(o: BenchmarkOptions, plan: ScoringPlan, embeddings: Embeddings, embedder: Embedder, signal: AbortSignal | undefined, written: BenchmarkWritten): Promise<void> {
  const { layout, folder, flip, log } = settingOf(o);
  const { records, files } = plan;
  const { embedded, fromCache } = embeddings.stats;
  if (fromCache > 0) log(embedded === 0 ? `every embedding (${fromCache}) found in the cache: nothing to embed` : `${fromCache} embeddings found in the cache, ${embedded} embedded now`);
  const modelName = reportModelName(o.model, flip, folder.variant === 'ffhq');
  for (const file of files) {
    const pairsName = path.basename(file.list.file, path.extname(file.list.file));
    const dir = o.out ? (files.length > 1 ? path.join(path.resolve(o.out), pairsName) : path.resolve(o.out)) : path.join(layout.reports, modelName, pairsName);
    const date = new Date().toISOString();
    // a .bin set's images are in the file itself
    const from = file.list.format === 'insightface-bin' ? file.list.file : folder.dir;
    const { report, rows, ages } = buildReport({ file, embeddings, records, model: embedder, flip, imagesDir: from, pairsSha256: await fileSha256(file.list.file), date, age: o.age });
    await writeReportFiles(dir, report, rows, ages);
    written.results.push({ dir, report });
  }
  if (o.identification !== 'loo') return;
  const gemm = await openOnnxBlockProduct();
  try {
    const report = await leaveOneOutReport({
      images: plan.looImages,
      embeddings,
      records,
      model: embedder,
      flip,
      imagesDir: folder.dir,
      date: new Date().toISOString(),
      product: gemm.product,
      childMaxAge: o.childMaxAge ?? DEFAULT_CHILD_MAX_AGE,
      adultMinAge: o.adultMinAge ?? DEFAULT_ADULT_MIN_AGE,
      signal,
    }).catch((err: unknown) => {
      // leave-one-out stops by throwing; the stage says interrupted instead
      if (err instanceof InterruptedError && signal?.aborted) return undefined;
      throw err;
    });
    if (!report) return void (written.stopped = true);
    const dir = path.join(layout.reports, modelName, 'leave-one-out');
    await writeLooReport(dir, report);
    written.leaveOneOut = { dir, report };
  } finally {
    await gemm.close();
  }
}

/**
 * Score `o.model` on each pair file (text lists on the root's aligned images; insightface `.bin`
 * sets from the file alone, reports under `<root>/reports/<model>/<set>/`), and with
 * `identification: 'loo'` run leave-one-out identification over the root's aligned images;
 * every image embedded once. Stopped by the signal, it says `interrupted` and writes no more
 * reports; the embeddings done stay cached.
 */
export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkRun> {
  return drive(o, benchmarkStage(o));
}

/** Embed the images a plain run would (this shard's ids only) into the cache; a later plain run finds them there. */
export async function embedOnly(o: EmbedOnlyOptions): Promise<BenchmarkRun> {
  const { shard } = o;
  return drive(o, benchmarkStage(o, { shard }), shard ? (t) => inShard(t.id, shard) : undefined);
}

/** Read the inputs and run the stage (created first: its options are checked before anything is read); the seconds count the reading too. */
async function drive(o: Omit<BenchmarkOptions, 'model'>, stage: ReturnType<typeof benchmarkStage>, select?: (t: BenchmarkTask) => boolean): Promise<BenchmarkRun> {
  const started = performance.now();
  const run = await runStage(stage, await readBenchmarkInput(o), { signal: o.signal, select });
  return { ...run, seconds: (performance.now() - started) / 1000 };
}

/** What every run reads first: the pair files (text lists and .bin sets) and data.json's records. */
async function readBenchmarkInput(o: Omit<BenchmarkOptions, 'model'>): Promise<BenchmarkInput> {
  const layout = datasetLayout(o.root);
  const loo = o.identification === 'loo';
  const pairFiles = o.pairs?.length ? o.pairs.map((f) => path.resolve(f)) : await defaultPairFiles(layout.pairs, loo);
  const textFiles = pairFiles.filter((f) => !isBinSetFile(f));
  const binSets = await Promise.all(pairFiles.filter(isBinSetFile).map((f) => readBinSet(f, o.folds)));
  const pairs = await Promise.all(textFiles.map(async (f) => ({ list: await readPairFile(f, { folds: o.folds }), sidecar: await readPairSidecar(f) })));
  const records = await loadRecords(layout.dataJson);
  if (loo && records.size === 0) throw new InputError({ option: 'identification', file: layout.dataJson, expected: 'records with identities and aligned images (leave-one-out needs them)', found: 'none' });
  return { pairs, binSets, records };
}

const defaultLog = (l: string) => process.stderr.write(`ecaf: ${l}\n`);

const openFor = (o: BenchmarkOptions, log: (l: string) => void) =>
  openEmbedder(o.model, { device: o.device, size: o.size, mean: o.mean, std: o.std, bgr: o.bgr, batch: o.batch, fp16: o.fp16, log });

/** Each image name once (the first wins: pair files and identification name the same aligned files). */
function uniqueImages(images: readonly ImageToEmbed[]): ImageToEmbed[] {
  const seen = new Set<string>();
  return images.filter((im) => !seen.has(im.name) && (seen.add(im.name), true));
}

async function defaultPairFiles(dir: string, optional: boolean): Promise<string[]> {
  let names: string[] = [];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const files = names.filter((n) => n.endsWith('.txt')).sort().map((n) => path.join(dir, n));
  if (!files.length && !optional) throw new InputError({ file: dir, expected: 'pair files (*.txt)', found: 'none' }, ['run:pairs', 'pairs']);
  return files;
}

/** data.json's records by id, or none when there is no data.json (LFW-style roots). */
async function loadRecords(file: string): Promise<Map<string, EcafRecord>> {
  try {
    await fs.access(file);
  } catch {
    return new Map();
  }
  const { records } = await loadDataJson(file, { skipInvalid: true });
  return new Map(records.map((r) => [r.id, r]));
}

/** `reports/<this>/`: the model file's stem, marked when flip is off or FFHQ crops are scored, so settings do not overwrite each other. */
export function reportModelName(model: string, flip: boolean, ffhq: boolean): string {
  return `${modelStem(model)}${flip ? '' : '-noflip'}${ffhq ? '-ffhq' : ''}`;
}
