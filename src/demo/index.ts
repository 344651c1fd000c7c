import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { align, type AlignSummary } from '../align/index.js';
import { runBenchmark, type BenchmarkResult } from '../benchmark/index.js';
import { crawl, type CrawlResult } from '../crawl/index.js';
import { datasetLayout } from '../dataset/layout.js';
import { makePairs, type PairsOptions, type PairsResult } from '../pairs/index.js';
import { drawContactSheet, type ContactSheetResult } from '../sheet/index.js';
import { runSynthesis, type SynthesisRun } from '../synthesis/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError, InterruptedError } from '../util/errors.js';
import { buildDemoSite, type DemoRecord } from './dataset.js';
import { cachedDemoFaces, DEMO_PHOTOS } from './faces.js';
import { writeDemoIndex } from './report-index.js';
import { startDemoServer } from './server.js';

export { buildDemoSite, cropAround, identityName, type DemoSite, type DemoRecord } from './dataset.js';
export { findDemoFaces, cachedDemoFaces, DEMO_PHOTOS, type DemoFace } from './faces.js';
export { demoNotice, MEANINGLESS } from './notice.js';
export { startDemoServer, type DemoServer, type DemoRoute } from './server.js';

export const DEFAULT_DEMO_OUT = 'ecaf-demo';
/** Faces the demo renders: 6 x 7 groups take about 3 minutes on 2 CPU cores (BENCHMARKS.md). */
export const DEMO_SYNTHESIS_FACES = 6;

/** Pair parameters that fit 22 identities of 3 adult pictures and 1 "child" picture each. */
export const DEMO_PAIRS: readonly Omit<PairsOptions, 'root'>[] = [
  { protocol: 'cross-age', folds: 4, perFold: 12, minAgeGap: 0, allowFewer: true },
  { protocol: 'children', folds: 4, perFold: 6, allowFewer: true },
];

export interface DemoOptions {
  /** The dataset root the demo builds (default ./ecaf-demo). */
  out?: string;
  /** Align worker threads (default: align's default, the number of cores). */
  workers?: number;
  signal?: AbortSignal;
  /** Progress lines of the stages on stderr (default: stderr is a TTY). */
  progress?: boolean;
  /** An MTLFace checkpoint with its synthesis parts: the demo ends with its synthesis sheet of the demo faces. */
  model?: string;
  /** Told each step as it starts and ends, for a narrator (src/cli/summaries/demo.ts words them). */
  on?: (event: DemoEvent) => void;
}

export interface DemoResult {
  root: string;
  dataJson: string;
  identities: number;
  records: number;
  crawl: CrawlResult;
  align: AlignSummary;
  pairs: PairsResult[];
  benchmark: BenchmarkResult[];
  sheet: ContactSheetResult;
  /** With `model`: its face age synthesis of the demo faces. */
  synthesis?: SynthesisRun;
  /** reports/index.md */
  index: string;
  seconds: number;
}

/** What the demo is doing, in order: a start, the faces, data.json, then each stage's start and result, then done. */
export type DemoEvent =
  | { kind: 'start'; root: string }
  /** `reusedFrom`: the file of the last run's faces, when they were reused rather than searched again. */
  | { kind: 'faces'; faces: number; photos: number; seconds: number; reusedFrom?: string }
  /** `previousPort`: the port of the last run's URLs, when there was one. */
  | { kind: 'data'; records: number; file: string; url: string; port: number; previousPort?: number }
  | { kind: 'stage'; stage: 'crawl' | 'align' | 'pairs' | 'benchmark' | 'synthesize'; identities: number }
  | { kind: 'crawled'; result: CrawlResult }
  | { kind: 'aligned'; result: AlignSummary }
  | { kind: 'paired'; result: PairsResult }
  /** A line the benchmark logs while it runs. */
  | { kind: 'benchmark-log'; line: string }
  | { kind: 'scored'; results: BenchmarkResult[] }
  | { kind: 'synthesized'; run: SynthesisRun }
  | { kind: 'done'; result: DemoResult };

/**
 * `ecaf demo`: serve the face-api sample photos (and pictures cut from them) on 127.0.0.1,
 * write a data.json pointing at them, then run crawl, align, pairs and benchmark (builtin
 * model) through the same functions as the commands, draw the contact sheet and write
 * reports/index.md. A rerun into the same folder resumes every stage.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const on = options.on ?? (() => {});
  const layout = datasetLayout(options.out ?? DEFAULT_DEMO_OUT);
  const root = layout.root;
  const signal = options.signal;
  const progress = options.progress;
  const stop = (after: string) => {
    if (signal?.aborted) throw new InterruptedError(`demo interrupted after ${after}: what was done is saved`);
  };
  const previousPort = await demoPortOf(layout.dataJson);

  on({ kind: 'start', root });
  const t = Date.now();
  const facesFile = path.join(layout.cache, 'demo-faces.json');
  const { faces, reused } = await cachedDemoFaces(facesFile);
  const identities = faces.length;
  on({ kind: 'faces', faces: identities, photos: DEMO_PHOTOS.length, seconds: (Date.now() - t) / 1000, ...(reused ? { reusedFrom: facesFile } : {}) });

  const site = await buildDemoSite(faces, DEMO_PHOTOS);
  const server = await startDemoServer(site.routes, previousPort);
  try {
    const records = site.records(server.url);
    await writeFileAtomic(layout.dataJson, JSON.stringify(records, null, 2) + '\n');
    on({ kind: 'data', records: records.length, file: layout.dataJson, url: server.url, port: server.port, ...(previousPort === undefined ? {} : { previousPort }) });

    on({ kind: 'stage', stage: 'crawl', identities });
    const crawled = await crawl({ root, allowPrivate: true, retries: 1, backoffMs: 100, progress, signal });
    on({ kind: 'crawled', result: crawled });
    stop('crawl');

    on({ kind: 'stage', stage: 'align', identities });
    const aligned = await align({ root, workers: options.workers, ffhqFast: true, progress, signal });
    on({ kind: 'aligned', result: aligned });
    stop('align');

    on({ kind: 'stage', stage: 'pairs', identities });
    const pairs: PairsResult[] = [];
    for (const p of DEMO_PAIRS) {
      const made = await makePairs({ root, ...p });
      pairs.push(made);
      on({ kind: 'paired', result: made });
    }

    on({ kind: 'stage', stage: 'benchmark', identities });
    const { results } = await runBenchmark({ root, model: 'builtin', pairs: pairs.map((p) => p.file), progress, signal, log: (line) => on({ kind: 'benchmark-log', line }) });
    on({ kind: 'scored', results });
    stop('benchmark');

    let synthesis: SynthesisRun | undefined;
    if (options.model) {
      on({ kind: 'stage', stage: 'synthesize', identities });
      synthesis = await runSynthesis({ root, model: options.model, limit: DEMO_SYNTHESIS_FACES, progress, signal, log: (line) => on({ kind: 'benchmark-log', line }) });
      on({ kind: 'synthesized', run: synthesis });
      stop('synthesize');
    }

    // 93 cells take about a second: no progress lines
    const sheet = await drawContactSheet({ root, progress: false, signal });
    const index = await writeDemoIndex({ root, identities, photos: DEMO_PHOTOS.length, records: records.length, sheet: sheet.file });
    const result: DemoResult = { root, dataJson: layout.dataJson, identities, records: records.length, crawl: crawled, align: aligned, pairs, benchmark: results, sheet, ...(synthesis ? { synthesis } : {}), index, seconds: (Date.now() - started) / 1000 };
    on({ kind: 'done', result });
    return result;
  } finally {
    await server.close();
  }
}

/**
 * The port of the last demo's URLs, so a rerun serves the same URLs and crawl's resume holds;
 * refuses a folder whose data.json the demo did not write (it would be overwritten).
 */
async function demoPortOf(dataJson: string): Promise<number | undefined> {
  if (!existsSync(dataJson)) return undefined;
  let records: DemoRecord[];
  try {
    records = JSON.parse(await fs.readFile(dataJson, 'utf8')) as DemoRecord[];
  } catch {
    records = [];
  }
  const first = Array.isArray(records) ? records[0] : undefined;
  if (!first || typeof first.demo !== 'object' || typeof first.image_url !== 'string') {
    throw new InputError({ file: dataJson, expected: 'a data.json of the demo (every demo run overwrites it)', found: 'records the demo did not write' }, ['out']);
  }
  const port = Number(new URL(first.image_url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}
