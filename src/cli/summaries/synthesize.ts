import type { SynthesisRun } from '../../synthesis/index.js';

const f = (v: number | undefined | null, d = 1) => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));

/** What `ecaf synthesize` prints: the faces, where the folder is, and each judge's scores in a line per group. */
export function formatSynthesisRun(r: SynthesisRun): string {
  const o = r.outcomes;
  const lines = [`synthesize: ${o.rendered} faces rendered, ${o.kept} kept from an earlier run${o.missing ? `, ${o.missing} inputs unreadable` : ''}${o.dropped ? `, ${o.dropped} left` : ''} in ${f(r.seconds)} s`];
  if (r.interrupted) {
    lines.push(`  interrupted: the faces rendered are kept in ${r.dir}/faces; run the same ecaf synthesize command to go on`);
    return `${lines.join('\n')}\n`;
  }
  for (const j of r.report?.judges ?? []) {
    lines.push(`  judge ${j.model}${j.self ? ' (the model judging itself)' : ''}: group, rendered age, real age, cosine, verified`);
    for (const g of j.scores.groups) {
      lines.push(`    ${g.label.padEnd(6)} ${f(g.rendered?.mean).padStart(6)} ${f(g.real?.mean).padStart(6)} ${f(g.cosine?.mean, 3).padStart(7)} ${g.verificationRate === null ? '     -' : `${(100 * g.verificationRate).toFixed(1).padStart(5)}%`}`);
    }
    if (j.scores.smoothness) lines.push(`    older at every group: ${(100 * j.scores.smoothness.monotone).toFixed(1)}% of ${j.scores.smoothness.faces} faces (Spearman ${f(j.scores.smoothness.spearman, 3)})`);
  }
  lines.push(`  report: ${r.dir}/synthesis.md${r.sheet ? `, sheet: ${r.sheet}` : ''}`);
  return `${lines.join('\n')}\n`;
}
