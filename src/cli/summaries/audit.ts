import type { AuditRun } from '../../audit/index.js';

/** What `ecaf audit` prints: the images, each kind of finding counted, and where the report is. */
export function formatAuditRun(r: AuditRun, only?: 'embed' | 'search'): string {
  const o = r.outcomes;
  const lines = [`audit: ${o.embedded} images embedded, ${o.cached} from the cache${o.missing ? `, ${o.missing} missing` : ''}${o.dropped ? `, ${o.dropped} left` : ''} in ${r.seconds.toFixed(1)} s`];
  if (r.interrupted) lines.push('  interrupted: the embeddings done are cached; run the same ecaf audit command to go on');
  else if (only === 'embed') lines.push('  embed-only: a plain ecaf audit run (every shard done) writes the findings from the cache');
  else if (only === 'search') lines.push(`  search-only: this shard's neighbours in ${r.neighbours}; a plain ecaf audit run merges every shard's and writes the findings`);
  else if (r.report) {
    const d = r.report.duplicates;
    const exact = d.filter((g) => g.kind === 'exact');
    const near = d.filter((g) => g.kind === 'near');
    const across = d.filter((g) => g.identities.length > 1).length;
    lines.push(`  duplicates: ${exact.length} exact groups, ${near.length} near groups (${across} spanning identities)`);
    lines.push(`  identity outliers (likely mislabelled): ${r.report.outliers.length}`);
    lines.push(`  records the image no longer matches: ${r.report.inconsistent.length}`);
    for (const p of r.report.pairFiles) lines.push(`  ${p.file}: ${p.flagged} of ${p.pairs} pairs touch a finding${p.accuracy ? `; accuracy ${(100 * p.accuracy.all).toFixed(2)}%, ${p.accuracy.clean === null ? 'no pair left without them' : `${(100 * p.accuracy.clean).toFixed(2)}% without them`}` : ''}`);
    lines.push(`  report: ${r.dir}/audit.md${r.sheet ? `, faces: ${r.sheet}` : ''}; ecaf pairs --exclude audit leaves the flagged images out`);
  }
  return `${lines.join('\n')}\n`;
}
