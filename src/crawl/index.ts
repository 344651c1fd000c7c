import { setMaxListeners } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout, rawFile, type DatasetLayout } from '../dataset/layout.js';
import { streamTopLevel } from '../dataset/json-stream.js';
import { DataJsonError, validateDataJson, type DataJsonSummary } from '../dataset/load.js';
import { normalizeRecord } from '../dataset/normalize.js';
import type { EcafRecord } from '../dataset/record.js';
import { prepareLogFile, stageLogFiles } from '../distribute/logs.js';
import { inShard, type Shard } from '../distribute/shard.js';
import { cleanTempFiles } from '../util/atomic.js';
import { formatBytes, Progress } from '../util/progress.js';
import { createDispatcher, fetchWithRetries, type FetchOptions, type RetryOptions } from './fetch.js';
import { POLICY_ERRORS, type CrawlLine } from './record.js';
import { HostScheduler } from './scheduler.js';
import { checkImage } from './sniff.js';
import { existingFileSha256, readCrawlStates, resumeAction, type PriorState } from './state.js';
import { emptyCrawlSummary, finishCrawlSummary, type CrawlSummary } from './summary.js';
import { CrawlLog, removeStale, storeImage } from './writer.js';

export { formatCrawlSummary, type CrawlSummary } from './summary.js';
export type { CrawlLine, CrawlErrorCode, CrawlStatus } from './record.js';
export { readCrawlStates, CrawlStates, type PriorState } from './state.js';
export { checkImage, sniffFormat } from './sniff.js';
export { blockedAddressReason } from './address.js';

export const CRAWL_DEFAULTS = {
  concurrency: 64,
  perHost: 8,
  retries: 3,
  timeoutS: 30,
  maxBytes: 20 * 1024 * 1024,
  backoffMs: 1000,
} as const;

export interface CrawlOptions {
  /** Dataset root: reads image_data/data.json, writes image_data/raw/ and image_data/crawl.jsonl. */
  root: string;
  /** Another records file instead of <root>/image_data/data.json. */
  data?: string;
  /** Requests in flight at once (default 64). */
  concurrency?: number;
  /** Requests in flight per host (default 8). */
  perHost?: number;
  /** Retries of transient failures (default 3). */
  retries?: number;
  /** Whole-request deadline of one attempt, redirects included, in seconds (default 30). */
  timeoutS?: number;
  /** Largest body accepted, in bytes (default 20 MB). */
  maxBytes?: number;
  /** Crawl hosts that resolve to loopback, private, link-local or multicast addresses. */
  allowPrivate?: boolean;
  /** Request again the ids whose last state is `failed`. */
  retryFailed?: boolean;
  /** Download images whose response says X-Robots-Tag: noai / noimageai. */
  ignoreRobotsTag?: boolean;
  /** Go on with the valid records of a data.json that has invalid ones. */
  skipInvalid?: boolean;
  /** Abort (SIGINT): stop new requests, drop those in flight, flush crawl.jsonl. */
  signal?: AbortSignal;
  /** Progress on stderr (default: stderr is a TTY). */
  progress?: boolean;
  /** First retry backoff in ms, doubled each retry (default 1000). */
  backoffMs?: number;
  /** Crawl only this shard's ids, logging to its own file (docs/cluster.md). */
  shard?: Shard;
}

/** Where the invalid records of a --skip-invalid run are described (the CLI prints it). */
export interface CrawlResult extends CrawlSummary {
  validation: DataJsonSummary;
}

/**
 * Rebuild image_data/raw/ from data.json: a validating streaming pass, then a second streaming
 * pass feeding a bounded window of downloads. Memory: the window plus a small state per id
 * (the second pass keeps no set of ids: the packed resume states also catch duplicate ids).
 */
export async function crawl(options: CrawlOptions): Promise<CrawlResult> {
  const started = Date.now();
  const layout = datasetLayout(options.root);
  const dataFile = options.data ? path.resolve(options.data) : layout.dataJson;
  const concurrency = options.concurrency ?? CRAWL_DEFAULTS.concurrency;
  const perHost = options.perHost ?? CRAWL_DEFAULTS.perHost;
  const timeoutMs = (options.timeoutS ?? CRAWL_DEFAULTS.timeoutS) * 1000;
  const allowPrivate = options.allowPrivate ?? false;
  const ignoreRobotsTag = options.ignoreRobotsTag ?? false;
  const retryFailed = options.retryFailed ?? false;

  const validation = await validateDataJson(dataFile);
  if (validation.invalidCount > 0 && !options.skipInvalid) throw new DataJsonError(validation);

  await fs.mkdir(layout.raw, { recursive: true });
  // temp names are `<marker><id>.<ext>.<random>`: a shard sweeps only its own ids' leftovers
  await cleanTempFiles(layout.raw, (name) => inShard(name.slice(0, name.lastIndexOf('.')), options.shard));
  const states = await readCrawlStates(await stageLogFiles(layout, 'crawl'));
  const summary = emptyCrawlSummary(dataFile);
  summary.records = validation.valid;
  summary.invalid = validation.invalidCount;

  // each request and each backoff wait listens to the interrupt signal
  if (options.signal) setMaxListeners(2 * concurrency + 16, options.signal);
  const dispatcher = createDispatcher({ perHost, timeoutMs, allowPrivate });
  const log = await CrawlLog.open(await prepareLogFile(layout, 'crawl', options.shard));
  const scheduler = new HostScheduler(concurrency, perHost);
  const progress =
    (options.progress ?? Boolean(process.stderr.isTTY))
      ? new Progress({
          label: 'crawl',
          // a shard holds about 1/N of the records (counted exactly by the pass below)
          total: options.shard ? Math.ceil(validation.valid / options.shard.count) : validation.valid,
          unit: 'img',
          extra: () => `ok ${summary.alreadyOk + summary.byStatus.ok} failed ${summary.byStatus.failed} ${formatBytes(summary.bytes / Math.max(0.001, (Date.now() - started) / 1000))}/s`,
        })
      : undefined;
  const fetchOpts: FetchOptions & RetryOptions = {
    dispatcher,
    timeoutMs,
    maxBytes: options.maxBytes ?? CRAWL_DEFAULTS.maxBytes,
    allowPrivate,
    ignoreRobotsTag,
    signal: options.signal,
    retries: options.retries ?? CRAWL_DEFAULTS.retries,
    backoffMs: options.backoffMs ?? CRAWL_DEFAULTS.backoffMs,
  };
  const job: Job = { layout, log, summary, fetchOpts, progress };
  const window = Math.max(256, concurrency * 8);
  let shardRecords = 0;

  try {
    // validated above: this pass only normalizes, and uses the state Map to skip later duplicates
    for await (const entry of streamTopLevel(dataFile)) {
      if (options.signal?.aborted || scheduler.error) break;
      const normalized = normalizeRecord(entry.value, entry.index, entry.key);
      if (!normalized.ok || !inShard(normalized.record.id, options.shard) || !states.visit(normalized.record.id)) continue;
      shardRecords++;
      const record = normalized.record;
      const prior = states.get(record.id);
      const action = resumeAction(prior, record.imageUrl, { retryFailed, allowPrivate, ignoreRobotsTag });
      if (action === 'keep') {
        if (prior!.status === 'failed') summary.keptFailed++;
        else summary.keptSkipped++;
        progress?.tick();
        continue;
      }
      scheduler.push(new URL(record.imageUrl).host, () => crawlOne(job, record, prior, action));
      await scheduler.waitBelow(window);
    }
    await scheduler.waitBelow(1);
  } finally {
    progress?.finish();
    await log.close();
    await (options.signal?.aborted ? dispatcher.destroy() : dispatcher.close());
  }
  if (scheduler.error) throw scheduler.error;
  summary.interrupted = Boolean(options.signal?.aborted);
  if (options.shard && !summary.interrupted) summary.records = shardRecords;
  return { ...finishCrawlSummary(summary, (Date.now() - started) / 1000), validation };
}

interface Job {
  layout: DatasetLayout;
  log: CrawlLog;
  summary: CrawlSummary;
  fetchOpts: FetchOptions & RetryOptions;
  progress: Progress | undefined;
}

/** Verify or fetch one id, store its image, record its line. */
async function crawlOne(job: Job, record: EcafRecord, prior: PriorState | undefined, action: 'fetch' | 'verify'): Promise<void> {
  const { layout, summary } = job;
  if (job.fetchOpts.signal?.aborted) return;
  if (action === 'verify') {
    if ((await existingFileSha256(rawFile(layout, record.id, prior!.format!))) === prior!.sha256) {
      summary.alreadyOk++;
      job.progress?.tick();
      return;
    }
    summary.refetched++;
  }
  summary.attempted++;
  const r = await fetchWithRetries(record.imageUrl, job.fetchOpts);
  if (!r.ok && job.fetchOpts.signal?.aborted) {
    summary.attempted--; // dropped, not failed: the next run fetches it
    return;
  }
  // fields in the order of CONTRACT.md, so lines read alike
  const base = { id: record.id, url: record.imageUrl };
  const http = { ...(r.httpStatus !== undefined && { http_status: r.httpStatus }), ...(r.finalUrl !== record.imageUrl && { final_url: r.finalUrl }) };
  let failure = r.ok ? undefined : { code: r.error, detail: r.detail };
  let line: CrawlLine | undefined;
  if (r.ok) {
    const image = await checkImage(r.body);
    if (image.ok) {
      await storeImage(layout, record.id, image.format, r.body);
      summary.bytes += r.body.length;
      line = { ...base, status: 'ok', ...http, bytes: r.body.length, sha256: r.sha256, format: image.format, width: image.width, height: image.height, attempts: r.attempts, time: '' };
    } else failure = { code: image.error, detail: image.detail };
  }
  if (failure) {
    line = { ...base, status: POLICY_ERRORS.has(failure.code) ? 'skipped' : 'failed', error: failure.code, detail: failure.detail, ...http, attempts: r.attempts, time: '' };
    summary.byError[failure.code] = (summary.byError[failure.code] ?? 0) + 1;
  }
  if (!line) throw new Error(`internal: no crawl state for ${record.id}`);
  await removeStale(layout, record.id, prior?.format, line.format);
  line.time = new Date().toISOString();
  job.log.add(line);
  summary.byStatus[line.status]++;
  job.progress?.tick();
}
