import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { emptyTally, runStage, type Stage, type StageOutcome, type StageResult, type StageTask } from '../stage.js';
import { checkInt, checkNumber, InputError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { DEFAULT_ADULT_MIN_AGE, DEFAULT_CHILD_MAX_AGE } from './age-class.js';
import { ONE_FOLD_WARNING } from './check.js';
import { childrenPlan } from './children.js';
import { crossAgePlan, DEFAULT_MIN_AGE_GAP, GAP_BIN_YEARS } from './cross-age.js';
import { assignFolds } from './folds.js';
import { loadPairInputs, type PairInputs } from './inputs.js';
import { Prng } from './prng.js';
import type { FoldPairs, ProtocolPlan } from './protocol.js';
import { checkFolds, DEFAULT_FOLDS, sidecarPath } from './read.js';
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
  /** Images to leave out (an audit's flagged ones: id -> why), and where that list came from. */
  exclude?: { source: string; ids: ReadonlyMap<string, string> };
  /** Show reading progress on stderr (a redrawn line on a TTY, a line per tenth when piped). */
  progress?: boolean;
  /** Stop (SIGINT, SIGTERM): nothing is written, the result says `interrupted`. */
  signal?: AbortSignal;
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
  /** With `exclude`: the aligned images left out, and the list's flagged images by reason. */
  excluded?: { source: string; images: number; flagged: Record<string, number> };
  ageBinYears: number;
}

/** What became of the list: `written` as asked, written with `fewer` pairs (allowFewer), or `dropped` by an interrupt. */
export type PairsOutcomeCode = 'written' | 'fewer' | 'dropped';
export const PAIRS_OUTCOMES: readonly PairsOutcomeCode[] = ['written', 'fewer', 'dropped'];

export interface PairsResult extends StageResult<PairsOutcomeCode> {
  stage: 'pairs';
  file: string;
  sidecar: string;
  protocol: PairProtocol;
  folds: number;
  perFold: number;
  pairs: number;
  /** True when allowFewer wrote less than asked for. */
  fewer: boolean;
  /** The sidecar written; undefined when interrupted before the draw. */
  meta?: PairsSidecar;
  /** Seconds spent reading data.json and landmarks.jsonl, and drawing the pairs. */
  loadSeconds: number;
  drawSeconds: number;
}

/** The list to write: the stage's one task, named by its file. */
export interface PairsTask extends StageTask {
  text: string;
  sidecar: string;
  meta: PairsSidecar;
  fewer: boolean;
}

export type PairsOutcome = StageOutcome<PairsOutcomeCode>;

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

/** The options with their defaults, each limit checked once, here. */
function resolve(o: PairsOptions): Resolved {
  if (!PROTOCOLS.includes(o.protocol)) throw new InputError({ option: 'protocol', expected: `one of ${PROTOCOLS.join(', ')}`, actual: o.protocol });
  const r: Resolved = {
    protocol: o.protocol,
    folds: checkFolds('folds', o.folds ?? DEFAULT_FOLDS),
    perFold: checkInt('perFold', o.perFold ?? DEFAULT_PER_FOLD, 1, 10_000_000),
    seed: checkInt('seed', o.seed ?? DEFAULT_SEED, 0, 0xffffffff),
    minAgeGap: checkNumber('minAgeGap', o.minAgeGap ?? DEFAULT_MIN_AGE_GAP, 0),
    childMaxAge: checkNumber('childMaxAge', o.childMaxAge ?? DEFAULT_CHILD_MAX_AGE, 0),
    adultMinAge: checkNumber('adultMinAge', o.adultMinAge ?? DEFAULT_ADULT_MIN_AGE, 0),
    maxPerImage: checkInt('maxPerImage', o.maxPerImage ?? DEFAULT_MAX_PER_IMAGE, 1, 255),
  };
  if (r.childMaxAge >= r.adultMinAge) throw new InputError({ option: 'childMaxAge', expected: `an age below adultMinAge (${r.adultMinAge})`, actual: r.childMaxAge });
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

/** A drawn list, ready to write. */
interface Draw {
  folds: number;
  res: FoldPairs[];
  m: number;
  usableImages: number;
  usableIdentities: number;
}

/**
 * The pairs of the request, or the most the data allows with allowFewer; InputError when the
 * data cannot fill it, saying what it allows. Pure: the same inputs and options give the same pairs.
 */
function draw(inp: PairInputs, r: Resolved, allowFewer: boolean): Draw {
  const plan = protocolPlan(inp, r);
  const usableIdentities = plan.usable.reduce((n, u) => n + (u > 0 ? 1 : 0), 0);
  const usableImages = plan.usable.reduce((n, u) => n + u, 0);
  const folds = r.folds;
  const { res, m } = fill(inp, plan, folds, r.perFold, r);
  if (m >= r.perFold) return { folds, res, m, usableImages, usableIdentities };
  // for the message: how many folds the full request fits in; for allowFewer: the most folds that all get pairs
  let fullFolds = 0;
  let some: { folds: number; res: FoldPairs[]; m: number } | undefined = m > 0 ? { folds, res, m } : undefined;
  for (let k = folds - 1; k >= 1 && fullFolds === 0 && !(allowFewer && some); k--) {
    const f = fill(inp, plan, k, r.perFold, r);
    if (f.m >= r.perFold) fullFolds = k;
    if (!some && f.m > 0) some = { folds: k, ...f };
  }
  if (allowFewer && some) return { ...some, usableImages, usableIdentities };
  const allows = m > 0 ? `${m} + ${m} per fold with ${nFolds(folds)} (${2 * m * folds} pairs)` : `no pairs in some of the ${nFolds(folds)}`;
  const smaller = fullFolds > 0 ? `; ${r.perFold} + ${r.perFold} per fold fits in ${nFolds(fullFolds)}` : some && some.folds !== folds ? `; at most ${some.m} + ${some.m} per fold with ${nFolds(some.folds)}` : '';
  const asked = `${nFolds(folds)} x (${r.perFold} positive + ${r.perFold} negative ${r.protocol} pairs)`;
  const data = `${usableImages} usable images of ${usableIdentities} identities, from ${inp.aligned} aligned of ${inp.records} records`;
  throw new InputError(
    { expected: `data for ${asked}`, found: `${data}: enough for ${allows}${smaller}` },
    some ? ['perFold', 'folds', 'allowFewer'] : [],
    [],
    `asked for ${asked}, but the data allows ${allows}${smaller}: ${data}${some ? '' : '; no pair can be drawn'}`,
  );
}

/** The sidecar of a drawn list (pure). */
function sidecarOf(inp: PairInputs, r: Resolved, d: Draw, allowFewer: boolean, exclude?: PairsOptions['exclude']): PairsSidecar {
  const { folds, m } = d;
  return {
    protocol: r.protocol,
    tool: 'ecaf',
    version: VERSION,
    seed: r.seed,
    parameters: {
      folds: r.folds,
      perFold: r.perFold,
      maxPerImage: r.maxPerImage,
      allowFewer,
      ...(r.protocol === 'cross-age' ? { minAgeGap: r.minAgeGap } : { childMaxAge: r.childMaxAge, adultMinAge: r.adultMinAge }),
    },
    folds,
    perFold: m,
    foldSize: 2 * m,
    pairs: 2 * m * folds,
    positives: m * folds,
    negatives: m * folds,
    imageNames: 'relative to image_data/img_mtcnn (<id>.jpg); img_ffhq holds <id>.png',
    inputs: { records: inp.records, aligned: inp.aligned, usableImages: d.usableImages, usableIdentities: d.usableIdentities },
    ...(exclude ? { excluded: { source: exclude.source, images: inp.excluded, flagged: excludedReasons(exclude.ids) } } : {}),
    ageBinYears: GAP_BIN_YEARS,
    ...pairStats(inp, d.res),
  };
}

/** The reasons of an exclusion list, counted by their kind (the words before " of", "(" or ":"). */
function excludedReasons(ids: ReadonlyMap<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const why of ids.values()) {
    const kind = why.split(/ of | \(|:/)[0]!.trim();
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/** Where the list goes; InputError for a .json name (the sidecar's). */
function listFile(options: PairsOptions, protocol: PairProtocol): string {
  const file = path.resolve(options.out ?? path.join(datasetLayout(options.root).pairs, `${protocol}.txt`));
  if (file.toLowerCase().endsWith('.json')) throw new InputError({ option: 'out', expected: 'a list file not named .json (its sidecar takes that name beside it)', actual: file });
  return file;
}

/**
 * Pairs as a stage (src/stage.ts) with one task, the list: `plan` draws it from the loaded
 * inputs (pure), `run` writes it and its sidecar atomically unless interrupted first.
 */
export function pairsStage(options: PairsOptions, timing: { loadSeconds: number } = { loadSeconds: 0 }): Stage<PairInputs, PairsTask, PairsOutcomeCode, PairsOutcome, PairsResult> {
  const r = resolve(options);
  const file = listFile(options, r.protocol);
  const allowFewer = Boolean(options.allowFewer);
  let planned: PairsTask | undefined;
  let drawSeconds = 0;
  return {
    name: 'pairs',
    codes: PAIRS_OUTCOMES,
    plan(inp) {
      const t = performance.now();
      const d = draw(inp, r, allowFewer);
      const meta = sidecarOf(inp, r, d, allowFewer, options.exclude);
      drawSeconds = (performance.now() - t) / 1000;
      planned = { id: file, text: formatPairList(inp, d.res), sidecar: sidecarPath(file), meta, fewer: d.m < r.perFold || d.folds < r.folds };
      return [planned];
    },
    async run(tasks, { signal, sink }) {
      for await (const task of tasks) {
        if (signal?.aborted) {
          sink({ id: task.id, code: 'dropped' });
          continue;
        }
        await writePairFiles(task.id, task.text, task.sidecar, task.meta);
        sink({ id: task.id, code: task.fewer ? 'fewer' : 'written' });
      }
    },
    summarize(tally, interrupted, seconds) {
      const meta = planned?.meta;
      return {
        stage: 'pairs',
        interrupted,
        outcomes: { ...tally.counts },
        seconds: seconds + timing.loadSeconds,
        file,
        sidecar: sidecarPath(file),
        protocol: r.protocol,
        folds: meta?.folds ?? 0,
        perFold: meta?.perFold ?? 0,
        pairs: meta?.pairs ?? 0,
        fewer: planned?.fewer ?? false,
        meta,
        loadSeconds: timing.loadSeconds,
        drawSeconds,
      };
    },
  };
}

/**
 * `ecaf pairs`: draw a protocol's pair list from the aligned records of `root` and write it
 * with its sidecar. Throws InputError (exit 2) when the data cannot fill the request, saying
 * what it allows; with allowFewer, writes that instead. Interrupted while reading, it writes nothing.
 */
export async function makePairs(options: PairsOptions): Promise<PairsResult> {
  const timing = { loadSeconds: 0 };
  const stage = pairsStage(options, timing);
  const t0 = performance.now();
  let inp: PairInputs;
  try {
    inp = await loadPairInputs(options.root, { skipInvalid: options.skipInvalid, progress: options.progress, signal: options.signal, ...(options.exclude ? { exclude: new Set(options.exclude.ids.keys()) } : {}) });
  } catch (err) {
    // stopped while reading: nothing to draw, nothing written
    if (options.signal?.aborted) return stage.summarize(emptyTally(PAIRS_OUTCOMES), true, (performance.now() - t0) / 1000);
    throw err;
  }
  timing.loadSeconds = (performance.now() - t0) / 1000;
  return runStage(stage, inp, { signal: options.signal });
}
