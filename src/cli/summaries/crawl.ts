/** What `ecaf crawl` prints when done: the run's counts, and how to go on after an interrupt. */
import type { CrawlSummary } from '../../crawl/index.js';
import { formatBytes, formatDuration } from '../../util/progress.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

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
    s.keptFailed && `${s.keptFailed} earlier failures kept`,
    s.keptSkipped && `${s.keptSkipped} earlier skips kept`,
  ].filter(Boolean);
  if (resumed.length > 0) lines.push(`  from earlier runs: ${resumed.join(', ')}`);
  lines.push(
    `  ${formatBytes(s.bytes)} in ${formatDuration(s.seconds)} (${s.imagesPerSecond.toFixed(1)} img/s, ${formatBytes(s.seconds > 0 ? s.bytes / s.seconds : 0)}/s)`,
    `  raw/ now holds ${s.imagesInRaw} of ${s.records} images (${pct(s.records ? s.imagesInRaw / s.records : 0)})`,
  );
  if (s.outcomes.dropped) lines.push(`  ${s.outcomes.dropped} in flight dropped: the next run fetches them`);
  if (s.interrupted) lines.push('  rerun the same command to go on where it stopped');
  return lines.join('\n');
}
