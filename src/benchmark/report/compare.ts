import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout } from '../../dataset/layout.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { InputError, UsageError } from '../../util/errors.js';
import type { BenchmarkReport } from './markdown.js';
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
  const lines = [
    '# ECAF benchmark reports',
    '',
    `![ROC curves](${path.relative(base, rocFile)})`,
    '',
    "Accuracy: insightface k-fold protocol (mean ± std over the report's folds, column folds; n/a with fewer than 2); TAR at FAR 1e-4/1e-3/1e-2: insightface calculate_val (n/m: the training folds have too few negatives to measure that FAR); AUC and EER on the pooled ROC; rank-1/rank-5: missing-children identification. All values in %, AUC included. images/s: the run that computed the embeddings.",
    '',
    '| report | model | pairs | device | flip | folds | pairs scored | accuracy | TAR@1e-4 | TAR@1e-3 | TAR@1e-2 | AUC | EER | rank-1 | rank-5 | images/s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { file, label, report: r } of reports) {
    lines.push(
      [
        `[${label}](${path.relative(base, path.join(path.dirname(file), 'report.md'))})`,
        r.model.model,
        path.basename(r.pairs.file),
        r.model.device,
        r.flip.enabled ? r.flip.rule : 'off',
        String(r.pairs.folds),
        `${r.pairs.scored}/${r.pairs.total}`,
        accuracyCell(r),
        tarCell(r, 1e-4),
        tarCell(r, 1e-3),
        tarCell(r, 1e-2),
        pct(r.roc.auc),
        pct(r.roc.eer),
        pct(r.identification?.rank1),
        pct(r.identification?.rank5),
        throughputCell(r),
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

/** Accuracy as mean ± std in %, or n/a when the report has fewer than 2 folds (no held-out threshold). */
function accuracyCell(r: BenchmarkReport): string {
  return r.pairs.folds < 2 || !Number.isFinite(r.accuracy.mean) ? 'n/a' : `${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}`;
}

/** TAR at one FAR target in %, n/m where the training folds cannot measure that FAR (reports before that field: as given). */
function tarCell(r: BenchmarkReport, far: number): string {
  const t = r.tarAtFar.find((x) => x.farTarget === far);
  if (!t) return '';
  return t.measurable === false ? 'n/m' : pct(t.tar);
}

/** Images/s of this run, else of the run that computed the cached embeddings, else "cached". */
function throughputCell(r: BenchmarkReport): string {
  if (r.speed.imagesPerSecond !== null) return r.speed.imagesPerSecond.toFixed(1);
  const first = r.speed.computedBy?.imagesPerSecond;
  return first !== undefined && first !== null ? `${first.toFixed(1)} (earlier run)` : 'cached';
}

/** `ecaf report`: write the comparison of every report under `<root>/reports/` (default `reports/comparison.md`; the ROC plot, comparison.csv and comparison.tex beside it, named after it); returns the markdown's path. */
export async function writeComparison(root: string, out?: string): Promise<string> {
  const reports = await readReports(root);
  if (!reports.length) throw new InputError({ file: datasetLayout(root).reports, expected: 'benchmark reports (<model>/<pairs>/report.json)', found: 'none' }, ['run:benchmark']);
  const md = out ? path.resolve(out) : path.join(datasetLayout(root).reports, 'comparison.md');
  const roc = path.join(path.dirname(md), `${path.basename(md, path.extname(md))}-roc.svg`);
  await writeFileAtomic(roc, rocSvg(reports.map(({ label, report: r }) => ({ label, far: r.roc.far, tar: r.roc.tar })), 'ROC of every report'));
  const stem = path.join(path.dirname(md), path.basename(md, path.extname(md)));
  const table = paperTable(reports);
  await writeFileAtomic(`${stem}.csv`, comparisonCsv(table));
  await writeFileAtomic(`${stem}.tex`, comparisonTex(table));
  await writeFileAtomic(md, comparisonMarkdown(reports, roc, path.dirname(md)));
  return md;
}

/** The paper's table: one row per model folder, one column per pair set, accuracy ± std (%) in each cell. */
export interface PaperTable {
  models: string[];
  sets: string[];
  /** cells[model][set]: undefined where that model was not run on that set; mean/std NaN where accuracy is not defined. */
  cells: { mean: number; std: number; folds: number }[][];
}

export function paperTable(reports: readonly ReportEntry[]): PaperTable {
  const split = (label: string) => {
    const k = label.lastIndexOf('/');
    return { model: label.slice(0, k), set: label.slice(k + 1) };
  };
  const models = [...new Set(reports.map((e) => split(e.label).model))].sort();
  const sets = [...new Set(reports.map((e) => split(e.label).set))].sort();
  const cells = models.map(() => new Array<PaperTable['cells'][number][number]>(sets.length));
  for (const e of reports) {
    const { model, set } = split(e.label);
    const defined = e.report.pairs.folds >= 2 && Number.isFinite(e.report.accuracy.mean);
    cells[models.indexOf(model)]![sets.indexOf(set)] = {
      mean: defined ? e.report.accuracy.mean : Number.NaN,
      std: defined ? e.report.accuracy.std : Number.NaN,
      folds: e.report.pairs.folds,
    };
  }
  return { models, sets, cells };
}

/** Per column, the best mean as shown (2 decimals of %); ties are all best. */
function bestOfColumns(t: PaperTable): string[] {
  return t.sets.map((_, j) => {
    const shown = t.models.map((_, i) => t.cells[i]![j]).filter((c) => c && Number.isFinite(c.mean)).map((c) => pct(c!.mean));
    return shown.length ? shown.reduce((a, b) => (Number(b) > Number(a) ? b : a)) : '';
  });
}

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** comparison.csv: model, then per pair set its accuracy and std in % and its fold count (empty where not run or not defined). */
export function comparisonCsv(t: PaperTable): string {
  const head = ['model', ...t.sets.flatMap((s) => [`${s} accuracy %`, `${s} std %`, `${s} folds`])];
  const rows = t.models.map((m, i) => [m, ...t.sets.flatMap((_, j) => {
    const c = t.cells[i]![j];
    return c ? [pct(c.mean), pct(c.std), String(c.folds)] : ['', '', ''];
  })]);
  return [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

const tex = (s: string): string => s.replace(/[\\{}$&#^_%~]/g, (c) => (c === '\\' ? '\\textbackslash{}' : c === '~' ? '\\textasciitilde{}' : c === '^' ? '\\textasciicircum{}' : `\\${c}`));

/** The fold counts for a caption: one number when every report agrees, else per pair set. */
function foldsCaption(t: PaperTable): string {
  const per = t.sets.map((s, j) => ({ s, f: [...new Set(t.cells.map((row) => row[j]?.folds).filter((f): f is number => f !== undefined))] }));
  const all = [...new Set(per.flatMap((p) => p.f))];
  if (all.length === 1) return `${all[0]} folds`;
  return `folds: ${per.map((p) => `${p.s} ${p.f.join('/')}`).join(', ')}`;
}

/** comparison.tex: a booktabs table (models as rows, pair sets as columns, accuracy ± std in %, the best of each column bold). */
export function comparisonTex(t: PaperTable): string {
  const best = bestOfColumns(t);
  const lines = [
    '% written by ecaf report; needs \\usepackage{booktabs}',
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{Verification accuracy (\\%, mean $\\pm$ std over folds) by the insightface protocol (${tex(foldsCaption(t))}). Best of each column in bold.}`,
    '\\label{tab:ecaf-verification}',
    `\\begin{tabular}{l${'c'.repeat(t.sets.length)}}`,
    '\\toprule',
    `Model & ${t.sets.map(tex).join(' & ')} \\\\`,
    '\\midrule',
    ...t.models.map((m, i) => {
      const cells = t.sets.map((_, j) => {
        const c = t.cells[i]![j];
        if (!c) return '--';
        if (!Number.isFinite(c.mean)) return 'n/a';
        const v = `${pct(c.mean)} $\\pm$ ${pct(c.std)}`;
        return pct(c.mean) === best[j] ? `\\textbf{${v}}` : v;
      });
      return `${tex(m)} & ${cells.join(' & ')} \\\\`;
    }),
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
  ];
  return lines.join('\n') + '\n';
}
