/** Where a dataset root stands, per stage and per shard, and the stage to run next. */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { loadDataJson } from '../dataset/load.js';
import { logsDir, readStageStates, shardOfLogName, type LogStage } from '../distribute/logs.js';
import { summarizeStatus, type DatasetStatus } from './summarize.js';

export { summarizeStatus, type DatasetStatus, type NextStep, type StageCounts, type StageStatus, type StatusInputs } from './summarize.js';

const listDir = (dir: string) => fs.readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));

/** Read a root's data.json, logs, pair files and reports, and summarize them. */
export async function datasetStatus(root: string): Promise<DatasetStatus> {
  const layout = datasetLayout(root);
  const hasData = existsSync(layout.dataJson);
  const loaded = hasData ? await loadDataJson(layout.dataJson, { skipInvalid: true }) : undefined;
  const logNames = await listDir(logsDir(layout));
  const shardCounts = (stage: LogStage) => logNames.flatMap((n) => {
    const s = shardOfLogName(n);
    return s?.stage === stage ? [s.count] : [];
  });
  const reports: string[] = [];
  for (const model of (await listDir(layout.reports)).sort()) {
    for (const pairs of (await listDir(path.join(layout.reports, model)).catch(() => [])).sort()) {
      if (existsSync(path.join(layout.reports, model, pairs, 'report.json'))) reports.push(`${model}/${pairs}`);
    }
  }
  return summarizeStatus({
    root,
    hasData,
    ids: loaded?.records.map((r) => r.id) ?? [],
    invalid: loaded?.summary.invalidCount ?? 0,
    crawl: await readStageStates<{ id: string; status: string }>(layout, 'crawl'),
    landmarks: await readStageStates<{ id: string; status: string }>(layout, 'landmarks'),
    crawlShardCounts: shardCounts('crawl'),
    alignShardCounts: shardCounts('landmarks'),
    pairFiles: (await listDir(layout.pairs)).filter((n) => n.endsWith('.txt')).sort(),
    reports,
  });
}
