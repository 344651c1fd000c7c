/** `ecaf benchmark`: score a face model on the dataset root's pair files (plan -> embed -> report -> write). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { loadDataJson } from '../dataset/load.js';
import { idOfImageName, type AlignedVariant } from '../dataset/names.js';
import { inShard, shardTag, type Shard } from '../distribute/shard.js';
import type { EcafRecord } from '../dataset/record.js';
import { DEFAULT_ADULT_MIN_AGE, DEFAULT_CHILD_MAX_AGE } from '../pairs/age-class.js';
import { checkFolds, readPairFile, readPairSidecar } from '../pairs/read.js';
import type { StageResult } from '../stage.js';
import { checkInt, InputError, InterruptedError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { isBinSetFile, readBinSet } from './bin-set.js';
import { buildReport } from './build-report.js';
import { embedImages, type EmbedStats } from './embed-pipeline.js';
import { openEmbedder } from './embedders.js';
import { formatLooSummary, writeLooReport, type LooReport } from './loo-report.js';
import { leaveOneOutReport, planLeaveOneOut } from './loo-run.js';
import { openOnnxBlockProduct } from './onnx-gemm.js';
import { planBenchmark, type ImageToEmbed } from './plan.js';
import { formatReportSummary, type BenchmarkReport } from './report.js';
import { writeReportFiles } from './write-report.js';

export { openEmbedder, type OpenEmbedderOptions } from './embedders.js';
export { writeComparison } from './compare.js';
export type { BenchmarkReport } from './report.js';
export { formatLooSummary, type LooReport } from './loo-report.js';
export type { Embedder, EmbedderInfo, Preprocessing, FlipRule } from './embedder.js';

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

export interface EmbedOnlyResult {
  /** Images the run would embed (of this shard), and of them: embedded now, found cached, missing on disk. */
  images: number;
  embedded: number;
  fromCache: number;
  missing: number;
  seconds: number;
  cacheDir: string;
  /** Stopped by the signal before every image was embedded: what was done is cached. */
  interrupted: boolean;
}

export interface BenchmarkResult {
  /** Folder holding report.json, report.md, roc.svg, scores.csv. */
  dir: string;
  report: BenchmarkReport;
}

/** What became of each image the run needs: `embedded` now, read from the cache, its file `missing`, or `dropped` by an interrupt. */
export type BenchmarkOutcomeCode = 'embedded' | 'cached' | 'missing' | 'dropped';

/**
 * Everything one `ecaf benchmark` run did, as a stage result (src/stage.ts) over its images: a
 * report per pair file, and leave-one-out identification when asked (none when interrupted first).
 */
export interface BenchmarkRun extends StageResult<BenchmarkOutcomeCode> {
  stage: 'benchmark';
  results: BenchmarkResult[];
  leaveOneOut?: { dir: string; report: LooReport };
}

/** The run's result from its embedding stats and what it wrote (pure). */
export function summarizeBenchmark(stats: EmbedStats, written: Pick<BenchmarkRun, 'results' | 'leaveOneOut'>, interrupted: boolean, seconds: number): BenchmarkRun {
  return {
    stage: 'benchmark',
    interrupted,
    outcomes: { embedded: stats.embedded, cached: stats.fromCache, missing: stats.missing, dropped: stats.dropped },
    seconds,
    ...written,
  };
}

/** Limits of the options, checked once, here. */
function checkBenchmarkOptions(o: Omit<BenchmarkOptions, 'model'>): void {
  if (o.batch !== undefined) checkInt('batch', o.batch, 1, 4096);
  if (o.size !== undefined) checkInt('size', o.size, 16, 1024);
  if (o.folds !== undefined) checkFolds('folds', o.folds);
}

/**
 * Score `o.model` on each pair file (text lists on the root's aligned images; insightface `.bin`
 * sets from the file alone, reports under `<root>/reports/<model>/<set>/`), and with
 * `identification: 'loo'` run leave-one-out identification over the root's aligned images;
 * every image embedded once. Stopped by the signal, it says `interrupted` and writes no more
 * reports; the embeddings done stay cached.
 */
export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkRun> {
  const started = performance.now();
  const { layout, variant, imagesDir, flip, loo, records, looImages, images, files } = await benchmarkInputs(o);
  const log = o.log ?? defaultLog;
  const embedder = await openFor(o, log);
  try {
    const embeddings = await embedImages(embedder, images, { flip, batch: o.batch, progress: o.progress, signal: o.signal, cacheRoot: layout.cache, estimates: o.age });
    const done = (written: Pick<BenchmarkRun, 'results' | 'leaveOneOut'>, interrupted: boolean) => summarizeBenchmark(embeddings.stats, written, interrupted, (performance.now() - started) / 1000);
    if (embeddings.interrupted) return done({ results: [] }, true);
    const { embedded, fromCache } = embeddings.stats;
    if (fromCache > 0) log(embedded === 0 ? `every embedding (${fromCache}) found in the cache: nothing to embed` : `${fromCache} embeddings found in the cache, ${embedded} embedded now`);
    const modelName = reportModelName(o.model, flip, variant === 'ffhq');
    const pairs: BenchmarkResult[] = [];
    for (const file of files) {
      const pairsName = path.basename(file.list.file, path.extname(file.list.file));
      const dir = o.out ? (files.length > 1 ? path.join(path.resolve(o.out), pairsName) : path.resolve(o.out)) : path.join(layout.reports, modelName, pairsName);
      const date = new Date().toISOString();
      // a .bin set's images are in the file itself
      const from = file.list.format === 'insightface-bin' ? file.list.file : imagesDir;
      const { report, rows, ages } = buildReport({ file, embeddings, records, model: embedder, flip, imagesDir: from, pairsSha256: await fileSha256(file.list.file), date, age: o.age });
      await writeReportFiles(dir, report, rows, ages);
      pairs.push({ dir, report });
    }
    if (!loo) return done({ results: pairs }, false);
    const gemm = await openOnnxBlockProduct();
    try {
      const report = await leaveOneOutReport({
        images: looImages,
        embeddings,
        records,
        model: embedder,
        flip,
        imagesDir,
        date: new Date().toISOString(),
        product: gemm.product,
        childMaxAge: o.childMaxAge ?? DEFAULT_CHILD_MAX_AGE,
        adultMinAge: o.adultMinAge ?? DEFAULT_ADULT_MIN_AGE,
        signal: o.signal,
      }).catch((err: unknown) => {
        if (err instanceof InterruptedError && o.signal?.aborted) return undefined;
        throw err;
      });
      if (!report) return done({ results: pairs }, true);
      const dir = path.join(layout.reports, modelName, 'leave-one-out');
      await writeLooReport(dir, report);
      return done({ results: pairs, leaveOneOut: { dir, report } }, false);
    } finally {
      await gemm.close();
    }
  } finally {
    await embedder.close();
  }
}

/** Embed the images a plain run would (this shard's ids only) into the cache; a later plain run finds them there. */
export async function embedOnly(o: EmbedOnlyOptions): Promise<EmbedOnlyResult> {
  const { layout, flip, images: all } = await benchmarkInputs(o);
  const images = all.filter((im) => inShard(idOfImageName(im.name) ?? im.name, o.shard));
  const embedder = await openFor(o, o.log ?? defaultLog);
  try {
    const cacheTag = o.shard ? `shard-${shardTag(o.shard)}` : undefined;
    const e = await embedImages(embedder, images, { flip, batch: o.batch, progress: o.progress, signal: o.signal, cacheRoot: layout.cache, cacheTag, estimates: o.age });
    const found = e.vectors.filter((v) => v !== undefined).length;
    return { images: images.length, embedded: e.stats.embedded, fromCache: e.stats.fromCache, missing: images.length - found, seconds: e.stats.seconds, cacheDir: e.cacheDir ?? layout.cache, interrupted: e.interrupted };
  } finally {
    await embedder.close();
  }
}

/** What the CLI prints after an embed-only run. */
export function formatEmbedOnly(r: EmbedOnlyResult): string {
  return `embed-only${r.interrupted ? ' interrupted' : ''}: ${r.images} images: ${r.embedded} embedded now, ${r.fromCache} already cached, ${r.missing} missing on disk (${r.seconds.toFixed(1)} s); cache ${r.cacheDir}${r.interrupted ? '; rerun to go on' : ''}`;
}

/** What both runs read first: the pair files (text lists and .bin sets), data.json's records, and every image to embed. */
async function benchmarkInputs(o: Omit<BenchmarkOptions, 'model'>) {
  checkBenchmarkOptions(o);
  const layout = datasetLayout(o.root);
  const variant: AlignedVariant = o.images === 'ffhq' ? 'ffhq' : 'mtcnn';
  const imagesDir = variant === 'ffhq' ? layout.ffhq : layout.mtcnn;
  const folder = { dir: imagesDir, variant };
  const flip = o.flip ?? true;
  const loo = o.identification === 'loo';
  const pairFiles = o.pairs?.length ? o.pairs.map((f) => path.resolve(f)) : await defaultPairFiles(layout.pairs, loo);
  const textFiles = pairFiles.filter((f) => !isBinSetFile(f));
  const binSets = await Promise.all(pairFiles.filter(isBinSetFile).map((f) => readBinSet(f, o.folds)));
  const inputs = await Promise.all(textFiles.map(async (f) => ({ list: await readPairFile(f, { folds: o.folds }), sidecar: await readPairSidecar(f) })));
  const records = await loadRecords(layout.dataJson);
  if (loo && records.size === 0) throw new InputError({ option: 'identification', file: layout.dataJson, expected: 'records with identities and aligned images (leave-one-out needs them)', found: 'none' });
  const plan = planBenchmark(inputs, records, folder);
  const looImages = loo ? planLeaveOneOut(records, folder) : [];
  const images = uniqueImages([...plan.images, ...binSets.flatMap((b) => b.images.map((im) => ({ name: im.name, file: b.list.file, bytes: im.bytes }))), ...looImages]);
  const files = [...binSets.map((b) => ({ list: b.list })), ...plan.files];
  return { layout, variant, imagesDir, flip, loo, records, looImages, images, files };
}

const defaultLog = (l: string) => process.stderr.write(`ecaf: ${l}\n`);

const openFor = (o: BenchmarkOptions, log: (l: string) => void) =>
  openEmbedder(o.model, { device: o.device, size: o.size, mean: o.mean, std: o.std, bgr: o.bgr, batch: o.batch, fp16: o.fp16, log });

/** Each image name once (the first wins: pair files and identification name the same aligned files). */
function uniqueImages(images: readonly ImageToEmbed[]): ImageToEmbed[] {
  const seen = new Set<string>();
  return images.filter((im) => !seen.has(im.name) && (seen.add(im.name), true));
}

/** What the CLI prints for one result. */
export function formatBenchmarkResult(r: BenchmarkResult): string {
  return formatReportSummary(r.report, r.dir);
}

/** What `ecaf benchmark` prints when done: each report's summary, and what an interrupt left. */
export function formatBenchmarkRun(run: BenchmarkRun): string {
  const lines = run.results.map((r) => `${formatBenchmarkResult(r)}\n`);
  if (run.leaveOneOut) lines.push(`${formatLooSummary(run.leaveOneOut.report, run.leaveOneOut.dir)}\n`);
  if (run.interrupted) {
    const { embedded, dropped } = run.outcomes;
    const what = dropped > 0 ? `after ${embedded} of ${embedded + dropped} images; their embeddings are cached` : 'while scoring; the embeddings are cached';
    lines.push(`benchmark interrupted ${what}, rerun to go on (no ${run.results.length ? 'further ' : ''}report written)\n`);
  }
  return lines.join('');
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
  const stem = model === 'builtin' ? 'builtin' : path.basename(model, path.extname(model));
  return `${stem}${flip ? '' : '-noflip'}${ffhq ? '-ffhq' : ''}`;
}
