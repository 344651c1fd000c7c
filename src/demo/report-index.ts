import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { BenchmarkReport } from '../benchmark/index.js';
import { datasetLayout } from '../dataset/layout.js';
import type { PairsSidecar } from '../pairs/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readStageStates } from '../distribute/logs.js';
import { VERSION } from '../version.js';
import { demoNotice, MEANINGLESS } from './notice.js';

/** What reports/index.md links to, read back from the files the stages wrote. */
export interface DemoIndexInput {
  root: string;
  identities: number;
  photos: number;
  /** Records in data.json. */
  records: number;
  /** The contact sheet PNG. */
  sheet: string;
}

interface StatusLine {
  id: string;
  status: string;
  error?: string;
}

/** "88 ok, 2 failed (http_404 1, not_image 1)": last states of a JSONL log by status, with error codes if asked. */
export function countStates(states: Iterable<StatusLine>, withErrors: boolean): string {
  const byStatus = new Map<string, { n: number; errors: Map<string, number> }>();
  for (const s of states) {
    const entry = byStatus.get(s.status) ?? { n: 0, errors: new Map<string, number>() };
    entry.n++;
    if (withErrors && s.error) entry.errors.set(s.error, (entry.errors.get(s.error) ?? 0) + 1);
    byStatus.set(s.status, entry);
  }
  return [...byStatus]
    .sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]))
    .map(([status, { n, errors }]) => {
      const codes = [...errors].sort((a, b) => a[0].localeCompare(b[0])).map(([c, k]) => `${c} ${k}`);
      return `${n} ${status}${codes.length ? ` (${codes.join(', ')})` : ''}`;
    })
    .join(', ');
}

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');

/**
 * reports/index.md: the page a person opens first. Every number in it is read back from the
 * files on disk (crawl.jsonl, landmarks.jsonl, the pair sidecars, each report.json), so the
 * page shows what is there, not what a run meant to write.
 */
export async function writeDemoIndex(input: DemoIndexInput): Promise<string> {
  const layout = datasetLayout(input.root);
  const file = path.join(layout.reports, 'index.md');
  const link = (target: string) => path.relative(layout.reports, target).split(path.sep).join('/');

  const crawled = await readStageStates<StatusLine>(layout, 'crawl');
  const aligned = await readStageStates<StatusLine>(layout, 'landmarks');
  const pairFiles = existsSync(layout.pairs) ? (await fs.readdir(layout.pairs)).filter((n) => n.endsWith('.txt')).sort() : [];
  const reports = await findReports(layout.reports);

  const lines = [
    '# ecaf demo',
    '',
    `Written by \`ecaf demo\` (ecaf ${VERSION}) on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `> **${MEANINGLESS}**`,
    '',
    '## What the data is',
    '',
    ...demoNotice(input.identities, input.photos),
    '',
    '## Stages',
    '',
    '| stage | files | result |',
    '|---|---|---|',
    `| records | [image_data/data.json](${link(layout.dataJson)}) | ${input.records} records |`,
    `| crawl | [image_data/crawl.jsonl](${link(layout.crawlLog)}), image_data/raw/ | ${countStates(crawled.values(), true)} |`,
    `| align | [image_data/landmarks.jsonl](${link(layout.landmarksLog)}), image_data/img_ffhq/, image_data/img_mtcnn/ | ${countStates(aligned.values(), false)} |`,
    '',
    '## Contact sheet',
    '',
    `Every id, FFHQ-aligned face left and 5-point (MTCNN) face right; red cells have no aligned face (their status under the id): [${path.basename(input.sheet)}](${link(input.sheet)}).`,
    '',
    `![contact sheet](${link(input.sheet)})`,
    '',
    '## Pair files',
    '',
    '| protocol | pair list | how it was made | pairs | folds |',
    '|---|---|---|---|---|',
  ];
  for (const name of pairFiles) {
    const list = path.join(layout.pairs, name);
    const sidecar = list.replace(/\.txt$/, '.json');
    const meta = existsSync(sidecar) ? (JSON.parse(await fs.readFile(sidecar, 'utf8')) as PairsSidecar) : undefined;
    lines.push(
      `| ${meta?.protocol ?? '?'} | [${name}](${link(list)}) | ${meta ? `[${path.basename(sidecar)}](${link(sidecar)})` : 'no sidecar'} | ${meta ? `${meta.pairs} (${meta.positives} positive, ${meta.negatives} negative)` : '?'} | ${meta ? `${meta.folds} x (${meta.perFold} + ${meta.perFold})` : '?'} |`,
    );
  }
  lines.push('', '## Benchmark reports', '', '| model | pairs | accuracy (mean ± std over folds) | TAR @ FAR 1e-3 | AUC | files |', '|---|---|---|---|---|---|');
  for (const { dir, report } of reports) {
    const tar = report.tarAtFar.find((t) => t.farTarget === 1e-3);
    const ages = report.age?.estimation ? ['ages.csv', ...(report.age.estimation.heads.age ? ['ages.svg'] : [])] : [];
    const files = ['report.md', 'report.json', 'roc.svg', 'scores.svg', 'scores.csv', ...ages].map((f) => `[${f}](${link(path.join(dir, f))})`).join(', ');
    lines.push(
      `| ${report.model.model} | ${path.basename(report.pairs.file)} | ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)} | ${!tar ? 'n/a' : tar.measurable === false ? 'not measurable' : pct(tar.tar)} | ${pct(report.roc.auc)} | ${files} |`,
    );
  }
  for (const { dir, report } of reports) {
    lines.push('', `![ROC of ${report.model.model} on ${path.basename(report.pairs.file)}](${link(path.join(dir, 'roc.svg'))})`);
  }
  lines.push('', `> ${MEANINGLESS}`, '');
  await writeFileAtomic(file, lines.join('\n'));
  return file;
}

/** Every complete report under reports/ (report.json is written last), sorted by folder. */
async function findReports(reportsDir: string): Promise<{ dir: string; report: BenchmarkReport }[]> {
  const found: { dir: string; report: BenchmarkReport }[] = [];
  if (!existsSync(reportsDir)) return found;
  for (const model of (await fs.readdir(reportsDir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    const modelDir = path.join(reportsDir, model.name);
    for (const pairs of (await fs.readdir(modelDir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
      const json = path.join(modelDir, pairs.name, 'report.json');
      if (existsSync(json)) found.push({ dir: path.dirname(json), report: JSON.parse(await fs.readFile(json, 'utf8')) as BenchmarkReport });
    }
  }
  return found.sort((a, b) => a.dir.localeCompare(b.dir));
}
