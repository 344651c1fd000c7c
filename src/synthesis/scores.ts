/**
 * Face age synthesis scores, the paper's protocol (docs/reference.md, 5b) with an open judge in
 * place of the Face++ web API. Pure functions over what a judge said of the inputs and of the
 * rendered faces: aging accuracy, identity preservation, age smoothness.
 */
import { AGE_GROUPS, ageGroupOf } from '../dataset/age-groups.js';

/** What one judge said of the faces: unit embeddings and estimated ages (NaN: none). */
export interface JudgeOutputs {
  /** Per input face: its unit embedding (undefined: not embedded). */
  input: (Float32Array | undefined)[];
  inputAge: Float64Array;
  /** Per input face, per rendered group (in `groups` order). */
  rendered: (Float32Array | undefined)[][];
  renderedAge: Float64Array[];
}

export interface ScoreInput {
  /** The age groups rendered, ascending. */
  groups: readonly number[];
  /** Per input face: data.json's identity (faces without one count as their own). */
  identity: readonly string[];
  /** Per input face: data.json's age in years (NaN: none). */
  age: Float64Array;
  judge: JudgeOutputs;
}

export interface Quartiles {
  q1: number;
  median: number;
  q3: number;
}

export interface GroupScores {
  group: number;
  label: string;
  /** The judge's ages of the faces rendered at this group. */
  rendered: { n: number; mean: number; std: number } | null;
  /** The judge's ages of the real inputs whose data.json age is in this group. */
  real: { n: number; mean: number; std: number } | null;
  /** Cosine between each input and its face at this group. */
  cosine: ({ n: number; mean: number } & Quartiles) | null;
  /** Share of the rendered faces whose cosine to their input is at or above the threshold. */
  verificationRate: number | null;
}

export interface SynthesisScores {
  groups: GroupScores[];
  /** The judge's threshold: the cosine impostor pairs of the real inputs pass at the FAR below. */
  threshold: { value: number; far: number; farTarget: number; impostorPairs: number } | null;
  /** Of the faces with a judged age at every group: the share whose age rises at every step, and the mean Spearman rho of age against group. */
  smoothness: { faces: number; monotone: number; spearman: number } | null;
}

export const FAR_TARGET = 1e-3;

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

function stats(values: number[]): { n: number; mean: number; std: number } | null {
  if (!values.length) return null;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  return { n: values.length, mean, std };
}

/** Quartiles by linear interpolation between order statistics (numpy's default). */
export function quartiles(values: readonly number[]): Quartiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const x = q * (s.length - 1);
    const lo = Math.floor(x);
    const hi = Math.min(lo + 1, s.length - 1);
    return s[lo]! + (s[hi]! - s[lo]!) * (x - lo);
  };
  return { q1: at(0.25), median: at(0.5), q3: at(0.75) };
}

/**
 * The lowest cosine t that impostor pairs (inputs of different identities) exceed at a rate of at
 * most `farTarget`: the k-th highest impostor score, k = floor(farTarget * pairs), so the FAR
 * reached is k / pairs (0 with fewer than 1 / farTarget pairs: then t is the highest impostor score).
 */
export function impostorThreshold(input: readonly (Float32Array | undefined)[], identity: readonly string[], farTarget = FAR_TARGET): SynthesisScores['threshold'] {
  const scores: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const a = input[i];
    if (!a) continue;
    for (let j = i + 1; j < input.length; j++) {
      const b = input[j];
      if (b && identity[i] !== identity[j]) scores.push(dot(a, b));
    }
  }
  if (!scores.length) return null;
  scores.sort((a, b) => b - a);
  const k = Math.floor(farTarget * scores.length);
  // a pair passes at score > value: the k pairs above the (k+1)-th score pass
  return { value: scores[k]!, far: k / scores.length, farTarget, impostorPairs: scores.length };
}

/** Spearman's rho of the values against their positions (ties by mean rank). */
export function spearmanAgainstOrder(values: readonly number[]): number {
  const n = values.length;
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const rank = new Array<number>(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) rank[order[k]![1]] = (i + j) / 2;
    i = j + 1;
  }
  const m = (n - 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - m) * (rank[i]! - m);
    sxx += (i - m) ** 2;
    syy += (rank[i]! - m) ** 2;
  }
  return syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

export function synthesisScores(s: ScoreInput): SynthesisScores {
  const { judge, groups } = s;
  const faces = judge.input.length;
  const threshold = impostorThreshold(judge.input, s.identity);
  const perGroup = groups.map((group, gi): GroupScores => {
    const ages: number[] = [];
    const cos: number[] = [];
    for (let i = 0; i < faces; i++) {
      const a = judge.renderedAge[i]![gi]!;
      if (Number.isFinite(a)) ages.push(a);
      const e = judge.input[i];
      const r = judge.rendered[i]![gi];
      if (e && r) cos.push(dot(e, r));
    }
    const real: number[] = [];
    for (let i = 0; i < faces; i++) if (Number.isFinite(s.age[i]!) && ageGroupOf(s.age[i]!) === group && Number.isFinite(judge.inputAge[i]!)) real.push(judge.inputAge[i]!);
    return {
      group,
      label: AGE_GROUPS[group]!.label,
      rendered: stats(ages),
      real: stats(real),
      cosine: cos.length ? { ...stats(cos)!, ...quartiles(cos) } : null,
      verificationRate: cos.length && threshold ? cos.filter((c) => c > threshold.value).length / cos.length : null,
    };
  });
  let monotone = 0;
  let rho = 0;
  let counted = 0;
  if (groups.length >= 2) {
    for (let i = 0; i < faces; i++) {
      const ages = Array.from(judge.renderedAge[i]!);
      if (!ages.every(Number.isFinite)) continue;
      counted++;
      if (ages.every((a, k) => k === 0 || a > ages[k - 1]!)) monotone++;
      rho += spearmanAgainstOrder(ages);
    }
  }
  return { groups: perGroup, threshold, smoothness: counted ? { faces: counted, monotone: monotone / counted, spearman: rho / counted } : null };
}
