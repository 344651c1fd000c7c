/** What `ecaf pairs` prints when done, and `ecaf pairs check`'s report. */
import { ONE_FOLD_WARNING, type PairCheckReport, type PairFileFormat, type PairsResult } from '../../pairs/index.js';

/** What `ecaf pairs` prints when done. */
export function formatPairsSummary(r: PairsResult): string {
  const m = r.meta;
  if (r.interrupted || !m) return `pairs interrupted: ${r.file} not written; rerun the same command\n`;
  const lines = [
    `wrote ${r.file}: ${r.folds} folds x (${r.perFold} positive + ${r.perFold} negative) = ${r.pairs} pairs, ${m.identities} identities, ${m.images} images (${r.protocol}, seed ${m.seed})`,
    `sidecar: ${r.sidecar}`,
  ];
  if (r.fewer) lines.push(`fewer than asked: asked ${m.parameters.folds} folds x (${m.parameters.perFold} + ${m.parameters.perFold})`);
  if (r.folds < 2) lines.push(`warning: ${ONE_FOLD_WARNING}`);
  lines.push(`inputs: ${m.inputs.records} records, ${m.inputs.aligned} aligned, ${m.inputs.usableImages} usable images of ${m.inputs.usableIdentities} identities; read in ${r.loadSeconds.toFixed(2)} s, drawn in ${r.drawSeconds.toFixed(2)} s`);
  if (m.excluded) lines.push(`excluded: ${m.excluded.images} aligned images flagged by ${m.excluded.source} (${Object.entries(m.excluded.flagged).map(([k, n]) => `${n} ${k}`).join(', ')})`);
  return lines.join('\n') + '\n';
}

const FORMAT_NAMES: Record<PairFileFormat, string> = {
  ecaf: 'ecaf list',
  'lfw-view2': 'LFW View 2',
  'lfw-view1': 'LFW View 1',
  calfw: 'CALFW list',
  csv: 'CSV',
  'insightface-bin': 'insightface .bin set',
};

/** The report as text, one finding a line. */
export function formatPairCheck(r: PairCheckReport): string {
  const out: string[] = [];
  out.push(`${r.file}: ${FORMAT_NAMES[r.format]}, ${r.pairs} pairs (${r.positives} positive, ${r.negatives} negative) in ${r.folds} fold${r.folds === 1 ? '' : 's'}, ${r.images} images`);
  const uniform = r.balanced && r.perFold.length > 0;
  if (uniform) out.push(`folds: ${r.folds} x (${r.perFold[0]!.positives} positive + ${r.perFold[0]!.negatives} negative)`);
  if (!uniform || r.identitySource !== 'none') {
    out.push('fold  positive  negative' + (r.identitySource !== 'none' ? '  identities' : ''));
    for (const f of r.perFold) {
      out.push(`${String(f.fold + 1).padStart(4)}  ${String(f.positives).padStart(8)}  ${String(f.negatives).padStart(8)}` + (f.identities !== undefined ? `  ${String(f.identities).padStart(10)}` : ''));
    }
  }
  if (r.busiestImage) out.push(`busiest image: ${r.busiestImage.image} in ${r.busiestImage.pairs} pairs`);
  out.push(`duplicates: ${r.duplicates.count}`);
  for (const d of r.duplicates.examples) out.push(`  line ${d.line}: ${d.a} ${d.b} (first at line ${d.firstLine})`);
  out.push(`self-pairs: ${r.selfPairs.count}`);
  for (const s of r.selfPairs.examples) out.push(`  line ${s.line}: ${s.image}`);
  if (r.identitySource === 'none') out.push('identity overlap between folds: not checked (identities unknown)');
  else {
    out.push(`identity overlap between folds: ${r.overlaps.count} (identities from ${r.identitySource === 'file' ? 'the image names' : 'data.json'})`);
    for (const o of r.overlaps.examples) out.push(`  ${o.identity}: folds ${o.folds.map((f) => f + 1).join(', ')}`);
    out.push(`labels contradicting identities: ${r.labelConflicts.count}`);
    for (const c of r.labelConflicts.examples) out.push(`  line ${c.line}: ${c.a} ${c.b} labelled ${c.same ? 'same' : 'different'}`);
  }
  if (r.missing) {
    out.push(`missing images: ${r.missing.count} of ${r.missing.checked}`);
    for (const m of r.missing.examples) out.push(`  line ${m.line}: ${m.image}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  out.push(r.problems.length === 0 ? 'valid' : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}: ${r.problems.join('; ')}`);
  return out.join('\n') + '\n';
}
