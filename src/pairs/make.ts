import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { UsageError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { DEFAULT_ADULT_MIN_AGE, DEFAULT_CHILD_MAX_AGE } from './age-class.js';
import { ONE_FOLD_WARNING } from './check.js';
import { childrenPlan } from './children.js';
import { crossAgePlan, DEFAULT_MIN_AGE_GAP, GAP_BIN_YEARS } from './cross-age.js';
import { assignFolds } from './folds.js';
import { loadPairInputs, type PairInputs } from './inputs.js';
import { Prng } from './prng.js';
import type { FoldPairs, ProtocolPlan } from './protocol.js';
import { DEFAULT_FOLDS, sidecarPath } from './read.js';
import { PairState } from './select.js';
import { pairStats, type PairStats } from './stats.js';
import { formatPairList, writePairFiles } from './write.js';

export type PairProtocol = 'cross-age' | 'children';
export const PROTOCOLS: readonly PairProtocol[] = ['cross-age', 'children'];

export const DEFAULT_PER_FOLD = 300;
export const DEFAULT_SEED = 0;
/** No image is in more than this many positive pairs, nor in more than this many negative ones. */
export const DEFAULT_MAX_PER_IMAGE = 2;

export interface PairsOptions {
  root: string;
  protocol: PairProtocol;
  folds?: number;
  /** Positive pairs per fold, and as many negatives. */
  perFold?: number;
  seed?: number;
  minAgeGap?: number;
  childMaxAge?: number;
  adultMinAge?: number;
  /** Cap on the positive (and, separately, negative) pairs one image is in. */
  maxPerImage?: number;
  /** Default `<root>/image_pairs/<protocol>.txt`. */
  out?: string;
  /** Write what the data allows instead of failing. */
  allowFewer?: boolean;
  skipInvalid?: boolean;
  /** Show reading progress on stderr (a redrawn line on a TTY, a line per tenth when piped). */
  progress?: boolean;
}

/** The `.json` written beside the list: how it was made, so that a paper can cite it. */
export interface PairsSidecar extends PairStats {
  protocol: PairProtocol;
  tool: 'ecaf';
  version: string;
  seed: number;
  /** What was asked for. */
  parameters: { folds: number; perFold: number; maxPerImage: number; allowFewer: boolean; minAgeGap?: number; childMaxAge?: number; adultMinAge?: number };
  /** What was written: folds of foldSize pairs, perFold positives then perFold negatives each. */
  folds: number;
  perFold: number;
  foldSize: number;
  pairs: number;
  positives: number;
  negatives: number;
  imageNames: string;
  inputs: { records: number; aligned: number; usableImages: number; usableIdentities: number };
  ageBinYears: number;
}

export interface PairsResult {
  file: string;
  sidecar: string;
  protocol: PairProtocol;
  folds: number;
  perFold: number;
  pairs: number;
  /** True when --allow-fewer wrote less than asked for. */
  fewer: boolean;
  meta: PairsSidecar;
  /** Seconds spent reading data.json and landmarks.jsonl, and drawing the pairs. */
  loadSeconds: number;
  drawSeconds: number;
}

interface Resolved {
  protocol: PairProtocol;
  folds: number;
  perFold: number;
  seed: number;
  minAgeGap: number;
  childMaxAge: number;
  adultMinAge: number;
  maxPerImage: number;
}

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

function resolve(o: PairsOptions): Resolved {
  if (!PROTOCOLS.includes(o.protocol)) throw new UsageError(`protocol must be one of ${PROTOCOLS.join(', ')}, got ${String(o.protocol)}`);
  const r: Resolved = {
    protocol: o.protocol,
    folds: checkInt('folds', o.folds ?? DEFAULT_FOLDS, 1, 1000),
    perFold: checkInt('per-fold', o.perFold ?? DEFAULT_PER_FOLD, 1, 10_000_000),
    seed: checkInt('seed', o.seed ?? DEFAULT_SEED, 0, 0xffffffff),
    minAgeGap: o.minAgeGap ?? DEFAULT_MIN_AGE_GAP,
    childMaxAge: o.childMaxAge ?? DEFAULT_CHILD_MAX_AGE,
    adultMinAge: o.adultMinAge ?? DEFAULT_ADULT_MIN_AGE,
    maxPerImage: checkInt('max-per-image', o.maxPerImage ?? DEFAULT_MAX_PER_IMAGE, 1, 255),
  };
  for (const [name, v] of [['min-age-gap', r.minAgeGap], ['child-max-age', r.childMaxAge], ['adult-min-age', r.adultMinAge]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`${name} must be a number >= 0, got ${v}`);
  }
  if (r.childMaxAge >= r.adultMinAge) throw new UsageError(`child-max-age (${r.childMaxAge}) must be below adult-min-age (${r.adultMinAge})`);
  return r;
}

/** Pairs of every fold for `folds` x `perFold`: identities to folds, then each fold drawn with its own PRNG stream. */
function drawFolds(inp: PairInputs, plan: ProtocolPlan, folds: number, perFold: number, seed: number, cap: number): FoldPairs[] {
  const foldOf = assignFolds(plan.capacity, plan.usable, folds, new Prng(seed, 0));
  const members: number[][] = Array.from({ length: folds }, () => []);
  foldOf.forEach((f, k) => f >= 0 && members[f]!.push(k));
  const state = new PairState(inp.ids.length, cap);
  return members.map((m, f) => plan.fold(m, new Prng(seed, f + 1), state, perFold));
}

const nFolds = (n: number): string => `${n} fold${n === 1 ? '' : 's'}`;

/** Pairs per fold every fold reaches (positives and negatives alike). */
const reached = (res: readonly FoldPairs[]): number => Math.min(...res.map((f) => Math.min(f.positives.length, f.negatives.length)));

/** The largest per-fold count <= perFold that all `folds` folds reach, and its pairs. */
function fill(inp: PairInputs, plan: ProtocolPlan, folds: number, perFold: number, r: Resolved): { res: FoldPairs[]; m: number } {
  let m = perFold;
  for (;;) {
    const res = drawFolds(inp, plan, folds, m, r.seed, r.maxPerImage);
    const got = reached(res);
    if (got >= m || got === 0) return { res, m: got >= m ? m : 0 };
    m = got; // fewer per fold changes which pairs later folds draw: draw again until it holds
  }
}

function protocolPlan(inp: PairInputs, r: Pick<Resolved, 'protocol' | 'minAgeGap' | 'childMaxAge' | 'adultMinAge' | 'maxPerImage'>): ProtocolPlan {
  return r.protocol === 'cross-age'
    ? crossAgePlan(inp, r.minAgeGap, r.maxPerImage)
    : childrenPlan(inp, { childMaxAge: r.childMaxAge, adultMinAge: r.adultMinAge }, r.maxPerImage);
}

/**
 * `ecaf pairs`: draw a protocol's pair list from the aligned records of `root` and write it
 * with its sidecar. Throws UsageError (exit 2) when the data cannot fill the request, saying
 * what it allows; with allowFewer, writes that instead.
 */
export async function makePairs(options: PairsOptions): Promise<PairsResult> {
  const r = resolve(options);
  const layout = datasetLayout(options.root);
  const file = path.resolve(options.out ?? path.join(layout.pairs, `${r.protocol}.txt`));
  if (file.toLowerCase().endsWith('.json')) throw new UsageError(`--out ${file}: the list cannot be a .json file (its sidecar is written beside it as .json)`);
  const sidecar = sidecarPath(file);

  const t0 = performance.now();
  const inp = await loadPairInputs(options.root, { skipInvalid: options.skipInvalid, progress: options.progress });
  const t1 = performance.now();
  const plan = protocolPlan(inp, r);
  const usableIdentities = plan.usable.reduce((n, u) => n + (u > 0 ? 1 : 0), 0);
  const usableImages = plan.usable.reduce((n, u) => n + u, 0);

  let folds = r.folds;
  let { res, m } = fill(inp, plan, folds, r.perFold, r);
  if (m < r.perFold) {
    // for the message: how many folds the full request fits in; for allowFewer: the most folds that all get pairs
    let fullFolds = 0;
    let some: { folds: number; res: FoldPairs[]; m: number } | undefined = m > 0 ? { folds, res, m } : undefined;
    for (let k = folds - 1; k >= 1 && fullFolds === 0 && !(options.allowFewer && some); k--) {
      const f = fill(inp, plan, k, r.perFold, r);
      if (f.m >= r.perFold) fullFolds = k;
      if (!some && f.m > 0) some = { folds: k, ...f };
    }
    if (!options.allowFewer || !some) {
      const allows = m > 0 ? `${m} + ${m} per fold with ${nFolds(folds)} (${2 * m * folds} pairs)` : `no pairs in some of the ${nFolds(folds)}`;
      const smaller = fullFolds > 0 ? `; ${r.perFold} + ${r.perFold} per fold fits in ${nFolds(fullFolds)}` : some && some.folds !== folds ? `; at most ${some.m} + ${some.m} per fold with ${nFolds(some.folds)}` : '';
      throw new UsageError(
        `${r.protocol}: not enough data for ${nFolds(folds)} x (${r.perFold} positive + ${r.perFold} negative pairs): the data allows ${allows}${smaller} ` +
          `(${usableImages} usable images of ${usableIdentities} identities, from ${inp.aligned} aligned of ${inp.records} records). ` +
          (some ? 'Lower --per-fold or --folds, or pass --allow-fewer to write what is possible.' : 'No pair can be drawn.'),
      );
    }
    ({ folds, res, m } = some);
  }
  const t2 = performance.now();

  const stats = pairStats(inp, res);
  const meta: PairsSidecar = {
    protocol: r.protocol,
    tool: 'ecaf',
    version: VERSION,
    seed: r.seed,
    parameters: {
      folds: r.folds,
      perFold: r.perFold,
      maxPerImage: r.maxPerImage,
      allowFewer: Boolean(options.allowFewer),
      ...(r.protocol === 'cross-age' ? { minAgeGap: r.minAgeGap } : { childMaxAge: r.childMaxAge, adultMinAge: r.adultMinAge }),
    },
    folds,
    perFold: m,
    foldSize: 2 * m,
    pairs: 2 * m * folds,
    positives: m * folds,
    negatives: m * folds,
    imageNames: 'relative to image_data/img_mtcnn (<id>.jpg); img_ffhq holds <id>.png',
    inputs: { records: inp.records, aligned: inp.aligned, usableImages, usableIdentities },
    ageBinYears: GAP_BIN_YEARS,
    ...stats,
  };
  await writePairFiles(file, formatPairList(inp, res), sidecar, meta);
  return {
    file,
    sidecar,
    protocol: r.protocol,
    folds,
    perFold: m,
    pairs: meta.pairs,
    fewer: m < r.perFold || folds < r.folds,
    meta,
    loadSeconds: (t1 - t0) / 1000,
    drawSeconds: (t2 - t1) / 1000,
  };
}

/** What `ecaf pairs` prints when done. */
export function formatPairsSummary(r: PairsResult): string {
  const m = r.meta;
  const lines = [
    `wrote ${r.file}: ${r.folds} folds x (${r.perFold} positive + ${r.perFold} negative) = ${r.pairs} pairs, ${m.identities} identities, ${m.images} images (${r.protocol}, seed ${m.seed})`,
    `sidecar: ${r.sidecar}`,
  ];
  if (r.fewer) lines.push(`fewer than asked (--allow-fewer): asked ${m.parameters.folds} folds x (${m.parameters.perFold} + ${m.parameters.perFold})`);
  if (r.folds < 2) lines.push(`warning: ${ONE_FOLD_WARNING}`);
  lines.push(`inputs: ${m.inputs.records} records, ${m.inputs.aligned} aligned, ${m.inputs.usableImages} usable images of ${m.inputs.usableIdentities} identities; read in ${r.loadSeconds.toFixed(2)} s, drawn in ${r.drawSeconds.toFixed(2)} s`);
  return lines.join('\n') + '\n';
}
