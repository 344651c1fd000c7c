import type { ContactSheetResult } from '../../sheet/index.js';

/** What `ecaf sheet` prints: where the sheet is, what it shows, and a hint when fonts are missing. */
export function formatSheetSummary(r: ContactSheetResult): string {
  const counts = Object.entries(r.counts)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const lines = [`contact sheet: ${r.file} (${r.width}x${r.height}, ${r.shown} ids: ${counts || 'none'})`];
  if (r.shown < r.total) lines.push(`  showing the first ${r.shown} of ${r.total} ids`);
  if (!r.labelsDrawn) lines.push('  no font found: the ids are not written under the tiles (install one, e.g. apt-get install fonts-dejavu-core)');
  return lines.join('\n');
}
