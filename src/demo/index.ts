import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { align, formatAlignSummary, type AlignSummary } from '../align/index.js';
import { formatBenchmarkResult, runBenchmark, type BenchmarkResult } from '../benchmark/index.js';
import { crawl, formatCrawlSummary, type CrawlResult } from '../crawl/index.js';
import { datasetLayout } from '../dataset/layout.js';
import { formatPairsSummary, makePairs, type PairsOptions, type PairsResult } from '../pairs/index.js';
import { drawContactSheet, type ContactSheetResult } from '../sheet/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { InputError, InterruptedError } from '../util/errors.js';
import { formatDuration } from '../util/progress.js';
import { buildDemoSite, type DemoRecord } from './dataset.js';
import { cachedDemoFaces, DEMO_PHOTOS } from './faces.js';
import { demoNotice, MEANINGLESS } from './notice.js';
import { writeDemoIndex } from './report-index.js';
import { startDemoServer } from './server.js';

export { buildDemoSite, cropAround, identityName, type DemoSite, type DemoRecord } from './dataset.js';
export { findDemoFaces, cachedDemoFaces, DEMO_PHOTOS, type DemoFace } from './faces.js';
export { startDemoServer, type DemoServer, type DemoRoute } from './server.js';

export const DEFAULT_DEMO_OUT = 'ecaf-demo';

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
  /** Where the demo's narration goes (default: stdout). */
  log?: (text: string) => void;
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
  /** reports/index.md */
  index: string;
  seconds: number;
}

/**
 * `ecaf demo`: serve the face-api sample photos (and pictures cut from them) on 127.0.0.1,
 * write a data.json pointing at them, then run crawl, align, pairs and benchmark (builtin
 * model) through the same functions as the commands, draw the contact sheet and write
 * reports/index.md. A rerun into the same folder resumes every stage.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const log = options.log ?? ((text: string) => process.stdout.write(`${text}\n`));
  const layout = datasetLayout(options.out ?? DEFAULT_DEMO_OUT);
  const root = layout.root;
  const signal = options.signal;
  const progress = options.progress;
  const stop = (after: string) => {
    if (signal?.aborted) throw new InterruptedError(`demo interrupted after ${after}: what was done is saved; rerun the same command to go on`);
  };
  const previousPort = await demoPortOf(layout.dataJson);

  log(`ecaf demo: the whole pipeline, offline, on the photos that ship with face-api, in ${root}`);
  const t = Date.now();
  const facesFile = path.join(layout.cache, 'demo-faces.json');
  const { faces, reused } = await cachedDemoFaces(facesFile);
  log(
    reused
      ? `\n[1/6] faces: the ${faces.length} faces of the ${DEMO_PHOTOS.length} sample photos found by the last run (${shown(facesFile)})`
      : `\n[1/6] faces: ${faces.length} found in the ${DEMO_PHOTOS.length} sample photos by face-api (SSD MobileNet v1, age and gender net) in ${seconds(t)}`,
  );
  log(['', 'What the demo data is (read this before any number):', ...demoNotice(faces.length, DEMO_PHOTOS.length).map((l) => `  ${l}`)].join('\n'));

  const site = await buildDemoSite(faces, DEMO_PHOTOS);
  const server = await startDemoServer(site.routes, previousPort);
  try {
    const records = site.records(server.url);
    await writeFileAtomic(layout.dataJson, JSON.stringify(records, null, 2) + '\n');
    const address = previousPort === undefined ? '' : server.port === previousPort ? ' (same address as the last run: finished stages are reused)' : ` (port ${previousPort} is taken: new URLs, so crawl fetches again)`;
    log(`\n[2/6] data.json: ${records.length} records -> ${shown(layout.dataJson)}, served by ${server.url}${address}`);

    log('\n[3/6] crawl (private addresses allowed: the demo server is on 127.0.0.1, which crawl refuses by default)');
    const crawled = await crawl({ root, allowPrivate: true, retries: 1, backoffMs: 100, progress, signal });
    log(indent(formatCrawlSummary(crawled)));
    stop('crawl');

    log("\n[4/6] align (fast FFHQ: one sample per output pixel instead of the procedure's up to 4x4; ecaf align keeps the procedure by default)");
    const aligned = await align({ root, workers: options.workers, ffhqFast: true, progress, signal });
    log(indent(formatAlignSummary(aligned)));
    stop('align');

    log(`\n[5/6] pairs (parameters for a ${faces.length}-identity toy: 4 folds, fewer pairs than asked allowed)`);
    const pairs: PairsResult[] = [];
    for (const p of DEMO_PAIRS) {
      const made = await makePairs({ root, ...p });
      pairs.push(made);
      log(indent(formatPairsSummary(made).trimEnd()));
    }

    log('\n[6/6] benchmark (builtin model: face-api recognition net)');
    const { results } = await runBenchmark({ root, model: 'builtin', pairs: pairs.map((p) => p.file), progress, signal, log: (line) => log(`  ${line}`) });
    for (const r of results) log(indent(formatBenchmarkResult(r)));
    stop('benchmark');

    // 93 cells take about a second: no progress lines
    const sheet = await drawContactSheet({ root, progress: false, signal });
    const index = await writeDemoIndex({ root, identities: faces.length, photos: DEMO_PHOTOS.length, records: records.length, sheet: sheet.file });
    const total = (Date.now() - started) / 1000;
    log(
      [
        '',
        `Done in ${formatDuration(total)}. Where everything is:`,
        `  start here            ${shown(index)}`,
        `  contact sheet         ${shown(sheet.file)} (${sheet.width}x${sheet.height})`,
        `  records               ${shown(layout.dataJson)}`,
        `  downloads, crawl log  ${shown(layout.raw)}/, ${shown(layout.crawlLog)}`,
        `  aligned faces         ${shown(layout.ffhq)}/, ${shown(layout.mtcnn)}/, ${shown(layout.landmarksLog)}`,
        `  pair files            ${pairs.map((p) => shown(p.file)).join(', ')} (+ .json sidecars)`,
        `  reports               ${results.map((r) => shown(r.dir)).join(', ')}`,
        '',
        MEANINGLESS,
      ].join('\n'),
    );
    return { root, dataJson: layout.dataJson, identities: faces.length, records: records.length, crawl: crawled, align: aligned, pairs, benchmark: results, sheet, index, seconds: total };
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
    throw new InputError({ file: dataJson, expected: 'a data.json written by the demo (the demo overwrites it)', found: 'records of another origin' }, ['out']);
  }
  const port = Number(new URL(first.image_url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
/** A path as the user can type it from where they ran the demo. */
const shown = (file: string) => {
  const r = path.relative(process.cwd(), file);
  return r === '' ? '.' : r.startsWith('..') ? file : r;
};
const indent = (text: string) => text.replace(/^/gm, '  ');
