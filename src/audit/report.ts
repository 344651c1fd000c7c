/** audit.json and audit.md: every finding with its evidence, sorted by confidence, and what each kind means (pure, then one writer). */
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { AuditFindings } from './findings.js';

export interface AuditReport extends AuditFindings {
  tool: 'ecaf';
  version: string;
  date: string;
  model: { name: string; file: string; dim: number; weightsSha256: string };
  images: { total: number; embedded: number; missing: number };
  /** The thresholds the findings were made with (docs/audit.md says how they were chosen). */
  thresholds: Record<string, number>;
}

const f2 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(2));
const MD_ROWS = 50;

function table(head: string[], rows: string[][], total: number): string[] {
  if (!rows.length) return ['None found.', ''];
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.slice(0, MD_ROWS).map((r) => `| ${r.join(' | ')} |`), ...(total > MD_ROWS ? [`(${total - MD_ROWS} more in audit.json)`] : []), ''];
}

export function auditMarkdown(r: AuditReport): string {
  return [
    `# Audit: ${r.model.name}`,
    '',
    `${r.images.total} aligned images, ${r.images.embedded} embedded, ${r.images.missing} missing; written by ecaf ${r.version} on ${r.date}. The contact sheet \`flagged.png\` shows the groups below. Each finding has a confidence (0..1); none is a verdict: look at the faces.`,
    '',
    '## Exact and near duplicates',
    'The same photo under several ids. An exact group (identical crawled bytes) spanning several identities is a placeholder ("image not available") or a re-used photo; a near group is the same photo re-encoded, resized or cropped (perceptual hash of the aligned face and embedding cosine both close). A genuine pair of one photo twice inflates accuracy.',
    '',
    ...table(['kind', 'ids', 'identities', 'cosine', 'hash bits', 'confidence'], r.duplicates.map((d) => [d.kind, d.ids.join(', '), d.identities.join(', '), f2(d.similarity), d.hashDistance === undefined ? '-' : String(d.hashDistance), f2(d.confidence)]), r.duplicates.length),
    '## Identity outliers (likely mislabelled)',
    "An image whose nearest images of another identity are closer than its own identity's: filed under the wrong person, or not a face of that person at all. Compared with the identity's images of nearby ages where there are enough ('nearby-ages'), since a child photo is far from the same person's adult photos by nature.",
    '',
    ...table(['id', 'identity', 'looks like', 'own', 'theirs', 'compared with', 'confidence'], r.outliers.map((o) => [o.id, o.identity, o.suspected ?? '-', f2(o.ownSimilarity), f2(o.suspectedSimilarity), o.comparedWith, f2(o.confidence)]), r.outliers.length),
    '## Records the image no longer matches',
    "Where data.json has Face++ attributes: the aligned face against the record's face rectangle (IoU) and gender. No face near the rectangle most likely means the link now serves another image.",
    '',
    ...table(['id', 'problem', 'IoU', 'detail', 'confidence'], r.inconsistent.map((i) => [i.id, i.problem, f2(i.iou), i.detail, f2(i.confidence)]), r.inconsistent.length),
    '## Pairs that touch a finding',
    '',
    ...table(['pair file', 'pairs', 'flagged', 'accuracy (all)', 'accuracy (without flagged)'], r.pairFiles.map((p) => [path.basename(p.file), String(p.pairs), String(p.flagged), p.accuracy ? f2(100 * p.accuracy.all) + '%' : 'no report', p.accuracy?.clean != null ? f2(100 * p.accuracy.clean) + '%' : '-']), r.pairFiles.length),
    ...table(['pair file', 'line', 'problem'], r.pairs.map((p) => [path.basename(p.file), String(p.line), p.problem]), r.pairs.length),
  ].join('\n');
}

export async function writeAuditReport(dir: string, r: AuditReport): Promise<void> {
  await writeFileAtomic(path.join(dir, 'audit.md'), `${auditMarkdown(r)}\n`);
  // written last: its presence means the folder is complete
  await writeFileAtomic(path.join(dir, 'audit.json'), `${JSON.stringify(r, null, 2)}\n`);
}
