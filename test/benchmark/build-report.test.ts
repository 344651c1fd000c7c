import { buildReport, FAR_TARGETS, type ReportInput } from '../../src/benchmark/report/build.js';
import type { Embeddings } from '../../src/models/embed-pipeline.js';
import type { FilePlan } from '../../src/benchmark/plan.js';
import type { EcafRecord } from '../../src/dataset/record.js';
import { UsageError } from '../../src/util/errors.js';
import { VERSION } from '../../src/version.js';

// dim 2: A_1 and A_2 (and B_1 and B_2) at cosine 0.9; A_1 and B_1 orthogonal
const s = Math.sqrt(0.19);
const vec: Record<string, number[]> = { 'A_1.jpg': [1, 0], 'A_2.jpg': [0.9, s], 'B_1.jpg': [0, 1], 'B_2.jpg': [s, 0.9] };
const names = ['A_1.jpg', 'A_2.jpg', 'B_1.jpg', 'B_2.jpg', 'C_1.jpg'];
const embeddings: Embeddings = {
  images: names.map((name) => ({ name, file: `/nowhere/img_mtcnn/${name}` })),
  index: new Map(names.map((n, i) => [n, i])),
  dim: 2,
  vectors: names.map((n) => (vec[n] ? Float32Array.from(vec[n]) : undefined)), // C_1.jpg: no file
  stats: { embedded: 3, fromCache: 1, missing: 1, dropped: 0, seconds: 2, modelSeconds: 1 },
  interrupted: false,
};
const rec = (id: string, age: number): EcafRecord => ({ index: 0, id, imageUrl: `http://example.org/${id}.jpg`, identity: id.slice(0, 1), age });
const records = new Map([rec('A_1', 5), rec('A_2', 30), rec('B_1', 10), rec('B_2', 12)].map((r) => [r.id, r]));
// fold 0: A_1~A_2 same, A_1~B_1 different; fold 1: B_1~B_2 same, A_2~B_2 different, A_1~C_1 (missing image)
const file: FilePlan = {
  list: {
    file: '/nowhere/children.txt',
    format: 'ecaf',
    folds: 2,
    pairs: [
      { a: 'A_1.jpg', b: 'A_2.jpg', same: true, fold: 0, line: 1 },
      { a: 'A_1.jpg', b: 'B_1.jpg', same: false, fold: 0, line: 2 },
      { a: 'B_1.jpg', b: 'B_2.jpg', same: true, fold: 1, line: 3 },
      { a: 'A_1.jpg', b: 'C_1.jpg', same: false, fold: 1, line: 4 },
      { a: 'A_2.jpg', b: 'B_2.jpg', same: false, fold: 1, line: 5 },
    ],
  },
  identification: { probes: ['A_1.jpg', 'B_1.jpg', 'C_1.jpg'], gallery: ['A_2.jpg', 'B_2.jpg'], childMaxAge: 10, adultMinAge: 12 },
};
const model: ReportInput['model'] = {
  info: { kind: 'onnx', model: 'm.onnx', device: 'cpu', flipRule: 'insightface', details: { input: 'data' }, weightsKey: 'f'.repeat(64), precision: 'fp32' },
  dim: 2,
  preprocessing: { size: 112, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], bgr: false, layout: 'nchw' },
};
const input: ReportInput = { file, embeddings, records, model, flip: true, imagesDir: '/nowhere/img_mtcnn', pairsSha256: 'a'.repeat(64), date: '2026-01-02T03:04:05.000Z' };

describe('buildReport: embeddings and pairs to a report, no I/O', () => {
  it('scores the pairs with both images, counts the rest, and fills every section from its inputs', () => {
    const { report: r, rows } = buildReport(input);
    // scores.csv rows keep the pair's index in the file; the pair with a missing image is left out
    expect(rows.map((x) => [x.index, x.fold, x.same, x.a, x.b])).toEqual([
      [0, 0, true, 'A_1.jpg', 'A_2.jpg'],
      [1, 0, false, 'A_1.jpg', 'B_1.jpg'],
      [2, 1, true, 'B_1.jpg', 'B_2.jpg'],
      [4, 1, false, 'A_2.jpg', 'B_2.jpg'],
    ]);
    expect(rows.map((x) => x.cosine)).toEqual([expect.closeTo(0.9, 6), 0, expect.closeTo(0.9, 6), expect.closeTo(1.8 * s, 6)]);
    expect(r).toMatchObject({ tool: 'ecaf', version: VERSION, date: '2026-01-02T03:04:05.000Z', images: { folder: '/nowhere/img_mtcnn' }, flip: { enabled: true, rule: 'insightface' } });
    expect(r.model).toEqual({ kind: 'onnx', model: 'm.onnx', device: 'cpu', details: { input: 'data' }, dim: 2, weightsSha256: 'f'.repeat(64) });
    expect(r.pairs).toEqual({ file: '/nowhere/children.txt', sha256: 'a'.repeat(64), format: 'ecaf', folds: 2, total: 5, scored: 4, positives: 2, negatives: 2, skippedMissingImages: 1, missingImages: 1 });
    expect(r.speed).toEqual({ embedded: 3, fromCache: 1, seconds: 2, modelSeconds: 1, imagesPerSecond: 1.5 });
    // squared L2 of positives 0.2, of negatives 2 and 2 - 3.6 s = 0.43: each fold's held-out threshold separates them
    expect(r.accuracy.mean).toBe(1);
    expect(r.accuracy.folds.map((f) => f.accuracy)).toEqual([1, 1]);
    r.accuracy.folds.forEach((f) => expect(f.cosineThreshold).toBeCloseTo(1 - f.threshold / 2, 12));
    expect(r.tarAtFar.map((t) => t.farTarget)).toEqual(FAR_TARGETS);
    expect(r.roc).toMatchObject({ auc: 1, eer: 0 });
    // age gaps 25, 5, 2, 18 years
    expect(r.ageGap!.map((g) => [g.bin, g.pairs])).toEqual([['0-5', 1], ['5-10', 1], ['10-20', 1], ['20-30', 1], ['30+', 0]]);
    // C_1.jpg was not embedded: two probes, each nearest its own adult photo
    expect(r.identification).toMatchObject({ probes: 2, galleryImages: 2, galleryIdentities: 2, rank1: 1, childMaxAge: 10, adultMinAge: 12 });
  });

  it('is a function of its inputs alone: same output twice, inputs untouched', () => {
    const before = JSON.stringify([file, records.get('A_1'), input.embeddings.vectors.map((v) => v && Array.from(v))]);
    expect(buildReport(input)).toEqual(buildReport(input));
    expect(JSON.stringify([file, records.get('A_1'), input.embeddings.vectors.map((v) => v && Array.from(v))])).toBe(before);
  });

  it('leaves out the age-gap and identification sections when there are no ages or no children protocol; flip off has no rule', () => {
    const { report } = buildReport({ ...input, records: new Map(), file: { list: file.list }, flip: false, embeddings: { ...embeddings, stats: { embedded: 0, fromCache: 4, missing: 1, dropped: 0, seconds: 0, modelSeconds: 0 } } });
    expect(report.ageGap).toBeNull();
    expect(report.identification).toBeNull();
    expect(report.flip).toEqual({ enabled: false, rule: null });
    expect(report.speed.imagesPerSecond).toBeNull();
  });

  it('refuses a file none of whose pairs has both images (InputError naming the file and a missing image)', () => {
    const only = { list: { ...file.list, pairs: [file.list.pairs[3]!] } };
    expect(() => buildReport({ ...input, file: only })).toThrow(UsageError);
    expect(() => buildReport({ ...input, file: only })).toThrow('/nowhere/children.txt: expected pairs with both images under /nowhere/img_mtcnn, found none of its 1 (first missing: C_1.jpg)');
  });
});
