import { umeyama, applySimilarity, invertSimilarity, similarityScale, meanDistance, type Point } from '../../src/align/similarity.js';
import { ARCFACE_TEMPLATE_112, mtcnnTemplate, points5From68 } from '../../src/align/template.js';
import { iou, centralityScore, chooseFace, rectangleBox, type Box } from '../../src/align/select.js';

/** A deterministic generator, so the noisy cases are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('umeyama', () => {
  it('recovers a known rotation, scale and translation exactly from clean points', () => {
    const theta = 0.4, scale = 1.7;
    const truth = { a: scale * Math.cos(theta), b: scale * Math.sin(theta), tx: 12.5, ty: -40 };
    const src: Point[] = [[10, 20], [80, 25], [45, 60], [20, 95], [75, 90]];
    const fit = umeyama(src, src.map((p) => applySimilarity(truth, p)));
    expect(fit.a).toBeCloseTo(truth.a, 10);
    expect(fit.b).toBeCloseTo(truth.b, 10);
    expect(fit.tx).toBeCloseTo(truth.tx, 8);
    expect(fit.ty).toBeCloseTo(truth.ty, 8);
  });

  it('recovers it within the noise from noisy points', () => {
    const rnd = lcg(7);
    const truth = { a: 0.9 * Math.cos(-1.1), b: 0.9 * Math.sin(-1.1), tx: 300, ty: 120 };
    const src: Point[] = Array.from({ length: 200 }, () => [rnd() * 500, rnd() * 500]);
    const noisy = src.map((p) => applySimilarity(truth, p)).map(([x, y]) => [x + (rnd() - 0.5), y + (rnd() - 0.5)] as Point);
    const fit = umeyama(src, noisy);
    expect(similarityScale(fit)).toBeCloseTo(0.9, 3);
    expect(Math.atan2(fit.b, fit.a)).toBeCloseTo(-1.1, 3);
    expect(Math.abs(fit.tx - 300)).toBeLessThan(0.3);
    expect(Math.abs(fit.ty - 120)).toBeLessThan(0.3);
  });

  it('is the least-squares fit: any nudge of it has a larger residual', () => {
    const rnd = lcg(3);
    const src: Point[] = Array.from({ length: 5 }, () => [rnd() * 100, rnd() * 100]);
    const dst: Point[] = Array.from({ length: 5 }, () => [rnd() * 100, rnd() * 100]);
    const fit = umeyama(src, dst);
    const residual = (t: typeof fit) => src.reduce((s, p, i) => s + (applySimilarity(t, p)[0] - dst[i]![0]) ** 2 + (applySimilarity(t, p)[1] - dst[i]![1]) ** 2, 0);
    const best = residual(fit);
    for (const k of ['a', 'b', 'tx', 'ty'] as const) {
      for (const d of [-1e-3, 1e-3]) expect(residual({ ...fit, [k]: fit[k] + d })).toBeGreaterThan(best);
    }
  });

  it('inverts', () => {
    const t = { a: 1.2, b: -0.3, tx: 5, ty: 7 };
    const p: Point = [13, -4];
    const back = applySimilarity(invertSimilarity(t), applySimilarity(t, p));
    expect(back[0]).toBeCloseTo(13, 10);
    expect(back[1]).toBeCloseTo(-4, 10);
  });
});

describe('5-point template', () => {
  it('is insightface\'s ArcFace template, scaled for other sizes', () => {
    expect(mtcnnTemplate(112)).toEqual(ARCFACE_TEMPLATE_112.map((p) => [...p]));
    expect(mtcnnTemplate(224)[0]).toEqual([38.2946 * 2, 51.6963 * 2]);
    // 128 is not a multiple of 112: ratio 1 and +8 px on x (MTLFace's 96x112 + 8 form)
    expect(mtcnnTemplate(128)[1]![0]).toBeCloseTo(73.5318 + 8, 10);
    expect(mtcnnTemplate(128)[1]![1]).toBeCloseTo(51.5014, 10);
  });

  it('takes the eye centres (36-41, 42-47), nose tip 30 and mouth corners 48, 54 from 68 points', () => {
    const lm: Point[] = Array.from({ length: 68 }, (_, i) => [i, 1000 + i]);
    expect(points5From68(lm)).toEqual([[38.5, 1038.5], [44.5, 1044.5], [30, 1030], [48, 1048], [54, 1054]]);
  });
});

describe('face choice', () => {
  it('computes IoU', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(50 / 150, 12);
    expect(iou([0, 0, 10, 10], [20, 20, 5, 5])).toBe(0);
    expect(rectangleBox({ top: 1, left: 2, width: 3, height: 4 })).toEqual([2, 1, 3, 4]);
  });

  it('uses x against the width and y against the height (not MTLFace\'s swapped offset)', () => {
    // a wide 1000x200 image: the face at the centre wins; with x and y swapped the offsets
    // would be measured from (100, 500) and the face at x=80 would win instead
    const centre: Box = [480, 80, 40, 40];
    const left: Box = [60, 80, 40, 40];
    expect(centralityScore(centre, 1000, 200)).toBe(1600);
    expect(centralityScore(left, 1000, 200)).toBe(1600 - 2 * 420 * 420);
    expect(chooseFace([{ box: left, score: 1 }, { box: centre, score: 0.5 }], 1000, 200)).toEqual({ kind: 'detection', index: 1 });
  });

  it('prefers a big face to a small central one when the area outweighs the offset', () => {
    const small: Box = [95, 95, 10, 10];
    const big: Box = [20, 20, 120, 120]; // 14400 - 2 * 800 > 100 - 0
    expect(chooseFace([{ box: small, score: 1 }, { box: big, score: 1 }], 200, 200)).toEqual({ kind: 'detection', index: 1 });
  });

  it('takes the detection overlapping the rectangle most, else the rectangle itself', () => {
    const dets = [{ box: [0, 0, 50, 50] as Box, score: 0.9 }, { box: [100, 0, 50, 50] as Box, score: 0.8 }];
    expect(chooseFace(dets, 200, 100, [105, 5, 50, 50])).toMatchObject({ kind: 'detection', index: 1 });
    expect(chooseFace(dets, 200, 100, [60, 60, 20, 20])).toEqual({ kind: 'rectangle', box: [60, 60, 20, 20] });
    expect(chooseFace([], 200, 100)).toEqual({ kind: 'none' });
  });

  it('measures point sets', () => {
    expect(meanDistance([[0, 0], [3, 4]], [[0, 1], [0, 0]])).toBe(3);
  });
});
