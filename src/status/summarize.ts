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
  /** What to run next, as a full command line; null when every stage is done. */
  next: string | null;
  /** Why that command. */
  reason: string;
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

/** Where a dataset root stands, and the next command (pure). */
export function summarizeStatus(inp: StatusInputs): DatasetStatus {
  const crawl = stageStatus(inp.ids, (id) => crawlVerdict(inp.crawl.get(id)), inp.crawlShardCounts);
  const align = stageStatus(inp.ids, (id) => alignVerdict(inp.crawl.get(id), inp.landmarks.get(id)), inp.alignShardCounts);
  const root = /^[\w./-]+$/.test(inp.root) ? inp.root : `'${inp.root.replace(/'/g, `'\\''`)}'`;
  const pendingShards = (s: StageStatus) => s.byShard.at(-1)?.shards.flatMap((c, k) => (c.pending > 0 ? [`${k}/${s.byShard.at(-1)!.count}`] : [])) ?? [];
  const shardNote = (s: StageStatus) => (pendingShards(s).length ? `; shards with pending ids: ${pendingShards(s).join(', ')}` : '');
  let next: string | null;
  let reason: string;
  if (!inp.hasData) {
    [next, reason] = [null, 'no image_data/data.json: put the records there (docs/formats.md)'];
  } else if (crawl.pending > 0) {
    [next, reason] = [`ecaf crawl --root ${root}`, `${crawl.pending} records not crawled yet${shardNote(crawl)}`];
  } else if (align.pending > 0) {
    [next, reason] = [`ecaf align --root ${root}`, `${align.pending} crawled photos not aligned yet${shardNote(align)}`];
  } else if (inp.pairFiles.length === 0) {
    [next, reason] = [`ecaf pairs --root ${root} --protocol cross-age`, 'no pair files in image_pairs/'];
  } else if (inp.reports.length === 0) {
    [next, reason] = [`ecaf benchmark --root ${root} --model builtin`, 'no reports yet (or pick your model)'];
  } else {
    [next, reason] = [null, `every stage done: ecaf report --root ${root} puts the reports side by side`];
  }
  return { root: inp.root, records: inp.ids.length, invalid: inp.invalid, crawl, align, pairFiles: inp.pairFiles, reports: inp.reports, next, reason };
}

const counts = (c: StageCounts) => `ok ${c.ok}  failed ${c.failed}  pending ${c.pending}`;

/** What `ecaf status` prints. */
export function formatStatus(s: DatasetStatus): string {
  const lines = [`status of ${s.root}: ${s.records} records${s.invalid ? ` (${s.invalid} invalid left out)` : ''}`];
  const stage = (name: string, st: StageStatus, note = '') => {
    lines.push(`${name.padEnd(10)}${counts(st)}${note}`);
    for (const b of st.byShard) {
      lines.push(`  as ${b.count} shard${b.count === 1 ? '' : 's'}:`);
      b.shards.forEach((c, k) => lines.push(`    ${`${k}/${b.count}`.padEnd(8)}${counts(c)}`));
    }
  };
  stage('crawl', s.crawl);
  stage('align', s.align, `  (of ${s.crawl.ok} crawled)`);
  lines.push(`${'pairs'.padEnd(10)}${s.pairFiles.length ? s.pairFiles.join(', ') : 'none'}`);
  lines.push(`${'benchmark'.padEnd(10)}${s.reports.length ? `${s.reports.length} report${s.reports.length === 1 ? '' : 's'}: ${s.reports.join(', ')}` : 'no reports'}`);
  lines.push(s.next ? `next: ${s.next}   (${s.reason})` : `next: nothing to run (${s.reason})`);
  return lines.join('\n');
}
