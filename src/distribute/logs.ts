import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { DatasetLayout } from '../dataset/layout.js';
import { readJsonl } from '../util/jsonl.js';
import { shardTag, type Shard } from './shard.js';

/**
 * Per-shard logs (docs/cluster.md): no two processes ever append to one file. A run without a
 * shard appends to image_data/<stage>.jsonl as always; shard K of N appends to
 * image_data/logs/<stage>.<K>-of-<N>.jsonl. Readers merge every file of a stage.
 */
export type LogStage = 'crawl' | 'landmarks';

const SHARD_LOG = /^(crawl|landmarks)\.(\d+)-of-(\d+)\.jsonl$/;

/** The shard a log file name belongs to, or undefined for a file that is not a shard log. */
export function shardOfLogName(name: string): { stage: LogStage; index: number; count: number } | undefined {
  const m = SHARD_LOG.exec(name);
  return m ? { stage: m[1] as LogStage, index: Number(m[2]), count: Number(m[3]) } : undefined;
}

const mainLog = (layout: DatasetLayout, stage: LogStage): string => (stage === 'crawl' ? layout.crawlLog : layout.landmarksLog);
export const logsDir = (layout: DatasetLayout): string => path.join(layout.imageData, 'logs');

/** The one file this run appends to. */
export function logFileFor(layout: DatasetLayout, stage: LogStage, shard: Shard | undefined): string {
  return shard ? path.join(logsDir(layout), `${stage}.${shardTag(shard)}.jsonl`) : mainLog(layout, stage);
}

/** logFileFor, with its folder made. */
export async function prepareLogFile(layout: DatasetLayout, stage: LogStage, shard: Shard | undefined): Promise<string> {
  const file = logFileFor(layout, stage, shard);
  await fs.mkdir(path.dirname(file), { recursive: true });
  return file;
}

/**
 * Every log of a stage, in merge order: the single-process log first, then the shard logs by
 * shard count, then index. Files that do not exist are left out.
 */
export async function stageLogFiles(layout: DatasetLayout, stage: LogStage): Promise<string[]> {
  const files: string[] = [];
  if (await fs.stat(mainLog(layout, stage)).then((s) => s.isFile(), () => false)) files.push(mainLog(layout, stage));
  let names: string[] = [];
  try {
    names = await fs.readdir(logsDir(layout));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const shards = names.flatMap((n) => {
    const s = shardOfLogName(n);
    return s && s.stage === stage ? [{ n, ...s }] : [];
  });
  shards.sort((a, b) => a.count - b.count || a.index - b.index);
  return [...files, ...shards.map((s) => path.join(logsDir(layout), s.n))];
}

interface Timed {
  time?: unknown;
}

/**
 * The lines of several logs as one sequence, so that "the last line of an id is its state"
 * holds across files: a k-way merge by the line's `time` (ISO 8601, so text order is time
 * order), ties and lines without a time going to the earlier file of `files`; each file's own
 * order is kept. Torn and unparsable lines are skipped, as in one file.
 */
export async function* readMergedJsonl<T extends Timed>(files: readonly string[]): AsyncGenerator<T> {
  if (files.length === 1) {
    yield* readJsonl<T>(files[0]!);
    return;
  }
  const its = files.map((f) => readJsonl<T>(f)[Symbol.asyncIterator]());
  const next = async (it: AsyncIterator<T>): Promise<T | undefined> => {
    for (;;) {
      const r = await it.next();
      if (r.done) return undefined;
      if (r.value !== null && typeof r.value === 'object') return r.value;
    }
  };
  const heads: (T | undefined)[] = await Promise.all(its.map(next));
  const timeOf = (row: T): string => (typeof row.time === 'string' ? row.time : '');
  for (;;) {
    let best = -1;
    let bestTime = '';
    for (let i = 0; i < heads.length; i++) {
      const row = heads[i];
      if (row === undefined) continue;
      const t = timeOf(row);
      if (best < 0 || t < bestTime) {
        best = i;
        bestTime = t;
      }
    }
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = await next(its[best]!);
  }
}

/** The last state of each id over every log of a stage (single-process and shard logs merged). */
export async function readStageStates<T extends { id: string }>(layout: DatasetLayout, stage: LogStage): Promise<Map<string, T>> {
  const states = new Map<string, T>();
  for await (const row of readMergedJsonl<T & Timed>(await stageLogFiles(layout, stage))) {
    if (row && typeof row.id === 'string') states.set(row.id, row);
  }
  return states;
}
