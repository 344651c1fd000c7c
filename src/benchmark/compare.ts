import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { writeFileAtomic } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';
import type { BenchmarkReport } from './report.js';
import { rocSvg } from './roc-svg.js';

const pct = (v: number | undefined | null): string => (v !== undefined && v !== null && Number.isFinite(v) ? (100 * v).toFixed(2) : '');

/** One report found: its file, its folder under reports/ as label (`<model>/<pairs>`), its content. */
export interface ReportEntry {
  file: string;
  label: string;
  report: BenchmarkReport;
}

/** Every `reports/<model>/<pairs>/report.json` under the root, sorted by pair file then model. */
export async function readReports(root: string): Promise<ReportEntry[]> {
  const dir = datasetLayout(root).reports;
  const found: ReportEntry[] = [];
  let models: string[] = [];
  try {
    models = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const m of models.sort()) {
    let subs: string[];
    try {
      subs = await fs.readdir(path.join(dir, m));
    } catch {
      continue; // a file, not a model folder
    }
    for (const s of subs.sort()) {
      const file = path.join(dir, m, s, 'report.json');
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch {
        continue;
      }
      try {
        found.push({ file, label: `${m}/${s}`, report: JSON.parse(text) as BenchmarkReport });
      } catch (err) {
        throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
      }
    }
  }
  return found.sort((a, b) => path.basename(a.report.pairs.file).localeCompare(path.basename(b.report.pairs.file)) || a.file.localeCompare(b.file));
}

/** The side-by-side markdown of several reports: one verification table, one age-gap table, one ROC plot. */
export function comparisonMarkdown(reports: readonly ReportEntry[], rocFile: string, base: string): string {
  const tarOf = (r: BenchmarkReport, far: number) => r.tarAtFar.find((t) => t.farTarget === far)?.tar;
  const lines = [
    '# ECAF benchmark reports',
    '',
    `![ROC curves](${path.relative(base, rocFile)})`,
    '',
    'Accuracy: insightface 10-fold (mean ± std); TAR at FAR 1e-4/1e-3/1e-2: insightface calculate_val; AUC and EER on the pooled ROC; rank-1/rank-5: missing-children identification. Values in %.',
    '',
    '| report | model | pairs | device | flip | pairs scored | accuracy | TAR@1e-4 | TAR@1e-3 | TAR@1e-2 | AUC | EER | rank-1 | rank-5 | images/s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { file, label, report: r } of reports) {
    lines.push(
      [
        `[${label}](${path.relative(base, path.join(path.dirname(file), 'report.md'))})`,
        r.model.model,
        path.basename(r.pairs.file),
        r.model.device,
        r.flip.enabled ? r.flip.rule : 'off',
        `${r.pairs.scored}/${r.pairs.total}`,
        `${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}`,
        pct(tarOf(r, 1e-4)),
        pct(tarOf(r, 1e-3)),
        pct(tarOf(r, 1e-2)),
        (100 * r.roc.auc).toFixed(2),
        pct(r.roc.eer),
        pct(r.identification?.rank1),
        pct(r.identification?.rank5),
        r.speed.imagesPerSecond === null ? 'cached' : r.speed.imagesPerSecond.toFixed(1),
      ].join(' | ').replace(/^/, '| ') + ' |',
    );
  }
  const withGaps = reports.filter((r) => r.report.ageGap);
  if (withGaps.length) {
    const bins = withGaps[0]!.report.ageGap!.map((g) => g.bin);
    lines.push('', '## Accuracy per age gap (years; pairs in the bin in brackets)', '', `| report | ${bins.join(' | ')} |`, `|---|${bins.map(() => '---').join('|')}|`);
    for (const { label, report: r } of withGaps) lines.push(`| ${label} | ${r.ageGap!.map((g) => (g.pairs ? `${pct(g.accuracy)} (${g.pairs})` : '')).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** `ecaf report`: write the comparison of every report under `<root>/reports/` (default `reports/comparison.md`, ROC beside it); returns the markdown's path. */
export async function writeComparison(root: string, out?: string): Promise<string> {
  const reports = await readReports(root);
  if (!reports.length) throw new UsageError(`no reports under ${datasetLayout(root).reports} (run ecaf benchmark first)`);
  const md = out ? path.resolve(out) : path.join(datasetLayout(root).reports, 'comparison.md');
  const roc = path.join(path.dirname(md), `${path.basename(md, path.extname(md))}-roc.svg`);
  await writeFileAtomic(roc, rocSvg(reports.map(({ label, report: r }) => ({ label, far: r.roc.far, tar: r.roc.tar })), 'ROC of every report'));
  await writeFileAtomic(md, comparisonMarkdown(reports, roc, path.dirname(md)));
  return md;
}
