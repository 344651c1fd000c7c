/** What `ecaf benchmark` prints: a few lines per report, leave-one-out's line, and what an interrupt left. */
import path from 'node:path';
import type { AgeReport } from '../../age/report.js';
import type { BenchmarkReport, BenchmarkResult, BenchmarkRun, LooReport } from '../../benchmark/index.js';
import { smallestFarText } from '../../benchmark/report/markdown.js';

const pct = (v: number, digits = 2): string => (Number.isFinite(v) ? `${(100 * v).toFixed(digits)}%` : 'n/a');
const years = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** The few lines printed per pair file. */
function formatReportSummary(r: BenchmarkReport, dir: string): string {
  const tar = r.tarAtFar.find((t) => t.farTarget === 1e-3);
  const parts = [
    `${path.basename(r.pairs.file)}: accuracy ${r.accuracy.undefinedReason ? 'not defined' : `${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}`}`,
    tar ? (tar.measurable === false ? `TAR@FAR=1e-3 not measurable (${smallestFarText(tar.smallestMeasurableFar!, 1)})` : `TAR@FAR=1e-3 ${pct(tar.tar)}`) : '',
    `AUC ${pct(r.roc.auc)}`,
    `EER ${pct(r.roc.eer)}`,
    r.identification ? `rank-1 ${pct(r.identification.rank1)} rank-5 ${pct(r.identification.rank5)}` : '',
  ].filter(Boolean);
  const skipped = r.pairs.skippedMissingImages ? `\n  ${r.pairs.skippedMissingImages} of ${r.pairs.total} pairs skipped: ${r.pairs.missingImages} images missing under ${r.images.folder}` : '';
  const ageLine = r.age ? ageSummary(r.age) : '';
  const age = ageLine ? `\n  ${ageLine}` : '';
  return `${parts.join(', ')} (${r.pairs.scored} pairs)${skipped}${summaryNotes(r)}${age}\n  -> ${dir}`;
}

/** The warnings the console adds under the numbers. */
function summaryNotes(r: BenchmarkReport): string {
  const notes: string[] = [];
  if (r.accuracy.undefinedReason) notes.push(`accuracy not defined: ${r.accuracy.undefinedReason}`);
  if (r.accuracy.grid?.coarser) notes.push(`the protocol's threshold grid (step ${r.accuracy.grid.step}) is coarser than the gap between genuine and impostor scores: accuracy < 100% with EER 0${r.accuracy.grid.fineGrid ? ` (fine grid, an extra: ${pct(r.accuracy.grid.fineGrid.mean)})` : ''}`);
  return notes.map((n) => `\n  note: ${n}`).join('');
}

/** One line under the numbers: the estimates' MAE and the probes' ratio and accuracy (percentages to 0.1, as in the report's age section). */
function ageSummary(r: AgeReport): string {
  const e = r.estimation;
  const a = r.probe.age;
  const g = r.probe.gender;
  return [
    e && e.heads.age ? `age MAE ${years(e.mae)} (CS@5 ${pct(e.cs5, 1)})` : '',
    e && e.heads.gender ? `gender ${pct(e.genderAccuracy, 1)}` : '',
    'skipped' in a ? '' : `age probe ratio ${a.ratio.toFixed(3)}`,
    'skipped' in g ? '' : `gender probe ${pct(g.accuracy, 1)} (majority ${pct(g.baselineAccuracy, 1)})`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** Leave-one-out identification's line. */
function formatLooSummary(r: LooReport, dir: string): string {
  const l = r.leaveOneOut;
  return `leave-one-out identification: rank-1 ${pct(l.rank1)}, rank-5 ${pct(l.rank5)} (${l.probes} probes of ${l.images} images, ${l.identities} people; ${r.seconds.toFixed(1)} s)\n  -> ${dir}`;
}

/** What the CLI prints for one pair file's result. */
export function formatBenchmarkResult(r: BenchmarkResult): string {
  return formatReportSummary(r.report, r.dir);
}

/** What `ecaf benchmark` prints when done: each report's summary, and what an interrupt left. */
export function formatBenchmarkRun(run: BenchmarkRun): string {
  const lines = run.results.map((r) => `${formatBenchmarkResult(r)}\n`);
  if (run.leaveOneOut) lines.push(`${formatLooSummary(run.leaveOneOut.report, run.leaveOneOut.dir)}\n`);
  if (run.interrupted) {
    const { embedded, dropped } = run.outcomes;
    const what = dropped > 0 ? `after ${embedded} of ${embedded + dropped} images; their embeddings are cached` : 'while scoring; the embeddings are cached';
    lines.push(`benchmark interrupted ${what}, rerun to go on (no ${run.results.length ? 'further ' : ''}report written)\n`);
  }
  return lines.join('');
}

/** What the CLI prints after an embed-only run. */
export function formatEmbedOnly(r: BenchmarkRun): string {
  const { embedded, cached, missing } = r.outcomes;
  return `embed-only${r.interrupted ? ' interrupted' : ''}: ${r.images} images: ${embedded} embedded now, ${cached} already cached, ${missing} missing on disk (${r.seconds.toFixed(1)} s); cache ${r.cacheDir}${r.interrupted ? '; rerun to go on' : ''}`;
}
