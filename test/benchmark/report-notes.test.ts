import { comparisonCsv, comparisonTex, paperTable, type ReportEntry } from '../../src/benchmark/report/compare.js';
import { scoreHistogramSvg } from '../../src/benchmark/report/histogram-svg.js';
import { kFoldAccuracy, tarAtFars, type ScoredPairs } from '../../src/benchmark/metrics.js';
import { accuracyUndefinedReason, farMeasurability, gridNote, operatingPoint, reportNotes } from '../../src/benchmark/report/notes.js';
import { smallestFarText, type BenchmarkReport } from '../../src/benchmark/report/markdown.js';
import { rocSvg } from '../../src/benchmark/report/roc-svg.js';
import { contiguousFolds } from '../../src/pairs/read.js';

function pairs(dist: number[], same: number[], folds: number): ScoredPairs {
  return { dist: Float64Array.from(dist), same: Uint8Array.from(same), fold: Int32Array.from(contiguousFolds(dist.length, folds)), folds };
}

describe('report notes', () => {
  it('accuracy is not defined with fewer than 2 folds, and says why', () => {
    expect(accuracyUndefinedReason(1)).toMatch(/1 fold.*no held-out threshold/);
    expect(accuracyUndefinedReason(2)).toBeNull();
  });

  it('a FAR target below 1 / training negatives is not measurable (9 negatives a fold, 10 folds: 1/81)', () => {
    const dist: number[] = [];
    const same: number[] = [];
    for (let f = 0; f < 10; f++) for (let k = 0; k < 18; k++) (dist.push(k < 9 ? 0.5 : 1.5), same.push(k < 9 ? 1 : 0));
    const m = farMeasurability(pairs(dist, same, 10), [1e-4, 1e-2, 1e-1]);
    expect(m.map((x) => x.measurable)).toEqual([false, false, true]);
    expect(m[0]!.smallestMeasurableFar).toBe(1 / 81);
  });

  it('no impostor pair in the training folds: no FAR target is measurable, and the text says why instead of "Infinity"', () => {
    // 2 folds; fold 1 holds the only impostors, so fold 0's training folds have none
    const m = farMeasurability(pairs([0.5, 0.6, 0.7, 1.5, 1.6, 1.7], [1, 1, 1, 0, 0, 0], 2), [1e-3, 1]);
    expect(m.map((x) => x.measurable)).toEqual([false, false]);
    expect(m[0]!.smallestMeasurableFar).toBe(Number.POSITIVE_INFINITY);
    expect(JSON.parse(JSON.stringify(m[0]))).toMatchObject({ smallestMeasurableFar: null });
    expect(smallestFarText(m[0]!.smallestMeasurableFar, 2)).toBe('no impostor pair in the training folds');
    expect(smallestFarText(1 / 81, 2)).toBe('smallest measurable FAR 1.23e-2');
  });

  it('a grid coarser than the gap: separable scores, no grid threshold between them; the fine grid is an extra', () => {
    // genuine at most 0.501, impostors from 0.505: no multiple of 0.01 in (0.501, 0.505]
    const dist: number[] = [];
    const same: number[] = [];
    for (let f = 0; f < 10; f++) {
      for (let k = 0; k < 5; k++) (dist.push(0.3 + 0.2 * (k / 4) + (k === 4 ? 0.001 : 0)), same.push(1));
      for (let k = 0; k < 5; k++) (dist.push(0.505 + 0.3 * (k / 4)), same.push(0));
    }
    const p = pairs(dist, same, 10);
    const g = gridNote(p);
    expect(g.coarser).toBe(true);
    expect(g.maxGenuine).toBeCloseTo(0.501, 12);
    expect(g.minImpostor).toBe(0.505);
    expect(kFoldAccuracy(p).mean).toBeLessThan(1);
    expect(g.fineGrid!.mean).toBe(1);
    // with a gap a grid threshold falls in, nothing to say
    const wide = pairs(dist.map((d, k) => (same[k] ? d - 0.05 : d)), same, 10);
    expect(gridNote(wide)).toMatchObject({ coarser: false, fineGrid: null });
  });

  it('operating point and ROC marks', () => {
    const p = pairs([0.1, 0.2, 0.9, 1.0, 0.15, 0.3, 1.2, 0.25], [1, 1, 0, 0, 1, 0, 0, 1], 2);
    expect(operatingPoint(p, 0.26)).toEqual({ far: 0, tar: 1 });
    expect(operatingPoint(p, 0.2)).toEqual({ far: 0, tar: 0.5 });
    const acc = kFoldAccuracy(p);
    const notes = reportNotes(p, acc, tarAtFars(p, [1e-3, 0.5]), 0.25);
    expect(notes.marks.map((m) => m.label)).toEqual([expect.stringMatching(/^protocol threshold/), 'EER 25.00%', 'TAR@FAR=0.5']);
    expect(notes.marks[1]).toMatchObject({ far: 0.25, tar: 0.75 });
    const svg = rocSvg([{ label: 'm', far: [0.01, 0.1, 1], tar: [0.5, 0.8, 1], marks: notes.marks }], 'roc');
    expect(svg.match(/<title>/g)!.length).toBe(2 * notes.marks.length); // on the curve and in the legend
  });

  it('score histograms: one bar per non-empty bin of each class, the threshold drawn', () => {
    const svg = scoreHistogramSvg([0.9, 0.85, 0.1, 0.12, -0.3], [1, 1, 0, 0, 0], 'h', [{ label: 'thr', cosine: 0.5 }], 10);
    expect(svg).toContain('genuine pairs (2)');
    expect(svg).toContain('impostor pairs (3)');
    // bins of 0.13 from -0.3: genuine in bins 8 and 9, impostors in 0 and 3 (0.1 and 0.12 share one), plus two legend swatches
    expect(svg.match(/fill-opacity="0.5"\/>/g)!.length).toBe(2 + 2 + 2);
    expect(svg).toContain('stroke-dasharray');
  });
});

function entry(model: string, set: string, folds: number, mean: number, std: number): ReportEntry {
  return { file: `/r/${model}/${set}/report.json`, label: `${model}/${set}`, report: { pairs: { folds }, accuracy: { mean, std } } as unknown as BenchmarkReport };
}

describe('the paper table (comparison.csv, comparison.tex)', () => {
  const reports = [entry('mtlface', 'agedb_30', 10, 0.9645, 0.01), entry('arc_face', 'agedb_30', 10, 0.9712, 0.009), entry('mtlface', 'calfw', 10, 0.951, 0.011), entry('arc_face', 'calfw', 10, 0.951, 0.012), entry('arc_face', 'tiny', 1, Number.NaN, Number.NaN)];
  const t = paperTable(reports);

  it('models as rows, sets as columns', () => {
    expect(t.models).toEqual(['arc_face', 'mtlface']);
    expect(t.sets).toEqual(['agedb_30', 'calfw', 'tiny']);
  });

  it('CSV: accuracy and std in %, folds, empty where not run', () => {
    expect(comparisonCsv(t).split('\n')).toEqual([
      'model,agedb_30 accuracy %,agedb_30 std %,agedb_30 folds,calfw accuracy %,calfw std %,calfw folds,tiny accuracy %,tiny std %,tiny folds',
      'arc_face,97.12,0.90,10,95.10,1.20,10,,,1',
      'mtlface,96.45,1.00,10,95.10,1.10,10,,,',
      '',
    ]);
  });

  it('LaTeX: booktabs, best of each column bold (ties too), escaped names, fold counts in the caption', () => {
    const tex = comparisonTex(t);
    expect(tex).toContain('\\toprule');
    expect(tex).toContain('\\midrule');
    expect(tex).toContain('\\bottomrule');
    expect(tex).toContain('Model & agedb\\_30 & calfw & tiny \\\\');
    expect(tex).toContain('arc\\_face & \\textbf{97.12 $\\pm$ 0.90} & \\textbf{95.10 $\\pm$ 1.20} & n/a \\\\');
    expect(tex).toContain('mtlface & 96.45 $\\pm$ 1.00 & \\textbf{95.10 $\\pm$ 1.10} & -- \\\\');
    expect(tex).toMatch(/folds: agedb\\_30 10, calfw 10, tiny 1/);
    expect(comparisonTex(paperTable(reports.slice(0, 4)))).toContain('(10 folds)');
  });
});
