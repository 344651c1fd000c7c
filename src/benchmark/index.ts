/** `ecaf benchmark` and `ecaf report`: score a face model on the dataset root's pair files. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { datasetLayout } from '../dataset/layout.js';
import { loadDataJson } from '../dataset/load.js';
import type { EcafRecord } from '../dataset/record.js';
import { ageClass, DEFAULT_ADULT_MIN_AGE, DEFAULT_CHILD_MAX_AGE } from '../pairs/age-class.js';
import type { PairList } from '../pairs/pair-list.js';
import { readPairFile, sidecarPath } from '../pairs/read.js';
import { InterruptedError, UsageError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { Progress } from '../util/progress.js';
import { VERSION } from '../version.js';
import { ageGapResults } from './age-gap.js';
import { EmbeddingCache, imageKey } from './cache.js';
import type { Embedder } from './embedder.js';
import { openEmbedder } from './embedders.js';
import { combineViews } from './flip.js';
import { closedSetIdentification } from './identification.js';
import { equalErrorRate, kFoldAccuracy, rocAuc, rocCurve, rocForPlot, tarAtFars, type ScoredPairs } from './metrics.js';
import { loadFace, tensorLength, writeTensor } from './preprocess.js';
import { formatReportSummary, writeReportFiles, type BenchmarkReport, type ScoreRow } from './report.js';

export { openEmbedder, type OpenEmbedderOptions } from './embedders.js';
export { writeComparison } from './compare.js';
export type { BenchmarkReport } from './report.js';
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
  /** Folds of pair files that do not say (default 10). */
  folds?: number;
  fp16?: boolean;
  /** Progress lines on stderr (default true). */
  progress?: boolean;
  signal?: AbortSignal;
  /** Notes such as "auto: running on CPU" (default: stderr). */
  log?: (line: string) => void;
}

export interface BenchmarkResult {
  /** Folder holding report.json, report.md, roc.svg, scores.csv. */
  dir: string;
  report: BenchmarkReport;
}

/** FAR targets of TAR@FAR (insightface's own is 1e-3). */
export const FAR_TARGETS = [1e-4, 1e-3, 1e-2, 1e-1];
const DEFAULT_BATCH = 32;
/** Cached embeddings are written in chunks of at least this many images. */
const CACHE_FLUSH_IMAGES = 512;
/** Images decoded at once (sharp works on libuv's thread pool). */
const DECODE_CONCURRENCY = 4;

/** Score `o.model` on each pair file: one result (and one report folder) per file. */
export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkResult[]> {
  const layout = datasetLayout(o.root);
  const ffhq = o.images === 'ffhq';
  const imagesDir = ffhq ? layout.ffhq : layout.mtcnn;
  const fileOf = (name: string) => path.join(imagesDir, ffhq ? name.replace(/\.jpe?g$/i, '.png') : name);
  const flip = o.flip ?? true;
  const pairFiles = o.pairs?.length ? o.pairs.map((f) => path.resolve(f)) : await defaultPairFiles(layout.pairs);
  const lists = await Promise.all(pairFiles.map((f) => readPairFile(f, { folds: o.folds })));
  const records = await loadRecords(layout.dataJson);

  const log = o.log ?? ((l: string) => process.stderr.write(`ecaf: ${l}\n`));
  const embedder = await openEmbedder(o.model, { device: o.device, size: o.size, mean: o.mean, std: o.std, bgr: o.bgr, batch: o.batch, fp16: o.fp16, log });
  try {
    // every image any pair file or the identification gallery needs, embedded once
    const plans = await Promise.all(lists.map((l) => planFile(l, records)));
    const wanted = new Set<string>();
    for (const p of plans) {
      for (const pair of p.list.pairs) wanted.add(pair.a).add(pair.b);
      p.identification?.probes.forEach((n) => wanted.add(n));
      p.identification?.gallery.forEach((n) => wanted.add(n));
    }
    const embedded = await embedImages(embedder, [...wanted], fileOf, { ...o, flip, cacheRoot: layout.cache });

    const modelName = reportModelName(o.model, flip, ffhq);
    const results: BenchmarkResult[] = [];
    for (const plan of plans) {
      const pairsName = path.basename(plan.list.file, path.extname(plan.list.file));
      const dir = o.out ? (plans.length > 1 ? path.join(path.resolve(o.out), pairsName) : path.resolve(o.out)) : path.join(layout.reports, modelName, pairsName);
      const { report, rows } = await scoreFile(plan, embedded, embedder, { flip, imagesDir, records });
      await writeReportFiles(dir, report, rows);
      results.push({ dir, report });
    }
    return results;
  } finally {
    await embedder.close();
  }
}

/** What the CLI prints for one result. */
export function formatBenchmarkResult(r: BenchmarkResult): string {
  return formatReportSummary(r.report, r.dir);
}

async function defaultPairFiles(dir: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const files = names.filter((n) => n.endsWith('.txt')).sort().map((n) => path.join(dir, n));
  if (!files.length) throw new UsageError(`no pair files in ${dir} (run ecaf pairs first, or name one with --pairs)`);
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

/** The image name's record: data.json ids are file stems. */
const recordOf = (records: Map<string, EcafRecord>, name: string): EcafRecord | undefined => records.get(path.basename(name, path.extname(name)));

/** `reports/<this>/`: the model file's stem, marked when flip is off or FFHQ crops are scored, so settings do not overwrite each other. */
export function reportModelName(model: string, flip: boolean, ffhq: boolean): string {
  const stem = model === 'builtin' ? 'builtin' : path.basename(model, path.extname(model));
  return `${stem}${flip ? '' : '-noflip'}${ffhq ? '-ffhq' : ''}`;
}

interface FilePlan {
  list: PairList;
  identification?: { probes: string[]; gallery: string[]; childMaxAge: number; adultMinAge: number };
}

/** Read the sidecar: the children protocol also gets identification, with the sidecar's age bounds. */
async function planFile(list: PairList, records: Map<string, EcafRecord>): Promise<FilePlan> {
  let sidecar: { protocol?: unknown; parameters?: { childMaxAge?: unknown; adultMinAge?: unknown } } = {};
  try {
    sidecar = JSON.parse(await fs.readFile(sidecarPath(list.file), 'utf8')) as typeof sidecar;
  } catch {
    // no sidecar (or not ours): a plain verification list
  }
  if (sidecar.protocol !== 'children') return { list };
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
  const opts = { childMaxAge: num(sidecar.parameters?.childMaxAge, DEFAULT_CHILD_MAX_AGE), adultMinAge: num(sidecar.parameters?.adultMinAge, DEFAULT_ADULT_MIN_AGE) };
  const probes: string[] = [];
  const gallery: string[] = [];
  for (const r of records.values()) {
    const c = ageClass(r, opts);
    if (c === 'child') probes.push(`${r.id}.jpg`);
    else if (c === 'adult') gallery.push(`${r.id}.jpg`);
  }
  return { list, identification: { probes, gallery, ...opts } };
}

interface Embedded {
  /** Unit embedding of every image found; the rest are missing. */
  vectors: Map<string, Float32Array>;
  embedded: number;
  fromCache: number;
  seconds: number;
  /** Of `seconds`, the time spent waiting for the model. */
  modelSeconds: number;
}

/**
 * Unit embeddings of `names` (relative to the images folder): cached ones read back, the rest
 * decoded and preprocessed once, run in batches (the next batch decodes while the model
 * runs), combined with their mirror images, and cached as they finish.
 */
async function embedImages(
  embedder: Embedder,
  names: string[],
  fileOf: (name: string) => string,
  o: { flip: boolean; batch?: number; progress?: boolean; signal?: AbortSignal; cacheRoot: string },
): Promise<Embedded> {
  const pre = embedder.preprocessing;
  const cache = await EmbeddingCache.open(o.cacheRoot, { weightsKey: embedder.info.weightsKey, precision: embedder.info.precision, preprocessing: pre, flip: o.flip, flipRule: embedder.info.flipRule, dim: embedder.dim });
  const vectors = new Map<string, Float32Array>();
  const todo: { name: string; key: string }[] = [];
  // keyed by the path under the root, so MTCNN and FFHQ crops of one id never share an entry
  const keys = await Promise.all(names.map((n) => imageKey(fileOf(n), path.relative(path.dirname(o.cacheRoot), fileOf(n)))));
  names.forEach((name, i) => {
    const key = keys[i];
    if (key === undefined) return; // missing: the pairs using it are skipped and counted
    const hit = cache.get(key);
    if (hit) vectors.set(name, hit);
    else todo.push({ name, key });
  });
  const fromCache = vectors.size;
  const batch = o.batch ?? DEFAULT_BATCH;
  const per = tensorLength(pre);
  const views = o.flip ? 2 : 1;
  const limit = pLimit(DECODE_CONCURRENCY);
  const progress = o.progress === false || todo.length === 0 ? undefined : new Progress({ label: `embed ${embedder.info.model}`, total: todo.length, unit: 'img' });

  const prepare = async (items: typeof todo) => {
    const n = items.length;
    const input = new Float32Array(views * n * per);
    await Promise.all(
      items.map((it, k) =>
        limit(async () => {
          let img;
          try {
            img = await loadFace(fileOf(it.name), pre.size);
          } catch (err) {
            throw new UsageError(`${fileOf(it.name)}: cannot decode this aligned image (${(err as Error).message}); re-align it or remove it`);
          }
          writeTensor(img, pre, input, k * per, false);
          if (views === 2) writeTensor(img, pre, input, (n + k) * per, true);
        }),
      ),
    );
    return { items, input };
  };

  const start = performance.now();
  let pendingKeys: string[] = [];
  let pendingRows: Float32Array[] = [];
  const flush = async () => {
    const data = new Float32Array(pendingRows.length * embedder.dim);
    pendingRows.forEach((r, i) => data.set(r, i * embedder.dim));
    await cache.add(pendingKeys, data);
    pendingKeys = [];
    pendingRows = [];
  };
  let interrupted = false;
  let modelMs = 0;
  // a batch decodes while the previous one runs: its failure is handled when it is awaited
  const prepareAhead = (items: typeof todo) => {
    const p = prepare(items);
    p.catch(() => undefined);
    return p;
  };
  try {
    let next = todo.length ? prepareAhead(todo.slice(0, batch)) : undefined;
    for (let i = 0; next; i += batch) {
      const { items, input } = await next;
      const j = i + batch;
      next = j < todo.length && !o.signal?.aborted ? prepareAhead(todo.slice(j, j + batch)) : undefined;
      const t0 = performance.now();
      const raw = await embedder.embed(input, views * items.length);
      modelMs += performance.now() - t0;
      const unit = combineViews(raw, items.length, embedder.dim, o.flip, embedder.info.flipRule);
      items.forEach((it, k) => {
        const v = unit.subarray(k * embedder.dim, (k + 1) * embedder.dim);
        vectors.set(it.name, v);
        pendingKeys.push(it.key);
        pendingRows.push(v);
      });
      progress?.tick(items.length);
      if (pendingKeys.length >= CACHE_FLUSH_IMAGES) await flush();
      if (o.signal?.aborted && next === undefined && j < todo.length) {
        interrupted = true;
        break;
      }
    }
  } finally {
    progress?.finish();
    await flush();
  }
  if (interrupted) throw new InterruptedError(`interrupted after ${vectors.size - fromCache} of ${todo.length} images; their embeddings are cached, rerun to go on`);
  return { vectors, embedded: todo.length, fromCache, seconds: (performance.now() - start) / 1000, modelSeconds: modelMs / 1000 };
}

function dot(a: Float32Array, b: Float32Array): { cos: number; dist: number } {
  let c = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    c += a[i]! * b[i]!;
    const t = a[i]! - b[i]!;
    d += t * t;
  }
  return { cos: c, dist: d };
}

async function scoreFile(
  plan: FilePlan,
  e: Embedded,
  embedder: Embedder,
  o: { flip: boolean; imagesDir: string; records: Map<string, EcafRecord> },
): Promise<{ report: BenchmarkReport; rows: ScoreRow[] }> {
  const { list } = plan;
  const rows: ScoreRow[] = [];
  const dist: number[] = [];
  const cos: number[] = [];
  const same: number[] = [];
  const fold: number[] = [];
  const gap: number[] = [];
  const missing = new Set<string>();
  let skipped = 0;
  list.pairs.forEach((p, index) => {
    const a = e.vectors.get(p.a);
    const b = e.vectors.get(p.b);
    if (!a || !b) {
      skipped++;
      if (!a) missing.add(p.a);
      if (!b) missing.add(p.b);
      return;
    }
    const s = dot(a, b);
    rows.push({ index, fold: p.fold, same: p.same, cosine: s.cos, a: p.a, b: p.b });
    dist.push(s.dist);
    cos.push(s.cos);
    same.push(p.same ? 1 : 0);
    fold.push(p.fold);
    const ageA = recordOf(o.records, p.a)?.age;
    const ageB = recordOf(o.records, p.b)?.age;
    gap.push(ageA !== undefined && ageB !== undefined ? Math.abs(ageA - ageB) : Number.NaN);
  });
  if (rows.length === 0) {
    throw new UsageError(`${list.file}: none of its ${list.pairs.length} pairs has both images under ${o.imagesDir} (first missing: ${[...missing][0] ?? '?'}); run ecaf align, or pick --images`);
  }
  const sp: ScoredPairs = { dist: Float64Array.from(dist), same: Uint8Array.from(same), fold: Int32Array.from(fold), folds: list.folds };
  const acc = kFoldAccuracy(sp);
  const tars = tarAtFars(sp, FAR_TARGETS);
  const tar3 = tars.find((t) => t.farTarget === 1e-3)!;
  const roc = rocCurve(Float64Array.from(cos), sp.same);
  const positives = same.reduce((s, v) => s + v, 0);
  const gaps = Float64Array.from(gap);
  const anyAge = gap.some((g) => !Number.isNaN(g));

  let identification: BenchmarkReport['identification'] = null;
  if (plan.identification) {
    const { probes, gallery, childMaxAge, adultMinAge } = plan.identification;
    const stack = (names: string[]) => {
      const have = names.filter((n) => e.vectors.has(n));
      const m = new Float32Array(have.length * embedder.dim);
      have.forEach((n, i) => m.set(e.vectors.get(n)!, i * embedder.dim));
      return { m, ids: have.map((n) => recordOf(o.records, n)!.identity) };
    };
    const pr = stack(probes);
    const ga = stack(gallery);
    identification = { ...closedSetIdentification(pr.m, pr.ids, ga.m, ga.ids, embedder.dim), childMaxAge, adultMinAge };
  }

  const info = embedder.info;
  const report: BenchmarkReport = {
    tool: 'ecaf',
    version: VERSION,
    date: new Date().toISOString(),
    model: { kind: info.kind, model: info.model, device: info.device, details: info.details, dim: embedder.dim, weightsSha256: info.weightsKey.replace(/^builtin:/, '') },
    preprocessing: embedder.preprocessing,
    flip: { enabled: o.flip, rule: o.flip ? info.flipRule : null },
    images: { folder: o.imagesDir },
    pairs: {
      file: list.file,
      sha256: await fileSha256(list.file),
      format: list.format,
      folds: list.folds,
      total: list.pairs.length,
      scored: rows.length,
      positives,
      negatives: rows.length - positives,
      skippedMissingImages: skipped,
      missingImages: missing.size,
    },
    speed: { embedded: e.embedded, fromCache: e.fromCache, seconds: e.seconds, modelSeconds: e.modelSeconds, imagesPerSecond: e.embedded > 0 ? e.embedded / e.seconds : null },
    accuracy: {
      mean: acc.mean,
      std: acc.std,
      folds: acc.foldAccuracy.map((a, f) => ({ fold: f, accuracy: a, threshold: acc.foldThreshold[f]!, cosineThreshold: 1 - acc.foldThreshold[f]! / 2 })),
    },
    tarAtFar: tars.map((t) => ({ farTarget: t.farTarget, tar: t.tar, tarStd: t.tarStd, far: t.far, foldThresholds: t.foldThreshold })),
    roc: { auc: rocAuc(roc), eer: equalErrorRate(roc), ...rocForPlot(roc, rows.length - positives) },
    ageGap: anyAge ? ageGapResults(sp, gaps, acc.foldThreshold, tar3.foldThreshold) : null,
    identification,
  };
  return { report, rows };
}
