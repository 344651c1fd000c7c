/** The images an audit flagged, for `pairs` to leave out: reports/<model>/audit/audit.json found from the root. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { InputError } from '../util/errors.js';
import { flaggedIds } from './findings.js';
import type { AuditReport } from './report.js';

/** `model`: the report folder's name (reports/<model>/audit/); undefined takes the root's only audit. */
export async function readAuditExclusions(root: string, model?: string): Promise<{ source: string; ids: Map<string, string> }> {
  const reports = datasetLayout(root).reports;
  let file: string;
  if (model !== undefined) file = path.join(reports, model, 'audit', 'audit.json');
  else {
    const found: string[] = [];
    for (const m of (await fs.readdir(reports).catch(() => [] as string[])).sort()) {
      const f = path.join(reports, m, 'audit', 'audit.json');
      if (await fs.stat(f).then(() => true, () => false)) found.push(f);
    }
    if (found.length !== 1) {
      throw new InputError({ option: 'exclude', file: reports, expected: found.length ? 'one audit to take (name it: audit:<model>)' : 'an audit.json under reports/<model>/audit/', found: found.length ? `${found.length}: ${found.map((f) => path.basename(path.dirname(path.dirname(f)))).join(', ')}` : 'none' });
    }
    file = found[0]!;
  }
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) throw new InputError({ option: 'exclude', file, expected: 'an audit report', found: 'nothing there' });
  let report: AuditReport;
  try {
    report = JSON.parse(text) as AuditReport;
  } catch (err) {
    throw new InputError({ option: 'exclude', file, expected: 'JSON written by an audit', found: (err as Error).message });
  }
  for (const field of ['duplicates', 'outliers', 'inconsistent'] as const) {
    if (!Array.isArray(report[field])) throw new InputError({ option: 'exclude', file, field, expected: 'a list of findings', actual: report[field] });
  }
  return { source: path.relative(datasetLayout(root).root, file), ids: flaggedIds(report) };
}
