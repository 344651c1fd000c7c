/** @jest-environment ./test/helpers/onnx-environment.cjs */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { runBenchmark, writeComparison } from '../../src/benchmark/index.js';
import { cudaProviderInstalled, openOnnxEmbedder } from '../../src/models/onnx.js';
import { UsageError } from '../../src/util/errors.js';
import { describeWithPython, pythonSkipReason } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRoot, makeTinyOnnx, TINY_ONNX_MODULES } from '../benchmark/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let input: Float32Array;
let torchOut: Float32Array;
let torchAge: Float32Array;
// every test here runs the model tiny_onnx.py exports with PyTorch
const withTinyOnnx = describeWithPython(TINY_ONNX_MODULES);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  if (pythonSkipReason(TINY_ONNX_MODULES)) return;
  makeTinyOnnx(dir);
  const floats = async (f: string) => {
    const b = await fs.readFile(path.join(dir, f));
    return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  };
  input = await floats('input.bin');
  torchOut = await floats('torch_out.bin');
  torchAge = await floats('torch_age.bin');
}, 120000);
afterAll(() => cleanup());

const quiet = { log: () => undefined };

withTinyOnnx('ONNX embedder on a real exported model', () => {
  it('reads input name, layout and size from the model and equals onnxruntime run directly and torch', async () => {
    const e = await openOnnxEmbedder(path.join(dir, 'tiny.onnx'), { device: 'cpu', ...quiet });
    try {
      expect(e.preprocessing).toEqual({ size: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], bgr: false, layout: 'nchw' });
      expect(e.dim).toBe(24);
      expect(e.info).toMatchObject({ kind: 'onnx', model: 'tiny.onnx', device: 'cpu', flipRule: 'insightface' });
      expect(e.info.weightsKey).toMatch(/^[0-9a-f]{64}$/);
      const ours = await e.embed(input, 5);
      const session = await ort.InferenceSession.create(path.join(dir, 'tiny.onnx'));
      const direct = (await session.run({ data: new ort.Tensor('float32', input, [5, 3, 32, 32]) })).embedding!.data as Float32Array;
      expect(Array.from(ours)).toEqual(Array.from(direct));
      ours.forEach((v, i) => expect(Math.abs(v - torchOut[i]!)).toBeLessThan(1e-5));
    } finally {
      await e.close();
    }
  });

  it('reads the `age` and `age_group` outputs of an export with an age head, with a dynamic or a fixed batch', async () => {
    for (const file of ['tiny_age.onnx', 'tiny_age_b1.onnx']) {
      const e = await openOnnxEmbedder(path.join(dir, file), { device: 'cpu', ...quiet });
      try {
        expect(e.estimates).toMatchObject({ age: true, gender: false, ageGroups: true });
        const { embeddings, estimates } = await e.embedAndEstimate!(input, 5);
        embeddings.forEach((v, i) => expect(Math.abs(v - torchOut[i]!)).toBeLessThan(1e-5));
        for (let k = 0; k < 5; k++) {
          expect(Math.abs(estimates.age[k]! - torchAge[k * 8]!)).toBeLessThan(1e-3);
          for (let g = 0; g < 7; g++) expect(Math.abs(estimates.ageGroupLogits![k * 7 + g]! - torchAge[k * 8 + 1 + g]!)).toBeLessThan(1e-4);
        }
        expect(Array.from(estimates.male).every(Number.isNaN)).toBe(true);
        expect(Array.from(await e.embed(input, 5))).toEqual(Array.from(embeddings));
      } finally {
        await e.close();
      }
    }
    const plain = await openOnnxEmbedder(path.join(dir, 'tiny.onnx'), { device: 'cpu', ...quiet });
    await plain.close();
    expect(plain.estimates).toBeUndefined();
  });

  it('takes the flip rule and input of an ecaf export-onnx sidecar', async () => {
    const copy = path.join(dir, 'exported.onnx');
    await fs.copyFile(path.join(dir, 'tiny.onnx'), copy);
    await fs.writeFile(`${copy}.json`, JSON.stringify({ flipRule: 'mtlface', preprocessing: { mean: [0.4, 0.5, 0.6], std: [0.2, 0.3, 0.4], bgr: true }, source: { checkpoint: 'x.tar' } }));
    const e = await openOnnxEmbedder(copy, { device: 'cpu', mean: [0.1, 0.1, 0.1], ...quiet });
    await e.close();
    expect(e.info.flipRule).toBe('mtlface');
    expect(e.info.details['exported from']).toBe('x.tar');
    expect(e.preprocessing).toMatchObject({ mean: [0.1, 0.1, 0.1], std: [0.2, 0.3, 0.4], bgr: true });
  });

  it('runs a model with a fixed batch of 1 image by image, with the same results', async () => {
    const e = await openOnnxEmbedder(path.join(dir, 'tiny_b1.onnx'), { device: 'cpu', ...quiet });
    try {
      const out = await e.embed(input, 5);
      out.forEach((v, i) => expect(Math.abs(v - torchOut[i]!)).toBeLessThan(1e-5));
    } finally {
      await e.close();
    }
  });

  it('refuses a --size the model cannot take, and explains how to get CUDA', async () => {
    await expect(openOnnxEmbedder(path.join(dir, 'tiny.onnx'), { size: 112, ...quiet })).rejects.toThrow(/option "size": expected 32: tiny\.onnx takes 32x32 images .*, got 112$/);
    await expect(openOnnxEmbedder(path.join(dir, 'none.onnx'), quiet)).rejects.toBeInstanceOf(UsageError);
    if (cudaProviderInstalled()) return; // this machine has the CUDA files: nothing to explain
    await expect(openOnnxEmbedder(path.join(dir, 'tiny.onnx'), { device: 'cuda', ...quiet })).rejects.toThrow(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    const notes: string[] = [];
    const e = await openOnnxEmbedder(path.join(dir, 'tiny.onnx'), { device: 'auto', log: (l) => notes.push(l) });
    await e.close();
    expect(e.info.device).toBe('cpu');
    expect(notes.join('\n')).toMatch(/auto: .*running on CPU/);
  });
});

withTinyOnnx('runBenchmark with an ONNX model on an ECAF root', () => {
  it('writes report.json, report.md, scores.csv and roc.svg with every field; skips and counts missing images', async () => {
    const root = path.join(dir, 'root');
    await makeRoot(root);
    const model = path.join(dir, 'tiny.onnx');
    const {
      results: [res],
    } = await runBenchmark({ root, model, device: 'cpu', progress: false, batch: 5, ...quiet });
    const r = res!.report;
    expect(res!.dir).toBe(path.join(root, 'reports', 'tiny', 'children'));
    expect(await fs.readdir(res!.dir)).toEqual(expect.arrayContaining(['report.json', 'report.md', 'roc.svg', 'scores.csv']));
    expect(JSON.parse(await fs.readFile(path.join(res!.dir, 'report.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(r)));
    expect(r.pairs).toMatchObject({ format: 'ecaf', folds: 2, total: 16, scored: 15, positives: 8, negatives: 7, skippedMissingImages: 1, missingImages: 1 });
    expect(r.pairs.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.model).toMatchObject({ kind: 'onnx', model: 'tiny.onnx', device: 'cpu', dim: 24 });
    expect(r.flip).toEqual({ enabled: true, rule: 'insightface' });
    expect(r.accuracy.folds).toHaveLength(2);
    expect(r.tarAtFar.map((t) => t.farTarget)).toEqual([1e-4, 1e-3, 1e-2, 1e-1]);
    expect(r.roc.auc).toBeGreaterThanOrEqual(0);
    expect(r.roc.far.length).toBe(r.roc.tar.length);
    // fold 0: 5 vs 25 (positives, 20 y), 5 vs 41 (negatives, 36 y); fold 1: 8 vs 41 (33 y), 8 vs 25 (17 y, one skipped)
    expect(r.ageGap!.map((g) => g.pairs)).toEqual([0, 0, 3, 4, 8]);
    expect(r.ageGap![3]).toMatchObject({ positives: 4, negatives: 0 });
    // identification: the sidecar's bounds; 8 child probes against 8 adult photos of 4 people
    expect(r.identification).toMatchObject({ probes: 8, galleryImages: 8, galleryIdentities: 4, childMaxAge: 10, adultMinAge: 20 });
    expect(r.speed.embedded).toBe(16);

    // scores.csv: the cosine of insightface-flipped unit embeddings, computed here from the model directly
    const csv = (await fs.readFile(path.join(res!.dir, 'scores.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(16);
    expect(csv[1]).toMatch(/^0,0,1,-?[0-9.e-]+,P0_child_1.jpg,P0_adult_1.jpg$/);
    const e = await openOnnxEmbedder(model, { device: 'cpu', ...quiet });
    const { loadFace, writeTensor } = await import('../../src/models/preprocess.js');
    const embed = async (name: string) => {
      const img = await loadFace(path.join(root, 'image_data', 'img_mtcnn', name), 32);
      const x = new Float32Array(2 * 3 * 32 * 32);
      writeTensor(img, e.preprocessing, x, 0, false);
      writeTensor(img, e.preprocessing, x, 3 * 32 * 32, true);
      const y = await e.embed(x, 2);
      const v = y.subarray(0, 24).map((a, i) => a + y[24 + i]!);
      const n = Math.hypot(...v);
      return v.map((a) => a / n);
    };
    const [a, b] = [await embed('P0_child_1.jpg'), await embed('P0_adult_1.jpg')];
    await e.close();
    expect(Number(csv[1]!.split(',')[3])).toBeCloseTo(a.reduce((s, v, i) => s + v * b[i]!, 0), 5);

    // a second run reads every embedding from the cache; --no-flip is a separate report and cache entry
    const {
      results: [again],
    } = await runBenchmark({ root, model, device: 'cpu', progress: false, ...quiet });
    expect(again!.report.speed).toMatchObject({ embedded: 0, fromCache: 16, imagesPerSecond: null, computedBy: { embedded: 16, imagesPerSecond: r.speed.imagesPerSecond } });
    expect(again!.report.accuracy).toEqual(r.accuracy);
    const {
      results: [noflip],
    } = await runBenchmark({ root, model, device: 'cpu', flip: false, progress: false, ...quiet });
    expect(noflip!.dir).toBe(path.join(root, 'reports', 'tiny-noflip', 'children'));
    expect(noflip!.report.flip).toEqual({ enabled: false, rule: null });
    expect(noflip!.report.speed.embedded).toBe(16);

    // ecaf report: both side by side
    const md = await writeComparison(root);
    expect(md).toBe(path.join(root, 'reports', 'comparison.md'));
    const text = await fs.readFile(md, 'utf8');
    expect(text).toContain('| [tiny/children](tiny/children/report.md) | tiny.onnx | children.txt | cpu | insightface | 2 | 15/16 |');
    expect(text).toContain('| [tiny-noflip/children](tiny-noflip/children/report.md) | tiny.onnx | children.txt | cpu | off | 2 | 15/16 |');
    expect(text).toContain('](comparison-roc.svg)');
    expect(text).toMatch(/\| \d+\.\d \(earlier run\) \|\n/); // the cached rerun's throughput is the first run's
    const csvTable = await fs.readFile(path.join(root, 'reports', 'comparison.csv'), 'utf8');
    expect(csvTable.split('\n')[0]).toBe('model,children accuracy %,children std %,children folds');
    expect(await fs.readFile(path.join(root, 'reports', 'comparison.tex'), 'utf8')).toMatch(/\\toprule\nModel & children \\\\\n\\midrule\ntiny & .*\ntiny-noflip & /);
    expect(await fs.readFile(path.join(res!.dir, 'scores.svg'), 'utf8')).toContain('genuine pairs (');
    expect((await fs.readFile(path.join(root, 'reports', 'comparison-roc.svg'), 'utf8')).match(/<polyline/g)).toHaveLength(2);
  });

  it('with an age head: the age section scores its estimates on the data.json ages, writes ages.csv and ages.svg; --no-age leaves it out', async () => {
    const root = path.join(dir, 'root-age');
    await makeRoot(root);
    const model = path.join(dir, 'tiny_age.onnx');
    const [res] = (await runBenchmark({ root, model, device: 'cpu', progress: false, ...quiet })).results;
    const age = res!.report.age!;
    // the 16 embedded images the pairs name (the missing one is left out), each with a label age
    expect(age.labelledImages).toBe(16);
    expect(age.estimation).toMatchObject({ images: 16, heads: { age: true, gender: false, ageGroups: true }, groupHeadImages: 16, genderImages: 0 });
    expect(age.note).toContain('Face++ estimates');
    // 4 people are fewer than the 5 folds
    expect(age.probe.age).toEqual({ skipped: '4 people with an age: the probe needs at least 5 (one per fold)' });
    const csv = (await fs.readFile(path.join(res!.dir, 'ages.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('id,true_age,predicted_age,true_gender,predicted_gender');
    expect(csv).toHaveLength(17);
    expect(csv[1]).toMatch(/^P0_child_1,5,[0-9.]+,,$/);
    expect(await fs.readFile(path.join(res!.dir, 'ages.svg'), 'utf8')).toContain('<circle');
    expect(await fs.readFile(path.join(res!.dir, 'report.md'), 'utf8')).toContain('## Age and gender');
    const [off] = (await runBenchmark({ root, model, device: 'cpu', progress: false, age: false, out: path.join(dir, 'no-age'), ...quiet })).results;
    expect(off!.report.age).toBeNull();
  });

  it('says what is wrong with bad input', async () => {
    const root = path.join(dir, 'empty');
    await fs.mkdir(root);
    await expect(runBenchmark({ root, model: path.join(dir, 'tiny.onnx'), progress: false, ...quiet })).rejects.toThrow(/image_pairs: expected pair files \(\*\.txt\), found none$/);
    await expect(runBenchmark({ root, model: 'model.h5', pairs: [path.join(dir, 'root', 'image_pairs', 'children.txt')], progress: false, ...quiet })).rejects.toThrow(/option "model": expected "builtin", a \.onnx file, or a PyTorch checkpoint \(.*\), got "model\.h5"/);
    await expect(writeComparison(root)).rejects.toThrow(/reports: expected benchmark reports \(<model>\/<pairs>\/report\.json\), found none$/);
    // an aligned image that does not decode: exit-2 error naming the file
    const mtcnn = path.join(root, 'image_data', 'img_mtcnn');
    await fs.mkdir(mtcnn, { recursive: true });
    await fs.writeFile(path.join(mtcnn, 'bad.jpg'), 'not a jpeg');
    await fs.copyFile(path.join(dir, 'root', 'image_data', 'img_mtcnn', 'P0_child_1.jpg'), path.join(mtcnn, 'good.jpg'));
    await fs.writeFile(path.join(dir, 'bad.txt'), 'good.jpg bad.jpg 1\ngood.jpg bad.jpg -1\n');
    const bad = runBenchmark({ root, model: path.join(dir, 'tiny.onnx'), pairs: [path.join(dir, 'bad.txt')], folds: 2, device: 'cpu', progress: false, ...quiet });
    await expect(bad).rejects.toThrow(/img_mtcnn\/bad.jpg: cannot decode this aligned image/);
    await expect(bad).rejects.toBeInstanceOf(UsageError);
  });
});
