/** `ecaf benchmark`: score a face model on the dataset root's pair files (plan -> embed -> report -> write). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { loadDataJson } from '../dataset/load.js';
import type { AlignedVariant } from '../dataset/names.js';
import type { EcafRecord } from '../dataset/record.js';
import { readPairFile, readPairSidecar } from '../pairs/read.js';
import { UsageError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { buildReport } from './build-report.js';
import { embedImages } from './embed-pipeline.js';
import { openEmbedder } from './embedders.js';
import { planBenchmark } from './plan.js';
import { formatReportSummary, type BenchmarkReport } from './report.js';
import { writeReportFiles } from './write-report.js';

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

/** Score `o.model` on each pair file: one result (and one report folder) per file. */
export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkResult[]> {
  const layout = datasetLayout(o.root);
  const variant: AlignedVariant = o.images === 'ffhq' ? 'ffhq' : 'mtcnn';
  const imagesDir = variant === 'ffhq' ? layout.ffhq : layout.mtcnn;
  const flip = o.flip ?? true;
  const pairFiles = o.pairs?.length ? o.pairs.map((f) => path.resolve(f)) : await defaultPairFiles(layout.pairs);
  const inputs = await Promise.all(pairFiles.map(async (f) => ({ list: await readPairFile(f, { folds: o.folds }), sidecar: await readPairSidecar(f) })));
  const records = await loadRecords(layout.dataJson);
  const plan = planBenchmark(inputs, records, { dir: imagesDir, variant });

  const log = o.log ?? ((l: string) => process.stderr.write(`ecaf: ${l}\n`));
  const embedder = await openEmbedder(o.model, { device: o.device, size: o.size, mean: o.mean, std: o.std, bgr: o.bgr, batch: o.batch, fp16: o.fp16, log });
  try {
    const embeddings = await embedImages(embedder, plan.images, { flip, batch: o.batch, progress: o.progress, signal: o.signal, cacheRoot: layout.cache });
    const modelName = reportModelName(o.model, flip, variant === 'ffhq');
    const results: BenchmarkResult[] = [];
    for (const file of plan.files) {
      const pairsName = path.basename(file.list.file, path.extname(file.list.file));
      const dir = o.out ? (plan.files.length > 1 ? path.join(path.resolve(o.out), pairsName) : path.resolve(o.out)) : path.join(layout.reports, modelName, pairsName);
      const date = new Date().toISOString();
      const { report, rows } = buildReport({ file, embeddings, records, model: embedder, flip, imagesDir, pairsSha256: await fileSha256(file.list.file), date });
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

/** `reports/<this>/`: the model file's stem, marked when flip is off or FFHQ crops are scored, so settings do not overwrite each other. */
export function reportModelName(model: string, flip: boolean, ffhq: boolean): string {
  const stem = model === 'builtin' ? 'builtin' : path.basename(model, path.extname(model));
  return `${stem}${flip ? '' : '-noflip'}${ffhq ? '-ffhq' : ''}`;
}
