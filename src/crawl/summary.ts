import { formatBytes, formatDuration } from '../util/progress.js';
import type { CrawlStatus } from './record.js';

/** What a crawl run did, and where the dataset stands after it. */
export interface CrawlSummary {
  dataFile: string;
  /** Valid records in data.json. */
  records: number;
  /** Records left out by --skip-invalid. */
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
  /** Earlier failures left as they are (--retry-failed retries them). */
  keptFailed: number;
  /** Earlier policy skips left as they are (blocked_address, robots_disallowed). */
  keptSkipped: number;
  /** ok / (ok + failed) over this run's requests; null when nothing was requested. */
  successRate: number | null;
  /** Ids with a verified image in raw/ after this run. */
  imagesInRaw: number;
  /** Bytes downloaded and stored in this run. */
  bytes: number;
  seconds: number;
  /** Images stored per second in this run. */
  imagesPerSecond: number;
  /** Stopped by SIGINT: what was in flight was dropped and will be fetched by the next run. */
  interrupted: boolean;
}

export function emptyCrawlSummary(dataFile: string): CrawlSummary {
  return {
    dataFile,
    records: 0,
    invalid: 0,
    attempted: 0,
    byStatus: { ok: 0, failed: 0, skipped: 0 },
    byError: {},
    alreadyOk: 0,
    refetched: 0,
    keptFailed: 0,
    keptSkipped: 0,
    successRate: null,
    imagesInRaw: 0,
    bytes: 0,
    seconds: 0,
    imagesPerSecond: 0,
    interrupted: false,
  };
}

/** Fill the derived fields once the run is over. */
export function finishCrawlSummary(s: CrawlSummary, seconds: number): CrawlSummary {
  const { ok, failed } = s.byStatus;
  s.seconds = seconds;
  s.successRate = ok + failed > 0 ? ok / (ok + failed) : null;
  s.imagesInRaw = s.alreadyOk + ok;
  s.imagesPerSecond = seconds > 0 ? ok / seconds : 0;
  return s;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The end-of-run report printed by `ecaf crawl`. */
export function formatCrawlSummary(s: CrawlSummary): string {
  const lines = [
    `${s.interrupted ? 'crawl interrupted' : 'crawl done'}: ${s.records} records in ${s.dataFile}${s.invalid ? ` (${s.invalid} invalid left out)` : ''}`,
    `  this run: ${s.attempted} requested: ${s.byStatus.ok} ok, ${s.byStatus.failed} failed, ${s.byStatus.skipped} skipped` +
      (s.successRate === null ? '' : ` (success rate ${pct(s.successRate)})`),
  ];
  const codes = Object.entries(s.byError).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (codes.length > 0) lines.push(`  errors: ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  const resumed = [
    s.alreadyOk && `${s.alreadyOk} already downloaded (sha256 checked)`,
    s.refetched && `${s.refetched} fetched again (file missing or altered)`,
    s.keptFailed && `${s.keptFailed} earlier failures kept (--retry-failed retries them)`,
    s.keptSkipped && `${s.keptSkipped} earlier skips kept`,
  ].filter(Boolean);
  if (resumed.length > 0) lines.push(`  from earlier runs: ${resumed.join(', ')}`);
  lines.push(
    `  ${formatBytes(s.bytes)} in ${formatDuration(s.seconds)} (${s.imagesPerSecond.toFixed(1)} img/s, ${formatBytes(s.seconds > 0 ? s.bytes / s.seconds : 0)}/s)`,
    `  raw/ now holds ${s.imagesInRaw} of ${s.records} images (${pct(s.records ? s.imagesInRaw / s.records : 0)})`,
  );
  if (s.interrupted) lines.push('  rerun the same command to go on where it stopped');
  return lines.join('\n');
}
