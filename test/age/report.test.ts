import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgeSample } from '../../src/age/metrics.js';
import { ageReportMarkdown, buildAgeReport, LABELS_NOTE, writeAgeFiles } from '../../src/age/report.js';
import { combineEstimates, packEstimate, readEstimate } from '../../src/models/estimates.js';
import { tempDir } from '../helpers/tmp.js';

/** 12 people x 3 images, 4-d unit embeddings whose first coordinate follows age. */
function input(withEstimates: boolean) {
  const samples: AgeSample[] = [];
  const identity: string[] = [];
  const dim = 4;
  const embeddings = new Float32Array(36 * dim);
  for (let i = 0; i < 36; i++) {
    const person = Math.floor(i / 3);
    const age = 5 + ((person * 7 + (i % 3) * 13) % 70);
    samples.push({ id: `p${person}_${i % 3}`, trueAge: age, predictedAge: withEstimates ? age + (i % 2 ? 3 : -8) : Number.NaN, trueGender: person % 2 ? 'male' : 'female', predictedGender: withEstimates ? 'male' : null });
    identity.push(`p${person}`);
    const v = [age / 40, Math.sin(person), Math.cos(person), (person % 2) - 0.5];
    const norm = Math.hypot(...v);
    v.forEach((c, j) => (embeddings[i * dim + j] = c / norm));
  }
  return { samples, identity, embeddings, dim };
}

describe('the age section of a report', () => {
  it('with estimates: scores, per group table, the probe, the Face++ note; ages.csv and ages.svg written', async () => {
    const a = input(true);
    const r = buildAgeReport({ ...a, heads: { age: true, gender: true, ageGroups: false, weightsKey: 'k' } });
    expect(r.note).toBe(LABELS_NOTE);
    expect(r.labelledImages).toBe(36);
    expect(r.estimation).toMatchObject({ images: 36, mae: 5.5, bias: -2.5, genderAccuracy: 0.5, heads: { age: true, gender: true, ageGroups: false } });
    expect('mae' in r.probe.age && r.probe.age.identities).toBe(12);
    const md = ageReportMarkdown(r).join('\n');
    expect(md).toContain('Face++ estimates');
    expect(md).toContain('MAE **5.50 years** (bias -2.50)');
    expect(md).toContain('| 0-10 |');
    expect(md).toContain('gender accuracy 50.0%');
    expect(md).not.toContain('group head');
    expect(md).toMatch(/ratio \*\*\d\.\d{3}\*\*/);
    const { dir, cleanup } = await tempDir();
    try {
      await writeAgeFiles(dir, r, a.samples, 'builtin');
      expect((await readFile(path.join(dir, 'ages.csv'), 'utf8')).split('\n')[1]).toBe('p0_0,5,-3,female,male');
      expect(await readFile(path.join(dir, 'ages.svg'), 'utf8')).toContain('<circle');
    } finally {
      await cleanup();
    }
  });

  it('without estimates: the probe only, no files', async () => {
    const a = input(false);
    const r = buildAgeReport({ ...a, heads: undefined });
    expect(r.estimation).toBeNull();
    expect(ageReportMarkdown(r).join('\n')).toContain('no age or gender head');
    const { dir, cleanup } = await tempDir();
    try {
      await writeAgeFiles(dir, r, a.samples, 'x');
      await expect(readFile(path.join(dir, 'ages.csv'))).rejects.toThrow(/ENOENT/);
    } finally {
      await cleanup();
    }
  });
});

describe('estimates: flip views averaged, cache rows', () => {
  it('averages an image and its mirror (age, male probability, group logits)', () => {
    const e = combineEstimates({ age: Float32Array.of(10, 20, 14, 30), male: Float32Array.of(0.2, 0.9, 0.4, 0.7), ageGroupLogits: new Float32Array(28).map((_, i) => i) }, 2, true);
    expect(Array.from(e.age)).toEqual([12, 25]);
    const f = Math.fround;
    expect(Array.from(e.male)).toEqual([f((f(0.2) + f(0.4)) / 2), f((f(0.9) + f(0.7)) / 2)]);
    expect(Array.from(e.ageGroupLogits!.subarray(0, 7))).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(Array.from(combineEstimates(e, 2, false).age)).toEqual([12, 25]);
    // mirrors left without an estimate (a second network run on the originals only): the original's
    expect(Array.from(combineEstimates({ age: Float32Array.of(10, 20, Number.NaN, Number.NaN), male: Float32Array.of(0.5, 1, Number.NaN, Number.NaN) }, 2, true).age)).toEqual([10, 20]);
  });

  it('a cache row reads back as age, gender (male above 0.5) and the group head argmax', () => {
    const row = packEstimate({ age: Float32Array.of(33), male: Float32Array.of(0.25), ageGroupLogits: Float32Array.of(0, 1, 5, 2, 0, 0, 0) }, 0);
    expect(readEstimate(row)).toEqual({ age: 33, gender: 'female', ageGroup: 2 });
    expect(readEstimate(packEstimate({ age: Float32Array.of(Number.NaN), male: Float32Array.of(Number.NaN) }, 0))).toEqual({ age: Number.NaN, gender: null, ageGroup: null });
  });
});
