import { AGE_GROUPS, ageGroupOf } from '../../src/dataset/age-groups.js';
import { agesCsv, ageScatterSvg, evaluateAges, type AgeSample } from '../../src/age/metrics.js';

const s = (id: string, trueAge: number, predictedAge: number, trueGender: AgeSample['trueGender'] = null, predictedGender: AgeSample['predictedGender'] = null): AgeSample => ({
  id,
  trueAge,
  predictedAge,
  trueGender,
  predictedGender,
});

describe("MTLFace's 7 age groups", () => {
  it('split at 10/20/30/40/50/60, upper bound inclusive; fractional estimates fall above', () => {
    expect(AGE_GROUPS.map((g) => g.label)).toEqual(['0-10', '11-20', '21-30', '31-40', '41-50', '51-60', '61+']);
    expect([0, 10, 10.5, 11, 20, 21, 60, 60.2, 61, 100].map(ageGroupOf)).toEqual([0, 0, 1, 1, 1, 2, 5, 6, 6, 6]);
  });
});

describe('evaluateAges, by hand', () => {
  const samples = [
    s('a', 8, 12, 'male', 'male'), // err +4: within 5, group 0 vs 1
    s('b', 9, 9, 'female', 'male'), // err 0, same group
    s('c', 35, 45, 'male', 'male'), // err +10, 31-40 vs 41-50
    s('d', 38, 36, 'female', 'female'), // err -2, same group
    s('e', Number.NaN, 30, 'male', 'female'), // no label age: gender only
    s('f', 70, Number.NaN, 'male', null), // no estimate: nothing
  ];
  const r = evaluateAges(samples);

  it('overall: MAE, bias, CS@5, group accuracy on images with both ages; gender on images with both genders', () => {
    expect(r.images).toBe(4);
    expect(r.mae).toBe((4 + 0 + 10 + 2) / 4);
    expect(r.bias).toBe((4 + 0 + 10 - 2) / 4);
    expect(r.cs5).toBe(3 / 4);
    expect(r.groupAccuracy).toBe(2 / 4);
    expect(r.genderImages).toBe(5);
    expect(r.genderAccuracy).toBe(3 / 5);
  });

  it('per age group of the label; an empty group reports zero images and NaN', () => {
    const g0 = r.byGroup[0]!;
    expect(g0).toMatchObject({ group: '0-10', images: 2, mae: 2, cs5: 1, groupAccuracy: 0.5, genderImages: 2, genderAccuracy: 0.5 });
    const g3 = r.byGroup[3]!;
    expect(g3).toMatchObject({ group: '31-40', images: 2, mae: 6, cs5: 0.5, groupAccuracy: 0.5, genderAccuracy: 1 });
    expect(r.byGroup[6]).toMatchObject({ group: '61+', images: 0, genderImages: 0 });
    expect(r.byGroup[6]!.mae).toBeNaN();
    expect(r.byGroup.reduce((n, g) => n + g.images, 0)).toBe(r.images);
  });

  it("a group head's picks are scored against the label's group where present", () => {
    const h = evaluateAges([{ ...s('a', 8, 12), predictedGroup: 0 }, { ...s('b', 35, 30), predictedGroup: 2 }, { ...s('c', 70, 71), predictedGroup: null }, s('d', 40, 40)]);
    expect(h.groupHeadImages).toBe(2);
    expect(h.groupHeadAccuracy).toBe(0.5);
    expect(r.groupHeadImages).toBe(0);
    expect(r.groupHeadAccuracy).toBeNaN();
  });
});

describe('ages.csv and the scatter plot', () => {
  it('one row per image, empty fields where unknown, ids quoted when needed', () => {
    const csv = agesCsv([s('a', 8, 12.3456, 'male', 'female'), s('x,"y"', Number.NaN, 30, null, null)]);
    expect(csv).toBe('id,true_age,predicted_age,true_gender,predicted_gender\na,8,12.346,male,female\n"x,""y""",,30,,\n');
  });

  it('a dot per image with both ages, titled, the diagonal drawn', () => {
    const svg = ageScatterSvg([s('a', 8, 12), s('b', 40, 41), s('c', Number.NaN, 3)], 'builtin & co');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('builtin &amp; co');
    expect(svg).toContain('<title>a: 8 -&gt; 12</title>');
  });
});
