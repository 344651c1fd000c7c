import { datasetStatus, type DatasetStatus, type NextStep, type StageCounts, type StageStatus } from '../status/index.js';
import { EXIT_OK } from '../util/errors.js';
import { rootOption, type EcafCommand } from './command.js';

/** The root as a shell word: quoted unless it is plain. */
const shellWord = (s: string) => (/^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The arguments of each stage's command beyond --root. */
const STAGE_ARGS: Record<NonNullable<NextStep['stage']>, string> = { crawl: '', align: '', pairs: ' --protocol cross-age', benchmark: ' --model builtin' };

/** The next step as a full command line; null when there is no stage to run. */
export function nextCommand(s: DatasetStatus): string | null {
  const { stage } = s.nextStep;
  return stage ? `ecaf ${stage} --root ${shellWord(s.root)}${STAGE_ARGS[stage]}` : null;
}

/** Why that command (or why none), in words. */
export function nextReason(s: DatasetStatus): string {
  const { why, pending, pendingShards } = s.nextStep;
  const shards = pendingShards.length ? `; shards with pending ids: ${pendingShards.map((k) => `${k.index}/${k.count}`).join(', ')}` : '';
  switch (why) {
    case 'no-data':
      return 'no image_data/data.json: put the records there (docs/formats.md)';
    case 'not-crawled':
      return `${pending} records not crawled yet${shards}`;
    case 'not-aligned':
      return `${pending} crawled photos not aligned yet${shards}`;
    case 'no-pairs':
      return 'no pair files in image_pairs/';
    case 'no-reports':
      return 'no reports yet (or pick your model)';
    case 'done':
      return `every stage done: ecaf report --root ${shellWord(s.root)} puts the reports side by side`;
  }
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
  const next = nextCommand(s);
  lines.push(next ? `next: ${next}   (${nextReason(s)})` : `next: nothing to run (${nextReason(s)})`);
  return lines.join('\n');
}

/** The status for scripts: the library's shape, plus the next command and its reason as `ecaf status` words them. */
export const statusJson = (s: DatasetStatus) => ({ ...s, next: nextCommand(s), reason: nextReason(s) });

export const statusCommand: EcafCommand = {
  command: 'status',
  describe: 'where a dataset root stands: ok / failed / pending per stage (and per shard), and the next command',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        json: { type: 'boolean', default: false, describe: 'print the status as JSON' },
      })
      .example('ecaf status --root ecaf', 'counts per stage and the command to run next')
      .example('ecaf status --root ecaf --json', 'the same for scripts'),
  handler: async (args: { root: string; json: boolean }) => {
    const status = await datasetStatus(args.root);
    process.stdout.write(args.json ? `${JSON.stringify(statusJson(status), null, 2)}\n` : `${formatStatus(status)}\n`);
    return EXIT_OK;
  },
};
