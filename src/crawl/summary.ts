import type { StageResult, Tally } from '../stage.js';
import type { CrawlStatus } from './record.js';

/**
 * What became of one id in a run: fetched `ok`, `failed` or `skipped` (by a policy), an earlier
 * download verified (`already_ok`), an earlier failure or skip kept, or `dropped` in flight by an
 * interrupt (the next run does it).
 */
export type CrawlOutcomeCode = CrawlStatus | 'already_ok' | 'kept_failed' | 'kept_skipped' | 'dropped';
export const CRAWL_OUTCOMES: readonly CrawlOutcomeCode[] = ['ok', 'failed', 'skipped', 'already_ok', 'kept_failed', 'kept_skipped', 'dropped'];

/** What a crawl run did, and where the dataset stands after it. */
export interface CrawlSummary extends StageResult<CrawlOutcomeCode> {
  stage: 'crawl';
  dataFile: string;
  /** Valid records in data.json. */
  records: number;
  /** Invalid records left out (skipInvalid). */
  invalid: number;
  /** Ids requested in this run (retries count once). */
  attempted: number;
  /** Outcomes of this run's requests, by status. */
  byStatus: Record<CrawlStatus, number>;
  /** This run's failures and skips by error code (`timeout`, `http_404`, ...). */
  byError: Record<string, number>;
  /** Downloads of earlier runs whose file still matches its sha256: not requested again. */
  alreadyOk: number;
  /** Earlier downloads whose file was missing or altered, so fetched again. */
  refetched: number;
  /** Earlier failures left as they are (retryFailed retries them). */
  keptFailed: number;
  /** Earlier policy skips left as they are (blocked_address, robots_disallowed). */
  keptSkipped: number;
  /** ok / (ok + failed) over this run's requests; null when nothing was requested. */
  successRate: number | null;
  /** Ids with a verified image in raw/ after this run. */
  imagesInRaw: number;
  /** Bytes downloaded and stored in this run. */
  bytes: number;
  /** Images stored per second in this run. */
  imagesPerSecond: number;
}

/** The summary of a run from its tally (pure). */
export function summarizeCrawl(
  t: Tally<CrawlOutcomeCode>,
  data: { dataFile: string; records: number; invalid: number },
  interrupted: boolean,
  seconds: number,
): CrawlSummary {
  const c = t.counts;
  return {
    stage: 'crawl',
    interrupted,
    outcomes: { ...c },
    seconds,
    ...data,
    attempted: c.ok + c.failed + c.skipped,
    byStatus: { ok: c.ok, failed: c.failed, skipped: c.skipped },
    byError: { ...t.errors },
    alreadyOk: c.already_ok,
    refetched: t.redone,
    keptFailed: c.kept_failed,
    keptSkipped: c.kept_skipped,
    successRate: c.ok + c.failed > 0 ? c.ok / (c.ok + c.failed) : null,
    imagesInRaw: c.already_ok + c.ok,
    bytes: t.bytes,
    imagesPerSecond: seconds > 0 ? c.ok / seconds : 0,
  };
}
