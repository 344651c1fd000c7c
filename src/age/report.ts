import path from 'node:path';
import { idOfImageName } from '../dataset/names.js';
import type { EcafRecord } from '../dataset/record.js';
import type { PairList } from '../pairs/pair-list.js';
import { writeFileAtomic } from '../util/atomic.js';
import { ageScatterSvg, agesCsv, evaluateAges, type AgeEvaluation, type AgeSample } from './metrics.js';
import { linearProbes, type ProbeResults } from './probe.js';
import { embeddingOf, type Embeddings } from '../models/embed-pipeline.js';
import type { EstimateHeads } from '../models/embedder.js';
import { readEstimate } from '../models/estimates.js';

/** Said wherever ECAF's labels are compared with: data.json's ages and genders come from Face++. */
export const LABELS_NOTE =
  "data.json's ages and genders are Face++ estimates (ECAF's labels), not ground truth: an MAE here is the disagreement between two estimators, and a model trained to mimic Face++ would score well without being right.";

/** report.json `age`: the model's age and gender estimates, and the linear probes of its embedding. */
export interface AgeReport {
  note: string;
  /** Images of the scored pairs with a data.json age or gender. */
  labelledImages: number;
  /** The model's own estimates against the labels; null when it has no age or gender head. */
  estimation: (AgeEvaluation & { heads: Omit<EstimateHeads, 'weightsKey'> }) | null;
  /** How much age and gender a linear read-out of the L2-normalised embedding recovers on unseen people. */
  probe: ProbeResults;
}

/** One labelled image: its embedding row and, where the model estimates, its estimate. */
export interface AgeInput {
  samples: AgeSample[];
  /** Identity per sample (the probe's folds keep a person in one fold). */
  identity: string[];
  /** Unit embeddings, samples.length rows of `dim`. */
  embeddings: Float32Array;
  dim: number;
  heads: EstimateHeads | undefined;
}

/**
 * The images of a pair file's pairs that were embedded and have a data.json age or gender,
 * once each, with the model's estimates where it gives them.
 */
export function ageInputOf(list: PairList, e: Embeddings, records: ReadonlyMap<string, EcafRecord>, heads: EstimateHeads | undefined): AgeInput {
  const samples: AgeSample[] = [];
  const identity: string[] = [];
  const rows: Float32Array[] = [];
  const seen = new Set<string>();
  for (const p of list.pairs) {
    for (const name of [p.a, p.b]) {
      if (seen.has(name)) continue;
      seen.add(name);
      const id = idOfImageName(name);
      const r = id === null ? undefined : records.get(id);
      const v = embeddingOf(e, name);
      if (!r || !v || (r.age === undefined && r.gender === undefined)) continue;
      const at = e.index.get(name)!;
      const est = e.estimates?.[at] ? readEstimate(e.estimates[at]) : undefined;
      samples.push({ id: r.id, trueAge: r.age ?? Number.NaN, predictedAge: est?.age ?? Number.NaN, trueGender: r.gender ?? null, predictedGender: est?.gender ?? null, predictedGroup: est?.ageGroup ?? null });
      identity.push(r.identity);
      rows.push(v);
    }
  }
  const embeddings = new Float32Array(rows.length * e.dim);
  rows.forEach((v, k) => embeddings.set(v, k * e.dim));
  return { samples, identity, embeddings, dim: e.dim, heads: e.estimates ? heads : undefined };
}

/** The age section (pure). */
export function buildAgeReport(a: AgeInput): AgeReport {
  const probe = linearProbes({
    x: a.embeddings,
    dim: a.dim,
    identity: a.identity,
    age: Float64Array.from(a.samples, (s) => s.trueAge),
    male: Int8Array.from(a.samples, (s) => (s.trueGender === 'male' ? 1 : s.trueGender === 'female' ? 0 : -1)),
  });
  const heads = a.heads && (a.heads.age || a.heads.gender) ? { age: a.heads.age, gender: a.heads.gender, ageGroups: a.heads.ageGroups } : null;
  return { note: LABELS_NOTE, labelledImages: a.samples.length, estimation: heads ? { ...evaluateAges(a.samples), heads } : null, probe };
}

const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
const years = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** The report.md lines of the age section. */
export function ageReportMarkdown(r: AgeReport): string[] {
  const lines = ['', '## Age and gender', '', `> ${r.note}`, ''];
  const e = r.estimation;
  if (e) {
    lines.push(
      `The model's estimates on ${e.images} images with a data.json age` + (e.heads.gender ? ` (gender: ${e.genderImages} images with a data.json gender)` : '') + ': ages.csv' + (e.heads.age ? ', ages.svg' : '') + '.',
      '',
      `MAE **${years(e.mae)} years** (bias ${e.bias >= 0 ? '+' : ''}${years(e.bias)}), CS@5 ${pct(e.cs5)}, age-group accuracy ${pct(e.groupAccuracy)}` +
        (e.heads.ageGroups ? `, group head ${pct(e.groupHeadAccuracy)}` : '') +
        (e.heads.gender ? `, gender accuracy ${pct(e.genderAccuracy)}` : ''),
      '',
      `| label age | images | MAE | bias | CS@5 | group accuracy |${e.heads.ageGroups ? ' group head |' : ''}${e.heads.gender ? ' gender accuracy |' : ''}`,
      `|---|---|---|---|---|---|${e.heads.ageGroups ? '---|' : ''}${e.heads.gender ? '---|' : ''}`,
      ...e.byGroup.map(
        (g) =>
          `| ${g.group} | ${g.images} | ${years(g.mae)} | ${years(g.bias)} | ${pct(g.cs5)} | ${pct(g.groupAccuracy)} |${e.heads.ageGroups ? ` ${pct(g.groupHeadAccuracy)} |` : ''}${e.heads.gender ? ` ${pct(g.genderAccuracy)} |` : ''}`,
      ),
      '',
    );
  } else {
    lines.push('The model has no age or gender head: only its embedding is probed.', '');
  }
  lines.push('### What the identity embedding still says about age (linear probe)', '');
  const a = r.probe.age;
  if ('skipped' in a) lines.push(`Age probe skipped: ${a.skipped}.`);
  else
    lines.push(
      `Ridge regression from the L2-normalised embedding, ${a.folds} folds split by person (${a.identities} people, ${a.samples} images), strength chosen inside the training folds:`,
      `MAE **${years(a.mae)}** years against ${years(a.baselineMae)} for the median age: ratio **${a.ratio.toFixed(3)}** (1.0: no age readable; lower: more age left in the embedding).`,
    );
  const g = r.probe.gender;
  if ('skipped' in g) lines.push('', `Gender probe skipped: ${g.skipped}.`);
  else lines.push('', `Logistic regression, same folds: accuracy **${pct(g.accuracy)}** against ${pct(g.baselineAccuracy)} for the majority (cross-entropy ${g.logLoss.toFixed(3)} vs ${g.baselineLogLoss.toFixed(3)} nats).`);
  return lines;
}

/** ages.csv and ages.svg beside report.json (only when the model estimates). */
export async function writeAgeFiles(dir: string, r: AgeReport, samples: readonly AgeSample[], title: string): Promise<void> {
  if (!r.estimation) return;
  await writeFileAtomic(path.join(dir, 'ages.csv'), agesCsv(samples));
  if (r.estimation.heads.age) await writeFileAtomic(path.join(dir, 'ages.svg'), ageScatterSvg(samples, title));
}
