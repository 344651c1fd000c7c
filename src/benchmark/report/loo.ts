/** Leave-one-out identification: its report (identification.json, identification.md), apart from the pair files' report.json. */
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import type { LooResult } from '../loo.js';
import type { BenchmarkReport } from './markdown.js';

/** identification.json under `reports/<model>/leave-one-out/`. */
export interface LooReport extends Pick<BenchmarkReport, 'tool' | 'version' | 'date' | 'model' | 'preprocessing' | 'flip' | 'images'> {
  protocol: 'leave-one-out';
  /** data.json records with an aligned image that was embedded. */
  leaveOneOut: LooResult;
  seconds: number;
}

const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'n/a');

export function looMarkdown(r: LooReport): string {
  const l = r.leaveOneOut;
  const table = (title: string, rows: LooResult['byAgeGroup']) => ['', `| ${title} | probes | rank-1 | rank-5 |`, '|---|---|---|---|', ...rows.map((b) => `| ${b.label} | ${b.probes} | ${pct(b.rank1)} | ${pct(b.rank5)} |`)];
  return (
    [
      `# ${r.model.model}: leave-one-out identification`,
      '',
      `ecaf ${r.version}, ${r.date}; images ${r.images.folder}; flip ${r.flip.enabled ? `on, ${r.flip.rule} rule` : 'off'}`,
      '',
      `Each of ${l.images} aligned images (${l.identities} people) is the probe against all the others as the gallery; people are ranked by their best-matching image (cosine), a tie counting against the probe` +
        (l.probesWithoutMate ? `; ${l.probesWithoutMate} images are their person's only one (in the gallery, never a probe)` : '') +
        '.',
      '',
      `${l.probes} probes: rank-1 **${pct(l.rank1)}**, rank-5 **${pct(l.rank5)}**, rank-10 ${pct(l.cmc[9] ?? Number.NaN)}`,
      ...table(`probe age (child <= ${l.childMaxAge}, adult >= ${l.adultMinAge})`, l.byAgeGroup),
      ...table("age gap (years) to the nearest-in-age other image of the probe's person", l.byAgeGap),
    ].join('\n') + '\n'
  );
}

/** Write identification.md then identification.json (last: its presence means the folder is complete). */
export async function writeLooReport(dir: string, r: LooReport): Promise<void> {
  await writeFileAtomic(path.join(dir, 'identification.md'), looMarkdown(r));
  await writeFileAtomic(path.join(dir, 'identification.json'), JSON.stringify(r, null, 2) + '\n');
}
