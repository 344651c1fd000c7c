import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACCURACY_THRESHOLDS,
  equalErrorRate,
  kFoldAccuracy,
  meanStd,
  rocAuc,
  rocCurve,
  slinearAt,
  tarAtFar,
  tarAtFarPooled,
  type ScoredPairs,
} from '../../src/benchmark/metrics.js';
import { contiguousFolds } from '../../src/pairs/read.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function pairs(dist: number[], same: number[], folds: number, fold?: number[]): ScoredPairs {
  return {
    dist: Float64Array.from(dist),
    same: Uint8Array.from(same),
    fold: Int32Array.from(fold ?? contiguousFolds(dist.length, folds)),
    folds,
  };
}

describe('kFoldAccuracy (insightface calculate_roc), by hand', () => {
  it('picks the first best threshold on the other fold and scores the held-out one', () => {
    // fold 0: same at 0.5, different at 1.5; fold 1: same at 0.7, different at 1.2
    const r = kFoldAccuracy(pairs([0.5, 1.5, 0.7, 1.2], [1, 0, 1, 0], 2));
    // fold 0 trains on fold 1: first grid value above 0.7 is 70 * 0.01 = 0.7000000000000001
    // fold 1 trains on fold 0: first value above 0.5 is 0.51 (0.5 < 0.5 is false), misses 0.7
    expect(ACCURACY_THRESHOLDS[70]).toBe(0.7000000000000001);
    expect(r.foldThreshold).toEqual([ACCURACY_THRESHOLDS[70], 0.51]);
    expect(r.foldAccuracy).toEqual([1, 0.5]);
    expect(r.mean).toBe(0.75);
    expect(r.std).toBe(0.25);
    // averaged ROC: at threshold 0.6 fold 0 accepts its positive, fold 1 accepts nothing
    expect(r.tpr[60]).toBe(0.5);
    expect(r.fpr[60]).toBe(0);
    expect(r.tpr[399]).toBe(1);
    expect(r.fpr[399]).toBe(1);
  });

  it('uses the fold each pair carries (CALFW-style, not contiguous)', () => {
    const contiguous = kFoldAccuracy(pairs([0.5, 1.5, 0.7, 1.2], [1, 0, 1, 0], 2));
    const shuffled = kFoldAccuracy(pairs([0.5, 0.7, 1.5, 1.2], [1, 1, 0, 0], 2, [0, 1, 0, 1]));
    expect(shuffled.foldAccuracy).toEqual(contiguous.foldAccuracy);
  });
});

describe('tarAtFar and scipy slinear interpolation, by hand', () => {
  it('interpolates on the last segment that starts at or below the target', () => {
    const x = [0, 0, 0.25, 0.5, 1];
    const y = [0, 1, 2, 3, 4];
    expect(slinearAt(x, y, 0.1)).toBeCloseTo(1.4, 15);
    expect(slinearAt(x, y, 0)).toBe(1);
    expect(slinearAt(x, y, 1)).toBe(4);
  });

  it('threshold 0 when the training FAR never reaches the target', () => {
    // every negative is far (dist 3.999 is not below any threshold of the 0.001 grid): FAR stays 0
    const r = tarAtFar(pairs([0.1, 3.9995, 0.2, 3.9995], [1, 0, 1, 0], 2), 1e-3);
    expect(r.foldThreshold).toEqual([0, 0]);
    expect(r.tar).toBe(0);
    expect(r.far).toBe(0);
  });

  it('accepts what lies below the interpolated threshold', () => {
    // 2 folds of 1 positive + 2 negatives; train FAR jumps 0 -> 0.5 -> 1 at the negatives' distances
    const r = tarAtFar(pairs([0.3, 1.0, 2.0, 0.4, 1.0, 2.0], [1, 0, 0, 1, 0, 0], 2), 0.25);
    // FAR 0 holds up to grid 1.000 (dist < 1.000 is false), 0.5 from 1.001: interpolating 0.25
    // between (0, 1.000) and (0.5, 1.001) gives 1.0005, which the held-out negative at 1.0 passes
    expect(r.foldThreshold[0]).toBeCloseTo(1.0005, 12);
    expect(r.foldTar).toEqual([1, 1]);
    expect(r.foldFar).toEqual([0.5, 0.5]);
    expect(r.far).toBe(0.5);
  });
});

describe('pooled ROC, AUC, EER, by hand', () => {
  const roc = rocCurve(Float64Array.from([0.9, 0.8, 0.7, 0.1]), Uint8Array.from([1, 0, 1, 0]));
  it('has one point per distinct score', () => {
    expect(Array.from(roc.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(roc.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(roc.thresholds)).toEqual([Infinity, 0.9, 0.8, 0.7, 0.1]);
  });
  it('AUC 0.75, EER 0.5, TAR@FAR from the step curve', () => {
    expect(rocAuc(roc)).toBe(0.75);
    expect(equalErrorRate(roc)).toBe(0.5);
    expect(tarAtFarPooled(roc, [0, 0.49, 0.5, 1])).toEqual([0.5, 0.5, 1, 1]);
  });
  it('agrees with a plain sort of all scores on random data, NaN ranked last', () => {
    const score = Float64Array.from({ length: 500 }, (_, i) => Math.round(Math.sin(i * 12.9898) * 20) / 20);
    score[7] = Number.NaN;
    const same = Uint8Array.from({ length: 500 }, (_, i) => (i * 7919) % 3 === 0 ? 1 : 0);
    const r = rocCurve(score, same);
    const P = same.reduce((a, b) => a + b, 0);
    const keyed = Array.from(score, (s) => (Number.isNaN(s) ? -Infinity : s));
    const distinct = [...new Set(keyed)].sort((a, b) => b - a);
    expect(Array.from(r.thresholds.subarray(1))).toEqual(distinct);
    distinct.forEach((t, k) => {
      const tp = keyed.filter((s, i) => s >= t && same[i]).length;
      const fp = keyed.filter((s, i) => s >= t && !same[i]).length;
      expect([r.tpr[k + 1], r.fpr[k + 1]]).toEqual([tp / P, fp / (500 - P)]);
    });
  });
  it('ties share one point (AUC counts them half)', () => {
    const tied = rocCurve(Float64Array.from([0.5, 0.5]), Uint8Array.from([1, 0]));
    expect(Array.from(tied.fpr)).toEqual([0, 1]);
    expect(rocAuc(tied)).toBe(0.5);
  });
});

/** Random score sets, also with distances sitting exactly on grid thresholds and uneven folds. */
function randomSet(seed: number, n: number, folds: number, quantized: boolean): { dist: number[]; same: number[]; folds: number } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const dist: number[] = [];
  const same: number[] = [];
  for (let i = 0; i < n; i++) {
    const pos = (i % 20) < 10 ? 1 : 0;
    let d = pos ? 0.2 + 1.4 * rand() + 0.3 * rand() : 1.0 + 1.6 * rand() + 0.4 * rand();
    if (quantized) d = Math.round(d * 100) * 0.01;
    dist.push(d);
    same.push(pos);
  }
  return { dist, same, folds };
}

/** What insightface_ref.py --fixture wrote: each set's inputs and the numpy/scipy reference's results on them. */
interface RefFixture {
  cases: {
    seed: number;
    pairs: number;
    folds: number;
    quantized: boolean;
    input: { dist: number[]; issame: boolean[]; folds: number; far_targets: number[] };
    reference: {
      accuracy: number[];
      mean: number;
      std: number;
      best_thresholds: number[];
      tpr: number[];
      fpr: number[];
      val: { target: number; tar: number; tar_std: number; far: number; thresholds: number[] }[];
    };
  }[];
}

describe('against the numpy/scipy reference of insightface (test/benchmark/insightface_ref.py)', () => {
  // the reference's outputs are committed (regenerate: /usr/bin/python3 test/benchmark/insightface_ref.py --fixture)
  const fixture = JSON.parse(readFileSync(path.join(HERE, 'fixtures', 'insightface_ref.json'), 'utf8')) as RefFixture;
  const cases = [randomSet(1, 600, 10, false), randomSet(7, 1003, 7, false), randomSet(42, 800, 10, true)];
  const targets = [1e-3, 1e-2, 0.1];
  it('the fixture holds exactly the sets this file makes', () => {
    expect(fixture.cases.map((f) => f.input)).toEqual(cases.map((c) => ({ dist: c.dist, issame: c.same.map(Boolean), folds: c.folds, far_targets: targets })));
  });
  for (const [i, c] of cases.entries()) {
    it(`case ${i}: ${c.dist.length} pairs, ${c.folds} folds: equal accuracy, std, thresholds and TAR to 1e-9`, () => {
      const ref = fixture.cases[i]!.reference;
      const p = pairs(c.dist, c.same, c.folds);
      const acc = kFoldAccuracy(p);
      acc.foldAccuracy.forEach((a, f) => expect(Math.abs(a - ref.accuracy[f]!)).toBeLessThan(1e-9));
      expect(Math.abs(acc.mean - ref.mean)).toBeLessThan(1e-9);
      expect(Math.abs(acc.std - ref.std)).toBeLessThan(1e-9);
      expect(acc.foldThreshold).toEqual(ref.best_thresholds);
      acc.tpr.forEach((t, k) => expect(Math.abs(t - ref.tpr[k]!)).toBeLessThan(1e-9));
      acc.fpr.forEach((t, k) => expect(Math.abs(t - ref.fpr[k]!)).toBeLessThan(1e-9));
      expect(ref.val.map((v) => v.target)).toEqual(targets);
      for (const v of ref.val) {
        const ours = tarAtFar(p, v.target);
        expect(Math.abs(ours.tar - v.tar)).toBeLessThan(1e-9);
        expect(Math.abs(ours.tarStd - v.tar_std)).toBeLessThan(1e-9);
        expect(Math.abs(ours.far - v.far)).toBeLessThan(1e-9);
        ours.foldThreshold.forEach((t, f) => expect(Math.abs(t - v.thresholds[f]!)).toBeLessThan(1e-9));
      }
      // the sets are not trivial: accuracy between chance and perfect
      expect(acc.mean).toBeGreaterThan(0.6);
      expect(acc.mean).toBeLessThan(0.99);
    });
  }
});

describe('meanStd', () => {
  it('is numpy mean and population std', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(1.25) });
  });
});
