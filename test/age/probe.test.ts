import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWithPython, PYTHON } from '../helpers/python.js';
import { identityFolds } from '../../src/age/folds.js';
import { linearProbes, PROBE_ALPHAS, type AgeProbeResult, type GenderProbeResult, type ProbeInput } from '../../src/age/probe.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const withNumpy = describeWithPython(['numpy']);

/** Seeded normals (xorshift32 + Box-Muller): the same data every run. */
function normals(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/**
 * `people` x `per` rows of `dim`: a random direction per person plus noise; age uniform in
 * 5..75 and gender per person; `ageSignal` / `genderSignal` add them along dimensions 0 / 1.
 */
function synthetic(o: { seed: number; people: number; per: number; dim: number; ageSignal: number; genderSignal: number }): ProbeInput & { age: Float64Array; male: Int8Array } {
  const rnd = normals(o.seed);
  const n = o.people * o.per;
  const x = new Float32Array(n * o.dim);
  const age = new Float64Array(n);
  const male = new Int8Array(n);
  const identity: string[] = [];
  for (let p = 0; p < o.people; p++) {
    const centre = Array.from({ length: o.dim }, () => rnd());
    const m = rnd() > 0 ? 1 : 0;
    for (let k = 0; k < o.per; k++) {
      const i = p * o.per + k;
      identity.push(`person${p}`);
      age[i] = 40 + 35 * Math.tanh(rnd());
      male[i] = m;
      for (let j = 0; j < o.dim; j++) x[i * o.dim + j] = centre[j]! + 0.7 * rnd();
      x[i * o.dim]! += o.ageSignal * ((age[i]! - 40) / 20);
      x[i * o.dim + 1]! += o.genderSignal * (m ? 1 : -1);
    }
  }
  return { x, dim: o.dim, identity, age, male };
}

const isAge = (r: unknown): r is AgeProbeResult => typeof r === 'object' && r !== null && 'mae' in r;
const isGender = (r: unknown): r is GenderProbeResult => typeof r === 'object' && r !== null && 'accuracy' in r;

describe('identityFolds (GroupKFold rule)', () => {
  it('largest identity first, each into the emptiest fold, lowest fold on ties', () => {
    // counts a 3, b 1, c 2, d 2; order a, c, d (c seen first), b: a -> 0 (3 rows), c -> 1 (2),
    // d -> 1 (2 < 3: now 4), b -> 0 (3 < 4)
    const ids = ['a', 'b', 'a', 'c', 'd', 'a', 'c', 'd'];
    expect(Array.from(identityFolds(ids, 2))).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
  });

  it('no person in two folds, folds balanced to within the largest person', () => {
    const { identity } = synthetic({ seed: 3, people: 53, per: 1, dim: 2, ageSignal: 0, genderSignal: 0 });
    const ids = identity.flatMap((id, i) => Array.from({ length: 1 + (i % 7) }, () => id));
    const fold = identityFolds(ids, 5);
    const seen = new Map<string, number>();
    ids.forEach((id, i) => {
      expect(seen.get(id) ?? fold[i]).toBe(fold[i]);
      seen.set(id, fold[i]!);
    });
    const sizes = [0, 1, 2, 3, 4].map((f) => fold.filter((v) => v === f).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(7);
  });
});

describe('linearProbes on synthetic embeddings with a known answer', () => {
  it('age planted along one direction: MAE far below the median predictor; gender planted: far above the majority', () => {
    const r = linearProbes(synthetic({ seed: 1, people: 200, per: 4, dim: 32, ageSignal: 2, genderSignal: 2 }));
    if (!isAge(r.age) || !isGender(r.gender)) throw new Error(`probe skipped: ${JSON.stringify(r)}`);
    expect(r.age.samples).toBe(800);
    expect(r.age.identities).toBe(200);
    expect(r.age.ratio).toBeLessThan(0.5);
    expect(r.gender.accuracy).toBeGreaterThan(0.9);
    expect(r.gender.baselineAccuracy).toBeLessThan(0.65);
    expect(r.gender.logLoss).toBeLessThan(r.gender.baselineLogLoss / 2);
  });

  it('nothing planted: ratio about 1, accuracy about the majority', () => {
    const r = linearProbes(synthetic({ seed: 2, people: 200, per: 4, dim: 32, ageSignal: 0, genderSignal: 0 }));
    if (!isAge(r.age) || !isGender(r.gender)) throw new Error(`probe skipped: ${JSON.stringify(r)}`);
    expect(r.age.ratio).toBeGreaterThan(0.95);
    expect(r.age.ratio).toBeLessThan(1.1);
    // nothing to learn: the inner folds pick strong regularisation
    expect(Math.min(...r.age.alpha)).toBeGreaterThanOrEqual(0.01);
    expect(Math.abs(r.gender.accuracy - r.gender.baselineAccuracy)).toBeLessThan(0.08);
  });

  it('identity leak: a per-person age held by a person-specific direction does not count (folds split by person)', () => {
    // every person's images share an age, and the person's random centre identifies them; a
    // row-wise split would memorise age by person, the identity split cannot
    const s = synthetic({ seed: 4, people: 150, per: 6, dim: 32, ageSignal: 0, genderSignal: 0 });
    for (let i = 0; i < s.age.length; i++) s.age[i] = s.age[i - (i % 6)]!;
    const r = linearProbes(s);
    if (!isAge(r.age)) throw new Error(`probe skipped: ${JSON.stringify(r)}`);
    expect(r.age.ratio).toBeGreaterThan(0.95);
  });

  it('skipped with a reason when fewer people than folds carry the label', () => {
    const s = synthetic({ seed: 5, people: 8, per: 3, dim: 8, ageSignal: 1, genderSignal: 1 });
    s.age.fill(Number.NaN, 0, 6 * 3); // only 2 people keep an age
    const r = linearProbes(s);
    expect(r.age).toEqual({ skipped: '2 people with an age: the probe needs at least 5 (one per fold)' });
    expect(isGender(r.gender)).toBe(true);
    expect(linearProbes({ x: s.x, dim: s.dim, identity: s.identity })).toEqual({ age: { skipped: 'no ages' }, gender: { skipped: 'no genders' } });
    expect(linearProbes({ ...s, male: new Int8Array(s.male.length) }).gender).toEqual({ skipped: 'all 24 images are labelled female: nothing to tell apart' });
  });
});

withNumpy('against the numpy reference (test/age/probe_ref.py)', () => {
  const cases = [
    { name: 'same rows labelled for both', s: synthetic({ seed: 11, people: 60, per: 5, dim: 12, ageSignal: 1, genderSignal: 0.6 }), drop: false },
    { name: 'some ages and genders unknown (separate row sets), 3 folds', s: synthetic({ seed: 12, people: 45, per: 6, dim: 10, ageSignal: 0.7, genderSignal: 0.3 }), drop: true, folds: 3 },
  ];
  for (const c of cases) {
    it(`${c.name}: equal MAE, accuracy, cross-entropy and chosen strengths`, () => {
      const { s } = c;
      if (c.drop) {
        for (let i = 0; i < s.age.length; i += 7) s.age[i] = Number.NaN;
        for (let i = 3; i < s.male.length; i += 5) s.male[i] = -1;
      }
      const folds = c.folds ?? 5;
      const ours = linearProbes(s, { folds });
      const rows = Array.from({ length: s.identity.length }, (_, i) => Array.from(s.x.subarray(i * s.dim, (i + 1) * s.dim)));
      const run = spawnSync(PYTHON, [path.join(HERE, 'probe_ref.py')], {
        input: JSON.stringify({ x: rows, identity: s.identity, age: Array.from(s.age, (a) => (Number.isFinite(a) ? a : null)), male: Array.from(s.male), folds, alphas: PROBE_ALPHAS }),
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      expect(run.stderr).toBe('');
      const ref = JSON.parse(run.stdout) as {
        age: { mae: number; baselineMae: number; ratio: number; foldMae: number[]; alpha: number[] };
        gender: { accuracy: number; baselineAccuracy: number; foldAccuracy: number[]; logLoss: number; baselineLogLoss: number; alpha: number[] };
      };
      if (!isAge(ours.age) || !isGender(ours.gender)) throw new Error(`probe skipped: ${JSON.stringify(ours)}`);
      expect(ours.age.alpha).toEqual(ref.age.alpha);
      for (const k of ['mae', 'baselineMae', 'ratio'] as const) expect(Math.abs(ours.age[k] - ref.age[k])).toBeLessThan(1e-8);
      ours.age.foldMae.forEach((m, f) => expect(Math.abs(m - ref.age.foldMae[f]!)).toBeLessThan(1e-8));
      expect(ours.gender.alpha).toEqual(ref.gender.alpha);
      expect(ours.gender.accuracy).toBe(ref.gender.accuracy);
      expect(ours.gender.baselineAccuracy).toBe(ref.gender.baselineAccuracy);
      expect(ours.gender.foldAccuracy).toEqual(ref.gender.foldAccuracy);
      // the cross-entropy moves with every weight: it pins the logistic optimum itself
      expect(Math.abs(ours.gender.logLoss - ref.gender.logLoss)).toBeLessThan(1e-7);
      expect(Math.abs(ours.gender.baselineLogLoss - ref.gender.baselineLogLoss)).toBeLessThan(1e-12);
      // not trivial: something to read, and not everything
      expect(ours.age.ratio).toBeGreaterThan(0.3);
      expect(ours.age.ratio).toBeLessThan(0.95);
      expect(ours.gender.accuracy).toBeLessThan(1);
    }, 120000);
  }
});
