import { emptySummary } from '../../src/dataset/load.js';
import { crossAgePlan, gapBin } from '../../src/pairs/cross-age.js';
import { GENDER_FEMALE, GENDER_MALE, GROUP_NONE, type PairInputs } from '../../src/pairs/inputs.js';
import { Prng } from '../../src/pairs/prng.js';
import { PairState, type PairIdx } from '../../src/pairs/select.js';
import { pairStats } from '../../src/pairs/stats.js';

/**
 * Folds far larger than a call's argument limit (Node overflows its stack near 125,000
 * arguments): nothing may spread a fold's pairs into one call.
 */
const K = 150_000;

/** K identities of two photos each, aged 20 and 35 (one positive each, all in the 15-19 gap bin), genders alternating. */
function twoPhotoIdentities(k: number): PairInputs {
  const n = 2 * k;
  const inp: PairInputs = {
    ids: Array.from({ length: n }, (_, i) => `P${i >> 1}_${i & 1}`),
    identity: Int32Array.from({ length: n }, (_, i) => i >> 1),
    age: Float64Array.from({ length: n }, (_, i) => (i & 1 ? 35 : 20)),
    gender: Uint8Array.from({ length: n }, (_, i) => ((i >> 1) % 2 ? GENDER_FEMALE : GENDER_MALE)),
    group: new Uint8Array(n).fill(GROUP_NONE),
    identities: Array.from({ length: k }, (_, j) => `P${j}`),
    personGender: Uint8Array.from({ length: k }, (_, j) => (j % 2 ? GENDER_FEMALE : GENDER_MALE)),
    start: Int32Array.from({ length: k + 1 }, (_, j) => 2 * j),
    records: n,
    aligned: n,
    excluded: 0,
    summary: emptySummary('data.json'),
  };
  return inp;
}

describe('pairs: folds of more than 125,000 pairs', () => {
  const inp = twoPhotoIdentities(K);

  it('pairStats sums a fold of 150,000 positives and 150,000 negatives', () => {
    const positives: PairIdx[] = Array.from({ length: K }, (_, j) => [2 * j, 2 * j + 1]);
    const negatives: PairIdx[] = Array.from({ length: K }, (_, j) => [2 * j, (2 * j + 5) % (2 * K)]);
    const s = pairStats(inp, [{ positives, negatives }]);
    expect(s.identitiesPerFold).toEqual([K]);
    expect(s.images).toBe(2 * K);
    expect(s.ageGapHistogram.positive).toEqual({ bins: [{ from: 15, to: 20, count: K }], unknown: 0 });
    expect(s.ageHistogram.positive.bins.reduce((n, b) => n + b.count, 0)).toBe(2 * K);
    expect(s.ageHistogram.negative.bins.reduce((n, b) => n + b.count, 0)).toBe(2 * K);
  });

  it('cross-age draws 150,000 negatives of one gap bin in one fold', () => {
    const plan = crossAgePlan(inp, 10, 2);
    const members = Array.from({ length: K }, (_, j) => j);
    const f = plan.fold(members, new Prng(7, 1), new PairState(inp.ids.length, 2), K);
    expect(f.positives.length).toBe(K);
    expect(f.negatives.length).toBe(K);
    // one expect over all pairs: a per-pair expect would cost jest more than the draw
    const wrong = f.negatives.filter(([a, b]) => gapBin(inp.age[b]! - inp.age[a]!) !== 3 || inp.identity[a] === inp.identity[b] || inp.personGender[inp.identity[a]!] !== inp.personGender[inp.identity[b]!]);
    expect(wrong).toEqual([]);
  });
});
