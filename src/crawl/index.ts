import { setMaxListeners } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout, rawFile, type DatasetLayout } from '../dataset/layout.js';
import { streamTopLevel, type TopLevelEntry } from '../dataset/json-stream.js';
import { DataJsonError, validateDataJson, type DataJsonSummary } from '../dataset/load.js';
import { normalizeRecord } from '../dataset/normalize.js';
import type { EcafRecord } from '../dataset/record.js';
import { prepareLogFile, stageLogFiles } from '../distribute/logs.js';
import { inShard, type Shard } from '../distribute/shard.js';
import { runStage, type Stage, type StageOutcome, type StageRunContext, type StageTask } from '../stage.js';
import { cleanTempFiles } from '../util/atomic.js';
import { checkInt, checkNumber } from '../util/errors.js';
import { formatBytes, Progress } from '../util/progress.js';
import { createDispatcher, fetchWithRetries, type FetchOptions, type RetryOptions } from './fetch.js';
import { POLICY_ERRORS, type CrawlLine } from './record.js';
import { HostScheduler } from './scheduler.js';
import { checkImage } from './sniff.js';
import { existingFileSha256, readCrawlStates, resumeAction, type CrawlStates, type PriorState, type ResumePolicy } from './state.js';
import { CRAWL_OUTCOMES, summarizeCrawl, type CrawlOutcomeCode, type CrawlSummary } from './summary.js';
import { CrawlLog, removeStale, storeImage } from './writer.js';

export { CRAWL_OUTCOMES, type CrawlSummary, type CrawlOutcomeCode } from './summary.js';
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
  /** Stop (SIGINT, SIGTERM): no new requests, those in flight dropped, crawl.jsonl flushed. */
  signal?: AbortSignal;
  /** Progress on stderr (default: stderr is a TTY). */
  progress?: boolean;
  /** First retry backoff in ms, doubled each retry (default 1000). */
  backoffMs?: number;
  /** Crawl only this shard's ids, logging to its own file (docs/cluster.md). */
  shard?: Shard;
}

/** A crawl's result: the summary, and the invalid records a skipInvalid run left out (the CLI lists them). */
export interface CrawlResult extends CrawlSummary {
  validation: DataJsonSummary;
}

/** One id to crawl: `fetch` it, `verify` an earlier download, or `keep` an earlier failure or skip. */
export interface CrawlTask extends StageTask {
  record: EcafRecord;
  action: 'fetch' | 'verify' | 'keep';
  prior?: PriorState;
}

export type CrawlOutcome = StageOutcome<CrawlOutcomeCode>;

/** What crawl plans from: data.json's entries (streamed) and the last state of each id in crawl.jsonl. */
export interface CrawlInput {
  entries: AsyncIterable<TopLevelEntry>;
  states: CrawlStates;
}

/** Policy fields of the options, with their defaults. */
function crawlPolicy(options: CrawlOptions): ResumePolicy {
  return { retryFailed: options.retryFailed ?? false, allowPrivate: options.allowPrivate ?? false, ignoreRobotsTag: options.ignoreRobotsTag ?? false };
}

/** Limits of the options, checked once, here. */
function checkCrawlOptions(options: CrawlOptions): void {
  checkInt('concurrency', options.concurrency ?? CRAWL_DEFAULTS.concurrency, 1, 4096);
  checkInt('perHost', options.perHost ?? CRAWL_DEFAULTS.perHost, 1, 4096);
  checkInt('retries', options.retries ?? CRAWL_DEFAULTS.retries, 0, 20);
  checkNumber('timeoutS', options.timeoutS ?? CRAWL_DEFAULTS.timeoutS, 0.1);
  checkInt('maxBytes', options.maxBytes ?? CRAWL_DEFAULTS.maxBytes, 1);
  checkNumber('backoffMs', options.backoffMs ?? CRAWL_DEFAULTS.backoffMs, 0);
}

/**
 * Crawl as a stage (src/stage.ts). `plan` turns each valid record of data.json into a task by
 * its last crawl.jsonl state (duplicate ids are dropped: the packed states double as the
 * check); `run` fetches with a bounded window, per-host limits, and appends crawl.jsonl lines.
 */
export function crawlStage(options: CrawlOptions, validation: DataJsonSummary): Stage<CrawlInput, CrawlTask, CrawlOutcomeCode, CrawlOutcome, CrawlSummary> {
  checkCrawlOptions(options);
  const policy = crawlPolicy(options);
  return {
    name: 'crawl',
    codes: CRAWL_OUTCOMES,
    async *plan({ entries, states }) {
      for await (const entry of entries) {
        const normalized = normalizeRecord(entry.value, entry.index, entry.key);
        if (!normalized.ok || !states.visit(normalized.record.id)) continue;
        const record = normalized.record;
        const prior = states.get(record.id);
        yield { id: record.id, record, prior, action: resumeAction(prior, record.imageUrl, policy) };
      }
    },
    run: (tasks, context) => runCrawl(options, tasks, context),
    summarize: (tally, interrupted, seconds) => summarizeCrawl(tally, { dataFile: validation.file, records: validation.valid, invalid: validation.invalidCount }, interrupted, seconds),
  };
}

/**
 * Rebuild image_data/raw/ from data.json: a validating streaming pass, then a second streaming
 * pass feeding a bounded window of downloads. Memory: the window plus a small state per id
 * (the second pass keeps no set of ids: the packed resume states also catch duplicate ids).
 */
export async function crawl(options: CrawlOptions): Promise<CrawlResult> {
  const started = performance.now();
  checkCrawlOptions(options); // before data.json is read: a bad option is refused at once
  const layout = datasetLayout(options.root);
  const dataFile = options.data ? path.resolve(options.data) : layout.dataJson;
  const validation = await validateDataJson(dataFile);
  if (validation.invalidCount > 0 && !options.skipInvalid) throw new DataJsonError(validation);
  const stage = crawlStage(options, validation);
  const states = await readCrawlStates(await stageLogFiles(layout, 'crawl'));

  const live = { ok: 0, failed: 0, bytes: 0 };
  const progress =
    (options.progress ?? Boolean(process.stderr.isTTY))
      ? new Progress({
          label: 'crawl',
          // a shard holds about 1/N of the records
          total: options.shard ? Math.ceil(validation.valid / options.shard.count) : validation.valid,
          unit: 'img',
          extra: () => `ok ${live.ok} failed ${live.failed} ${formatBytes(live.bytes / Math.max(0.001, (performance.now() - started) / 1000))}/s`,
        })
      : undefined;
  let shardRecords = 0;
  const shard = options.shard;
  try {
    const summary = await runStage(stage, { entries: streamTopLevel(dataFile), states }, {
      signal: options.signal,
      progress,
      select: shard
        ? (t) => {
            const mine = inShard(t.id, shard);
            if (mine) shardRecords++;
            return mine;
          }
        : undefined,
      sink: (o) => {
        if (o.code === 'ok' || o.code === 'already_ok') live.ok++;
        else if (o.code === 'failed') live.failed++;
        live.bytes += o.bytes ?? 0;
      },
    });
    if (shard && !summary.interrupted) summary.records = shardRecords;
    return { ...summary, seconds: (performance.now() - started) / 1000, validation };
  } finally {
    progress?.finish();
  }
}

/** The I/O of a crawl: fetch, verify, store and log the tasks given, until they are done or the signal aborts. */
async function runCrawl(options: CrawlOptions, tasks: AsyncIterable<CrawlTask> | Iterable<CrawlTask>, context: StageRunContext<CrawlOutcome>): Promise<void> {
  const layout = datasetLayout(options.root);
  const concurrency = options.concurrency ?? CRAWL_DEFAULTS.concurrency;
  const perHost = options.perHost ?? CRAWL_DEFAULTS.perHost;
  const timeoutMs = (options.timeoutS ?? CRAWL_DEFAULTS.timeoutS) * 1000;
  const { signal } = context;
  const policy = crawlPolicy(options);

  await fs.mkdir(layout.raw, { recursive: true });
  // temp names are `<marker><id>.<ext>.<random>`: a shard sweeps only its own ids' leftovers
  await cleanTempFiles(layout.raw, (name) => inShard(name.slice(0, name.lastIndexOf('.')), options.shard));
  // each request and each backoff wait listens to the interrupt signal
  if (signal) setMaxListeners(2 * concurrency + 16, signal);
  const dispatcher = createDispatcher({ perHost, timeoutMs, allowPrivate: policy.allowPrivate });
  const log = await CrawlLog.open(await prepareLogFile(layout, 'crawl', options.shard));
  const scheduler = new HostScheduler(concurrency, perHost);
  const fetchOpts: FetchOptions & RetryOptions = {
    dispatcher,
    timeoutMs,
    maxBytes: options.maxBytes ?? CRAWL_DEFAULTS.maxBytes,
    allowPrivate: policy.allowPrivate,
    ignoreRobotsTag: policy.ignoreRobotsTag,
    signal,
    retries: options.retries ?? CRAWL_DEFAULTS.retries,
    backoffMs: options.backoffMs ?? CRAWL_DEFAULTS.backoffMs,
  };
  const done = (o: CrawlOutcome) => {
    context.sink(o);
    if (o.code !== 'dropped') context.progress?.tick();
  };
  const job: Job = { layout, log, fetchOpts, done };
  const window = Math.max(256, concurrency * 8);

  try {
    for await (const task of tasks) {
      if (signal?.aborted || scheduler.error) break;
      if (task.action === 'keep') {
        done({ id: task.id, code: task.prior!.status === 'failed' ? 'kept_failed' : 'kept_skipped' });
        continue;
      }
      scheduler.push(new URL(task.record.imageUrl).host, () => crawlOne(job, task));
      await scheduler.waitBelow(window);
    }
    await scheduler.waitBelow(1);
  } finally {
    await log.close();
    await (signal?.aborted ? dispatcher.destroy() : dispatcher.close());
  }
  if (scheduler.error) throw scheduler.error;
}

interface Job {
  layout: DatasetLayout;
  log: CrawlLog;
  fetchOpts: FetchOptions & RetryOptions;
  done: (outcome: CrawlOutcome) => void;
}

/** Verify or fetch one id, store its image, record its line. */
async function crawlOne(job: Job, task: CrawlTask): Promise<void> {
  const { layout } = job;
  const { record, prior } = task;
  if (job.fetchOpts.signal?.aborted) return job.done({ id: record.id, code: 'dropped' });
  const redone = task.action === 'verify';
  if (redone && (await existingFileSha256(rawFile(layout, record.id, prior!.format!))) === prior!.sha256) {
    return job.done({ id: record.id, code: 'already_ok' });
  }
  const r = await fetchWithRetries(record.imageUrl, job.fetchOpts);
  // dropped, not failed: the next run fetches it
  if (!r.ok && job.fetchOpts.signal?.aborted) return job.done({ id: record.id, code: 'dropped' });
  // fields in the order of docs/formats.md, so lines read alike
  const base = { id: record.id, url: record.imageUrl };
  const http = { ...(r.httpStatus !== undefined && { http_status: r.httpStatus }), ...(r.finalUrl !== record.imageUrl && { final_url: r.finalUrl }) };
  let failure = r.ok ? undefined : { code: r.error, detail: r.detail };
  let line: CrawlLine | undefined;
  if (r.ok) {
    const image = await checkImage(r.body);
    if (image.ok) {
      await storeImage(layout, record.id, image.format, r.body);
      line = { ...base, status: 'ok', ...http, bytes: r.body.length, sha256: r.sha256, format: image.format, width: image.width, height: image.height, attempts: r.attempts, time: '' };
    } else failure = { code: image.error, detail: image.detail };
  }
  if (failure) {
    line = { ...base, status: POLICY_ERRORS.has(failure.code) ? 'skipped' : 'failed', error: failure.code, detail: failure.detail, ...http, attempts: r.attempts, time: '' };
  }
  if (!line) throw new Error(`internal: no crawl state for ${record.id}`);
  await removeStale(layout, record.id, prior?.format, line.format);
  line.time = new Date().toISOString();
  job.log.add(line);
  job.done({ id: record.id, code: line.status, error: line.error, bytes: line.bytes, redone });
}
