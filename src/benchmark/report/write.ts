import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import type { AgeSample } from '../../age/metrics.js';
import { writeAgeFiles } from '../../age/report.js';
import { reportMarkdown, scoresCsv, type BenchmarkReport, type ScoreRow } from './markdown.js';
import { scoreHistogramSvg } from './histogram-svg.js';
import { rocSvg } from './roc-svg.js';

/** Short label of a report in its plot's title. */
const reportLabel = (r: BenchmarkReport): string => `${r.model.model} / ${path.basename(r.pairs.file)}`;

/** Write report.json, report.md, scores.csv, roc.svg and scores.svg (and, with estimates, ages.csv and ages.svg) into `dir`, each atomically. */
export async function writeReportFiles(dir: string, r: BenchmarkReport, rows: readonly ScoreRow[], ages: readonly AgeSample[] = []): Promise<void> {
  await writeFileAtomic(path.join(dir, 'scores.csv'), scoresCsv(rows));
  if (r.age) await writeAgeFiles(dir, r.age, ages, `Age: ${reportLabel(r)}`);
  await writeFileAtomic(path.join(dir, 'roc.svg'), rocSvg([{ label: r.model.model, far: r.roc.far, tar: r.roc.tar, marks: r.roc.marks }], `ROC: ${reportLabel(r)}`));
  await writeFileAtomic(path.join(dir, 'scores.svg'), scoresSvg(r, rows));
  await writeFileAtomic(path.join(dir, 'report.md'), reportMarkdown(r));
  // report.json last: its presence means the folder is complete
  await writeFileAtomic(path.join(dir, 'report.json'), JSON.stringify(r, null, 2) + '\n');
}

/** Genuine and impostor cosine histograms with the protocol threshold (mean over folds) marked. */
function scoresSvg(r: BenchmarkReport, rows: readonly ScoreRow[]): string {
  const marks = r.accuracy.undefinedReason ? [] : [{ label: 'protocol threshold (mean of folds)', cosine: r.accuracy.folds.reduce((s, f) => s + f.cosineThreshold, 0) / r.accuracy.folds.length }];
  return scoreHistogramSvg(Float64Array.from(rows, (x) => x.cosine), Uint8Array.from(rows, (x) => (x.same ? 1 : 0)), `Scores: ${reportLabel(r)}`, marks);
}
