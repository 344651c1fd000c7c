import path from 'node:path';
import type { AgeGapResult } from '../age-gap.js';
import { ageReportMarkdown, type AgeReport } from '../../age/report.js';
import type { EmbedderInfo, Preprocessing } from '../../models/embedder.js';
import type { IdentificationResult } from '../identification.js';
import type { ComputedSpeed } from '../../models/embedding-cache.js';
import type { GridNote } from './notes.js';
import type { RocMark } from './roc-svg.js';

/** report.json: everything one benchmark run of one model on one pair file measured. */
export interface BenchmarkReport {
  tool: 'ecaf';
  version: string;
  date: string;
  model: Pick<EmbedderInfo, 'kind' | 'model' | 'device' | 'details'> & { dim: number; weightsSha256: string };
  preprocessing: Preprocessing;
  /** Flip test-time augmentation and the rule combining the two views. */
  flip: { enabled: boolean; rule: EmbedderInfo['flipRule'] | null };
  images: { folder: string };
  pairs: {
    file: string;
    sha256: string;
    format: string;
    folds: number;
    total: number;
    scored: number;
    positives: number;
    negatives: number;
    /** Pairs left out because an image file is missing under the images folder. */
    skippedMissingImages: number;
    missingImages: number;
  };
  speed: {
    /** Images this run embedded (each with its mirror image when flip is on); the rest came from the cache. */
    embedded: number;
    fromCache: number;
    seconds: number;
    /** Of `seconds`, the time spent in the model's runtime (the rest: decoding, preprocessing, flip, cache, pipe). */
    modelSeconds: number;
    /** Images per second of decode + preprocess + model, over the images embedded (null when all were cached). */
    imagesPerSecond: number | null;
    /** When every embedding came from the cache: the speed of the run that computed them (absent when unknown). */
    computedBy?: ComputedSpeed;
  };
  /** insightface's 10-fold protocol on squared L2 distance between unit embeddings. */
  accuracy: {
    mean: number;
    std: number;
    folds: { fold: number; accuracy: number; threshold: number; cosineThreshold: number }[];
    /** Why mean and std are not defined (fewer than 2 folds: no held-out threshold), null when they are. */
    undefinedReason: string | null;
    /** Whether the protocol's threshold grid is coarser than the gap between genuine and impostor scores, with a fine-grid accuracy as a labelled extra. */
    grid: GridNote;
  };
  /** insightface's calculate_val per FAR target: mean held-out TAR (and std) and FAR. */
  tarAtFar: {
    farTarget: number;
    tar: number;
    tarStd: number;
    far: number;
    foldThresholds: number[];
    /** False when some fold's training negatives are too few to reach farTarget (absent in older reports). */
    measurable?: boolean;
    /** 1 / the fewest training negatives of any fold: the smallest FAR target this pair file can measure. */
    smallestMeasurableFar?: number;
  }[];
  /** Pooled over all scored pairs, on cosine scores. */
  roc: { auc: number; eer: number; far: number[]; tar: number[]; marks: RocMark[] };
  /** Per age-gap bin (years); null when data.json gives no ages for these images. */
  ageGap: AgeGapResult[] | null;
  /** Missing-children protocol only: child photos against all adult photos. */
  identification: (IdentificationResult & { childMaxAge: number; adultMinAge: number }) | null;
  /** The model's age / gender estimates and the linear probes of its embedding, on images with a data.json age or gender (null: none, or the age option off). */
  age?: AgeReport | null;
}

/** One row of scores.csv. */
export interface ScoreRow {
  index: number;
  fold: number;
  same: boolean;
  cosine: number;
  a: string;
  b: string;
}

const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'n/a');
const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function scoresCsv(rows: readonly ScoreRow[]): string {
  const lines = ['index,fold,label,score,image_a,image_b'];
  for (const r of rows) lines.push(`${r.index},${r.fold},${r.same ? 1 : -1},${r.cosine},${csvField(r.a)},${csvField(r.b)}`);
  return lines.join('\n') + '\n';
}

/** The protocol's accuracy, or why it is not defined. */
function accuracyLine(r: BenchmarkReport): string {
  if (r.accuracy.undefinedReason) return `Accuracy (insightface k-fold): **not defined**: ${r.accuracy.undefinedReason}`;
  return `Accuracy (insightface ${r.pairs.folds}-fold): **${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}**`;
}

/** When no threshold of the protocol's grid falls in the gap between genuine and impostor scores. */
function gridLines(r: BenchmarkReport): string[] {
  const g = r.accuracy.grid;
  if (!g?.coarser) return [];
  const lines = [
    '',
    `Note: genuine and impostor pairs are separable (largest genuine squared-L2 distance ${g.maxGenuine.toFixed(5)}, smallest impostor ${g.minImpostor.toFixed(5)}), ` +
      `but no threshold of the protocol's grid (step ${g.step}) falls between them, so the accuracy stays below 100% while the EER is 0.`,
  ];
  if (g.fineGrid) lines.push(`Extra, not the protocol's number: on a grid of step ${g.fineGrid.step} the same k-fold accuracy is ${pct(g.fineGrid.mean)} ± ${pct(g.fineGrid.std)}.`);
  return lines;
}

/** One TAR@FAR row: "not measurable" where the training folds have too few negatives. */
function tarRow(t: BenchmarkReport['tarAtFar'][number]): string {
  if (t.measurable === false) return `| ${t.farTarget} | not measurable (${smallestFarText(t.smallestMeasurableFar!, 2)}) | |`;
  return `| ${t.farTarget} | ${pct(t.tar)} ± ${pct(t.tarStd)} | ${t.far.toExponential(2)} |`;
}

function farNote(r: BenchmarkReport): string[] {
  const t = r.tarAtFar.find((x) => x.measurable === false);
  if (!t) return [];
  if (!Number.isFinite(t.smallestMeasurableFar!)) return ['', 'No FAR target can be measured: the training folds of some fold hold no impostor pair.'];
  return ['', `A FAR target below 1 / (negatives of the training folds) = ${t.smallestMeasurableFar!.toExponential(2)} cannot be measured: one accepted impostor is already a larger FAR.`];
}

/** `smallest measurable FAR 2.8e-2`, or why there is none (a fold whose training folds hold no impostor: report.json has null). */
export function smallestFarText(far: number, digits: number): string {
  return Number.isFinite(far) ? `smallest measurable FAR ${far.toExponential(digits)}` : 'no impostor pair in the training folds';
}

export function reportMarkdown(r: BenchmarkReport): string {
  const lines = [
    `# ${r.model.model} on ${path.basename(r.pairs.file)}`,
    '',
    `ecaf ${r.version}, ${r.date}`,
    '',
    '| | |',
    '|---|---|',
    `| model | ${r.model.model} (${r.model.kind}, ${r.model.dim}-d, sha256 ${r.model.weightsSha256.slice(0, 16)}...) |`,
    `| device | ${r.model.device} |`,
    ...Object.entries(r.model.details).map(([k, v]) => `| ${k} | ${v} |`),
    `| preprocessing | ${r.preprocessing.size}x${r.preprocessing.size} ${r.preprocessing.bgr ? 'BGR' : 'RGB'}, mean ${r.preprocessing.mean.join(',')}, std ${r.preprocessing.std.map((s) => +s.toFixed(6)).join(',')}, ${r.preprocessing.layout.toUpperCase()} |`,
    `| flip | ${r.flip.enabled ? `on, ${r.flip.rule} rule` : 'off'} |`,
    `| images | ${r.images.folder} |`,
    `| pairs | ${r.pairs.file} (${r.pairs.format}, sha256 ${r.pairs.sha256.slice(0, 16)}...) |`,
    `| scored | ${r.pairs.scored} of ${r.pairs.total} pairs (${r.pairs.positives} positive, ${r.pairs.negatives} negative) in ${r.pairs.folds} folds; ${r.pairs.skippedMissingImages} skipped for ${r.pairs.missingImages} missing images |`,
    `| speed | ${r.speed.imagesPerSecond === null ? `all embeddings from the cache${r.speed.computedBy?.imagesPerSecond ? `, computed at ${r.speed.computedBy.imagesPerSecond.toFixed(1)} images/s on ${r.speed.computedBy.date}` : ''}` : `${r.speed.imagesPerSecond.toFixed(1)} images/s (${r.speed.embedded} embedded, ${r.speed.fromCache} from the cache; ${((100 * r.speed.modelSeconds) / r.speed.seconds).toFixed(0)}% of the time in the model)`} |`,
    '',
    '## Verification',
    '',
    accuracyLine(r),
    ...gridLines(r),
    '',
    '| FAR target | TAR (mean ± std over folds) | measured FAR |',
    '|---|---|---|',
    ...r.tarAtFar.map(tarRow),
    ...farNote(r),
    '',
    `AUC ${pct(r.roc.auc)}, EER ${pct(r.roc.eer)} (pooled ROC over all pairs: roc.svg, with the protocol threshold, the EER point and the TAR@FAR points marked; score histograms: scores.svg)`,
    '',
    '| fold | accuracy | threshold (squared L2) | cosine threshold |',
    '|---|---|---|---|',
    ...r.accuracy.folds.map((f) => `| ${f.fold} | ${pct(f.accuracy)} | ${f.threshold.toFixed(2)} | ${f.cosineThreshold.toFixed(3)} |`),
  ];
  if (r.ageGap) {
    lines.push('', '## Per age gap', '', '| age gap (years) | pairs | positive | negative | accuracy | TAR @ FAR 1e-3 | FAR in bin |', '|---|---|---|---|---|---|---|');
    for (const g of r.ageGap) lines.push(`| ${g.bin} | ${g.pairs} | ${g.positives} | ${g.negatives} | ${pct(g.accuracy)} | ${pct(g.tar)} | ${pct(g.far)} |`);
  }
  if (r.identification) {
    const i = r.identification;
    lines.push(
      '',
      '## Missing children: closed-set identification',
      '',
      `${i.probes} child photos (age <= ${i.childMaxAge}) against ${i.galleryImages} adult photos (age >= ${i.adultMinAge}) of ${i.galleryIdentities} people` +
        (i.probesWithoutMate ? `; ${i.probesWithoutMate} child photos left out (no adult photo of that person)` : ''),
      '',
      `rank-1 **${pct(i.rank1)}**, rank-5 **${pct(i.rank5)}**, rank-10 ${pct(i.cmc[9] ?? Number.NaN)}`,
    );
  }
  if (r.age) lines.push(...ageReportMarkdown(r.age));
  return lines.join('\n') + '\n';
}
