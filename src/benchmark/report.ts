import path from 'node:path';
import type { AgeGapResult } from './age-gap.js';
import type { EmbedderInfo, Preprocessing } from './embedder.js';
import type { IdentificationResult } from './identification.js';

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
  };
  /** insightface's 10-fold protocol on squared L2 distance between unit embeddings. */
  accuracy: {
    mean: number;
    std: number;
    folds: { fold: number; accuracy: number; threshold: number; cosineThreshold: number }[];
  };
  /** insightface's calculate_val per FAR target: mean held-out TAR (and std) and FAR. */
  tarAtFar: { farTarget: number; tar: number; tarStd: number; far: number; foldThresholds: number[] }[];
  /** Pooled over all scored pairs, on cosine scores. */
  roc: { auc: number; eer: number; far: number[]; tar: number[] };
  /** Per age-gap bin (years); null when data.json gives no ages for these images. */
  ageGap: AgeGapResult[] | null;
  /** Missing-children protocol only: child photos against all adult photos. */
  identification: (IdentificationResult & { childMaxAge: number; adultMinAge: number }) | null;
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
    `| speed | ${r.speed.imagesPerSecond === null ? 'all embeddings from the cache' : `${r.speed.imagesPerSecond.toFixed(1)} images/s (${r.speed.embedded} embedded, ${r.speed.fromCache} from the cache; ${((100 * r.speed.modelSeconds) / r.speed.seconds).toFixed(0)}% of the time in the model)`} |`,
    '',
    '## Verification',
    '',
    `Accuracy (insightface ${r.pairs.folds}-fold): **${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}**`,
    '',
    '| FAR target | TAR (mean ± std over folds) | measured FAR |',
    '|---|---|---|',
    ...r.tarAtFar.map((t) => `| ${t.farTarget} | ${pct(t.tar)} ± ${pct(t.tarStd)} | ${t.far.toExponential(2)} |`),
    '',
    `AUC ${r.roc.auc.toFixed(5)}, EER ${pct(r.roc.eer)} (pooled ROC over all pairs: roc.svg)`,
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
  return lines.join('\n') + '\n';
}

/** The few lines the CLI prints per pair file. */
export function formatReportSummary(r: BenchmarkReport, dir: string): string {
  const tar = r.tarAtFar.find((t) => t.farTarget === 1e-3);
  const parts = [
    `${path.basename(r.pairs.file)}: accuracy ${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}`,
    tar ? `TAR@FAR=1e-3 ${pct(tar.tar)}` : '',
    `AUC ${r.roc.auc.toFixed(4)}`,
    `EER ${pct(r.roc.eer)}`,
    r.identification ? `rank-1 ${pct(r.identification.rank1)} rank-5 ${pct(r.identification.rank5)}` : '',
  ].filter(Boolean);
  const skipped = r.pairs.skippedMissingImages ? `\n  ${r.pairs.skippedMissingImages} of ${r.pairs.total} pairs skipped: ${r.pairs.missingImages} images missing under ${r.images.folder}` : '';
  return `${parts.join(', ')} (${r.pairs.scored} pairs)${skipped}\n  -> ${dir}`;
}
