import { idOfImageName } from '../../dataset/names.js';
import type { EcafRecord } from '../../dataset/record.js';
import type { PairList } from '../../pairs/pair-list.js';
import { InputError } from '../../util/errors.js';
import { VERSION } from '../../version.js';
import { ageGapResults } from '../age-gap.js';
import type { AgeSample } from '../../age/metrics.js';
import { ageInputOf, buildAgeReport } from '../../age/report.js';
import { embeddingOf, type Embeddings } from '../../models/embed-pipeline.js';
import type { Embedder } from '../../models/embedder.js';
import { closedSetIdentification } from '../identification.js';
import { equalErrorRate, kFoldAccuracy, rocAuc, rocCurve, rocForPlot, tarAtFars, type ScoredPairs } from '../metrics.js';
import type { FilePlan, IdentificationPlan } from '../plan.js';
import type { BenchmarkReport, ScoreRow } from './markdown.js';
import { reportNotes } from './notes.js';

/** FAR targets of TAR@FAR (insightface's own is 1e-3). */
export const FAR_TARGETS = [1e-4, 1e-3, 1e-2, 1e-1];

/** Everything one pair file's report is made of; the caller does the I/O (hash, clock). */
export interface ReportInput {
  file: FilePlan;
  embeddings: Embeddings;
  /** data.json's records by id (ages for the age-gap bins, identities for identification). */
  records: ReadonlyMap<string, EcafRecord>;
  model: Pick<Embedder, 'info' | 'dim' | 'preprocessing' | 'estimates'>;
  /** The age section: the model's estimates and the linear probes (default true). */
  age?: boolean;
  flip: boolean;
  /** The aligned folder the images were read from, as the report names it. */
  imagesDir: string;
  /** sha256 of the pair file. */
  pairsSha256: string;
  /** ISO time the report is dated. */
  date: string;
}

/**
 * One pair file's report and scores.csv rows (pure): verification on the pairs whose two
 * images were embedded, per age gap when data.json gives ages, and identification for the
 * children protocol. Throws InputError when no pair can be scored.
 */
export function buildReport(i: ReportInput): { report: BenchmarkReport; rows: ScoreRow[]; ages: AgeSample[] } {
  const { list } = i.file;
  const s = scorePairs(list, i.embeddings, i.records);
  if (s.rows.length === 0) {
    throw new InputError(
      { file: list.file, expected: `pairs with both images under ${i.imagesDir}`, found: `none of its ${list.pairs.length} (first missing: ${[...s.missing][0] ?? '?'})` },
      ['run:align', 'images'],
    );
  }
  const acc = kFoldAccuracy(s.pairs);
  const tars = tarAtFars(s.pairs, FAR_TARGETS);
  const tar3 = tars.find((t) => t.farTarget === 1e-3)!;
  const roc = rocCurve(s.cosine, s.pairs.same);
  const positives = s.pairs.same.reduce((n, v) => n + v, 0);
  const anyAge = s.gap.some((g) => !Number.isNaN(g));
  const eer = equalErrorRate(roc);
  const notes = reportNotes(s.pairs, acc, tars, eer);
  const { info, dim } = i.model;
  const e = i.embeddings.stats;
  const report: BenchmarkReport = {
    tool: 'ecaf',
    version: VERSION,
    date: i.date,
    model: { kind: info.kind, model: info.model, device: info.device, details: info.details, dim, weightsSha256: info.weightsKey.replace(/^builtin:/, '') },
    preprocessing: i.model.preprocessing,
    flip: { enabled: i.flip, rule: i.flip ? info.flipRule : null },
    images: { folder: i.imagesDir },
    pairs: {
      file: list.file,
      sha256: i.pairsSha256,
      format: list.format,
      folds: list.folds,
      total: list.pairs.length,
      scored: s.rows.length,
      positives,
      negatives: s.rows.length - positives,
      skippedMissingImages: s.skipped,
      missingImages: s.missing.size,
    },
    speed: { embedded: e.embedded, fromCache: e.fromCache, seconds: e.seconds, modelSeconds: e.modelSeconds, imagesPerSecond: e.embedded > 0 ? e.embedded / e.seconds : null, ...(e.computedBy ? { computedBy: e.computedBy } : {}) },
    accuracy: {
      mean: notes.accuracyUndefined ? Number.NaN : acc.mean,
      std: notes.accuracyUndefined ? Number.NaN : acc.std,
      folds: acc.foldAccuracy.map((a, f) => ({ fold: f, accuracy: a, threshold: acc.foldThreshold[f]!, cosineThreshold: 1 - acc.foldThreshold[f]! / 2 })),
      undefinedReason: notes.accuracyUndefined,
      grid: notes.grid,
    },
    tarAtFar: tars.map((t, k) => ({
      farTarget: t.farTarget,
      tar: t.tar,
      tarStd: t.tarStd,
      far: t.far,
      foldThresholds: t.foldThreshold,
      measurable: notes.far[k]!.measurable,
      smallestMeasurableFar: notes.far[k]!.smallestMeasurableFar,
    })),
    roc: { auc: rocAuc(roc), eer, ...rocForPlot(roc, s.rows.length - positives), marks: notes.marks },
    ageGap: anyAge ? ageGapResults(s.pairs, s.gap, acc.foldThreshold, tar3.foldThreshold) : null,
    identification: i.file.identification ? identify(i.file.identification, i.embeddings, i.records) : null,
  };
  const age = i.age === false ? undefined : ageInputOf(list, i.embeddings, i.records, i.model.estimates);
  report.age = age?.samples.length ? buildAgeReport(age) : null;
  return { report, rows: s.rows, ages: age?.samples ?? [] };
}

/** The record an image name of a pair file refers to. */
function recordOf(records: ReadonlyMap<string, EcafRecord>, name: string): EcafRecord | undefined {
  const id = idOfImageName(name);
  return id === null ? undefined : records.get(id);
}

/** Squared L2 distance and cosine of two unit embeddings. */
function compare(a: Float32Array, b: Float32Array): { cos: number; dist: number } {
  let c = 0;
  let d = 0;
  for (let k = 0; k < a.length; k++) {
    c += a[k]! * b[k]!;
    const t = a[k]! - b[k]!;
    d += t * t;
  }
  return { cos: c, dist: d };
}

interface Scored {
  rows: ScoreRow[];
  pairs: ScoredPairs;
  cosine: Float64Array;
  /** Age gap of each scored pair in years; NaN where an age is unknown. */
  gap: Float64Array;
  skipped: number;
  missing: Set<string>;
}

/** Score every pair whose two images were embedded; count the rest and their missing images. */
function scorePairs(list: PairList, e: Embeddings, records: ReadonlyMap<string, EcafRecord>): Scored {
  const rows: ScoreRow[] = [];
  const dist: number[] = [];
  const cos: number[] = [];
  const same: number[] = [];
  const fold: number[] = [];
  const gap: number[] = [];
  const missing = new Set<string>();
  let skipped = 0;
  list.pairs.forEach((p, index) => {
    const a = embeddingOf(e, p.a);
    const b = embeddingOf(e, p.b);
    if (!a || !b) {
      skipped++;
      if (!a) missing.add(p.a);
      if (!b) missing.add(p.b);
      return;
    }
    const s = compare(a, b);
    rows.push({ index, fold: p.fold, same: p.same, cosine: s.cos, a: p.a, b: p.b });
    dist.push(s.dist);
    cos.push(s.cos);
    same.push(p.same ? 1 : 0);
    fold.push(p.fold);
    const ageA = recordOf(records, p.a)?.age;
    const ageB = recordOf(records, p.b)?.age;
    gap.push(ageA !== undefined && ageB !== undefined ? Math.abs(ageA - ageB) : Number.NaN);
  });
  const pairs: ScoredPairs = { dist: Float64Array.from(dist), same: Uint8Array.from(same), fold: Int32Array.from(fold), folds: list.folds };
  return { rows, pairs, cosine: Float64Array.from(cos), gap: Float64Array.from(gap), skipped, missing };
}

/** Closed-set identification of the embedded child photos among the embedded adult photos. */
function identify(plan: IdentificationPlan, e: Embeddings, records: ReadonlyMap<string, EcafRecord>): NonNullable<BenchmarkReport['identification']> {
  const stack = (names: readonly string[]) => {
    const have = names.filter((n) => embeddingOf(e, n) !== undefined);
    const m = new Float32Array(have.length * e.dim);
    have.forEach((n, k) => m.set(embeddingOf(e, n)!, k * e.dim));
    return { m, ids: have.map((n) => recordOf(records, n)!.identity) };
  };
  const pr = stack(plan.probes);
  const ga = stack(plan.gallery);
  return { ...closedSetIdentification(pr.m, pr.ids, ga.m, ga.ids, e.dim), childMaxAge: plan.childMaxAge, adultMinAge: plan.adultMinAge };
}
