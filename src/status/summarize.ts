import { shardOf } from '../distribute/partition.js';

/** ok / failed / pending counts of one stage over a set of ids. */
export interface StageCounts {
  ok: number;
  failed: number;
  pending: number;
}

/** The counts of one stage per shard, for every shard count N its logs were written with. */
export interface ShardedCounts {
  count: number;
  /** Index k holds shard k of `count`. */
  shards: StageCounts[];
}

export interface StageStatus extends StageCounts {
  byShard: ShardedCounts[];
}

export interface DatasetStatus {
  root: string;
  records: number;
  invalid: number;
  /** ok: downloaded; failed: failed or skipped by a policy; pending: no crawl line yet. */
  crawl: StageStatus;
  /** Over the crawled ids: ok: aligned; failed: no face or no decode; pending: not aligned yet. */
  align: StageStatus;
  pairFiles: string[];
  /** Report folders, relative to reports/. */
  reports: string[];
  /** What to run next, and why. */
  nextStep: NextStep;
}

/** The stage to run next (null: none to run) and why, as codes; the CLI words it as a command line. */
export interface NextStep {
  stage: 'crawl' | 'align' | 'pairs' | 'benchmark' | null;
  /** no-data: no data.json; not-crawled / not-aligned: ids pending; no-pairs: no pair file; no-reports: no report; done: every stage done. */
  why: 'no-data' | 'not-crawled' | 'not-aligned' | 'no-pairs' | 'no-reports' | 'done';
  /** Ids the stage has yet to do (crawl, align); 0 for the others. */
  pending: number;
  /** The shards with pending ids, under the largest shard count the stage's logs were written with. */
  pendingShards: { index: number; count: number }[];
}

/** What status reads from a root: data.json's ids, the last state of each log, the outputs present. */
export interface StatusInputs {
  root: string;
  hasData: boolean;
  ids: readonly string[];
  invalid: number;
  crawl: ReadonlyMap<string, { status: string }>;
  landmarks: ReadonlyMap<string, { status: string }>;
  /** Shard counts N seen in image_data/logs/ per stage. */
  crawlShardCounts: readonly number[];
  alignShardCounts: readonly number[];
  pairFiles: string[];
  reports: string[];
}

type Verdict = 'ok' | 'failed' | 'pending' | null;

const crawlVerdict = (s: { status: string } | undefined): Verdict => (!s ? 'pending' : s.status === 'ok' ? 'ok' : 'failed');

/** Ids not crawled ok are not align's concern (null); missing_image means crawl has not delivered it yet. */
const alignVerdict = (c: { status: string } | undefined, s: { status: string } | undefined): Verdict => {
  if (c?.status !== 'ok') return null;
  if (!s || s.status === 'missing_image') return 'pending';
  return s.status === 'ok' ? 'ok' : 'failed';
};

function stageStatus(ids: readonly string[], verdict: (id: string) => Verdict, shardCounts: readonly number[]): StageStatus {
  const total: StageCounts = { ok: 0, failed: 0, pending: 0 };
  const byShard: ShardedCounts[] = [...new Set(shardCounts)].sort((a, b) => a - b).map((count) => ({ count, shards: Array.from({ length: count }, () => ({ ok: 0, failed: 0, pending: 0 })) }));
  for (const id of ids) {
    const v = verdict(id);
    if (v === null) continue;
    total[v]++;
    for (const s of byShard) s.shards[shardOf(id, s.count)]![v]++;
  }
  return { ...total, byShard };
}

/** The shards of the largest shard count that still have pending ids. */
function pendingShards(s: StageStatus): NextStep['pendingShards'] {
  const b = s.byShard.at(-1);
  return b ? b.shards.flatMap((c, index) => (c.pending > 0 ? [{ index, count: b.count }] : [])) : [];
}

/** The first stage with work left, given the counts and outputs (pure). */
function nextStep(inp: StatusInputs, crawl: StageStatus, align: StageStatus): NextStep {
  const none = { pending: 0, pendingShards: [] };
  if (!inp.hasData) return { stage: null, why: 'no-data', ...none };
  if (crawl.pending > 0) return { stage: 'crawl', why: 'not-crawled', pending: crawl.pending, pendingShards: pendingShards(crawl) };
  if (align.pending > 0) return { stage: 'align', why: 'not-aligned', pending: align.pending, pendingShards: pendingShards(align) };
  if (inp.pairFiles.length === 0) return { stage: 'pairs', why: 'no-pairs', ...none };
  if (inp.reports.length === 0) return { stage: 'benchmark', why: 'no-reports', ...none };
  return { stage: null, why: 'done', ...none };
}

/** Where a dataset root stands, and the stage to run next (pure). */
export function summarizeStatus(inp: StatusInputs): DatasetStatus {
  const crawl = stageStatus(inp.ids, (id) => crawlVerdict(inp.crawl.get(id)), inp.crawlShardCounts);
  const align = stageStatus(inp.ids, (id) => alignVerdict(inp.crawl.get(id), inp.landmarks.get(id)), inp.alignShardCounts);
  return { root: inp.root, records: inp.ids.length, invalid: inp.invalid, crawl, align, pairFiles: inp.pairFiles, reports: inp.reports, nextStep: nextStep(inp, crawl, align) };
}
