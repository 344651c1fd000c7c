import { impostorThreshold, quartiles, spearmanAgainstOrder, synthesisScores, type JudgeOutputs } from '../../src/synthesis/scores.js';

/** Seeded unit vectors (LCG + Box-Muller): the same every run. */
function unitVectors(n: number, dim: number, seed: number): Float32Array[] {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2147483648) + 1) / 2147483649;
  return Array.from({ length: n }, () => {
    const v = Float32Array.from({ length: dim }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('FAS scores', () => {
  const groups = [0, 1, 2, 3, 4, 5, 6];
  const n = 60;
  const inputs = unitVectors(n, 16, 7);
  const identity = inputs.map((_, i) => `person${i % 30}`);
  const age = Float64Array.from({ length: n }, (_, i) => 5 + i);
  const inputAge = Float64Array.from(age, (a) => a + 2);

  it('a generator that returns its input: every face verified, ages flat, nothing smooth', () => {
    const judge: JudgeOutputs = { input: inputs, inputAge, rendered: inputs.map((v) => groups.map(() => v)), renderedAge: inputs.map((_, i) => Float64Array.from(groups, () => inputAge[i]!)) };
    const s = synthesisScores({ groups, identity, age, judge });
    for (const g of s.groups) {
      expect(g.verificationRate).toBe(1);
      expect(g.cosine!.mean).toBeCloseTo(1, 5);
      // every group's faces are judged the inputs' ages: the same mean at every group
      expect(g.rendered!.mean).toBeCloseTo(s.groups[0]!.rendered!.mean, 9);
    }
    expect(s.smoothness).toEqual({ faces: n, monotone: 0, spearman: 0 });
    // the real faces of each group, by data.json age: ages 5..64 put 6 in 0-10, 10 in each decade, 4 over 60
    expect(s.groups.map((g) => g.real?.n ?? 0)).toEqual([6, 10, 10, 10, 10, 10, 4]);
  });

  it('a generator that ages perfectly and loses identity: smooth ages, no face verified', () => {
    const others = unitVectors(n * 7, 16, 99);
    const judge: JudgeOutputs = { input: inputs, inputAge, rendered: inputs.map((_, i) => groups.map((g) => others[i * 7 + g]!)), renderedAge: inputs.map(() => Float64Array.from(groups, (g) => 5 + 10 * g)) };
    const s = synthesisScores({ groups, identity, age, judge });
    expect(s.smoothness).toEqual({ faces: n, monotone: 1, spearman: 1 });
    expect(s.groups.map((g) => g.rendered!.mean)).toEqual([5, 15, 25, 35, 45, 55, 65]);
    // random 16-d vectors pass the impostor threshold about as often as impostors do (the FAR)
    for (const g of s.groups) expect(g.verificationRate!).toBeLessThan(0.1);
  });

  it('the threshold is the score impostor pairs pass at the FAR asked, by brute force', () => {
    const t = impostorThreshold(inputs, identity, 0.01)!;
    const imp: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i < j && identity[i] !== identity[j]) imp.push(cos(inputs[i]!, inputs[j]!));
    expect(t.impostorPairs).toBe(imp.length);
    const passing = imp.filter((c) => c > t.value).length;
    expect(passing / imp.length).toBeLessThanOrEqual(0.01);
    // one step lower would let more than the FAR through
    const next = Math.max(...imp.filter((c) => c < t.value));
    expect(imp.filter((c) => c > next).length / imp.length).toBeGreaterThan(0.01);
    expect(t.far).toBeCloseTo(passing / imp.length, 12);
  });

  it('one identity: no impostor pairs, no threshold, no rate', () => {
    const judge: JudgeOutputs = { input: inputs.slice(0, 3), inputAge: inputAge.slice(0, 3), rendered: inputs.slice(0, 3).map((v) => [v]), renderedAge: [0, 1, 2].map(() => Float64Array.of(30)) };
    const s = synthesisScores({ groups: [3], identity: ['a', 'a', 'a'], age: age.slice(0, 3), judge });
    expect(s.threshold).toBeNull();
    expect(s.groups[0]!.verificationRate).toBeNull();
    expect(s.smoothness).toBeNull();
  });

  it('quartiles interpolate as numpy does; Spearman ranks ties by their mean', () => {
    expect(quartiles([1, 2, 3, 4])).toEqual({ q1: 1.75, median: 2.5, q3: 3.25 });
    expect(quartiles([5])).toEqual({ q1: 5, median: 5, q3: 5 });
    expect(spearmanAgainstOrder([1, 2, 3])).toBeCloseTo(1, 12);
    expect(spearmanAgainstOrder([3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks 0, 1.5, 1.5 against 0, 1, 2: rho = 0.866...
    expect(spearmanAgainstOrder([1, 2, 2])).toBeCloseTo(Math.sqrt(3) / 2, 12);
  });
});
