/** @jest-environment ./test/helpers/onnx-environment.cjs */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { runBenchmark } from '../../src/benchmark/index.js';
import { formatBenchmarkResult } from '../../src/cli/summaries/benchmark.js';
import { runEcaf } from '../helpers/cli.js';
import { describeWithPython } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';
import { writeBinVariants } from './sets/bin-fixtures.js';
import { makeRoot, makeTinyOnnx } from './fixtures.js';

// torch makes the ONNX model, pickle writes the .bin files
const withTorch = describeWithPython(['torch', 'numpy', 'pickle']);
const quiet = { progress: false, log: () => undefined };

withTorch('ecaf benchmark on insightface .bin sets', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let model: string;
  let bins: Awaited<ReturnType<typeof writeBinVariants>>;
  const PAIRS = 30;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    makeTinyOnnx(dir);
    model = path.join(dir, 'tiny.onnx');
    // 112x112 JPEG "faces": 6 people, each image a noisy copy of its person's base
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const bases = Array.from({ length: 6 }, () => Buffer.from(Array.from({ length: 112 * 112 * 3 }, () => Math.floor(rand() * 256))));
    const images: Buffer[] = [];
    const labels: boolean[] = [];
    for (let k = 0; k < PAIRS; k++) {
      const same = k % 2 === 0;
      const a = k % 6;
      const b = same ? a : (a + 1 + (k % 5)) % 6;
      for (const p of [a, b]) {
        const px = Buffer.from(bases[p]!.map((v) => Math.max(0, Math.min(255, v + Math.floor((rand() - 0.5) * 80)))));
        images.push(await sharp(px, { raw: { width: 112, height: 112, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
      }
      labels.push(same);
    }
    const binDir = path.join(dir, 'bins');
    await fs.mkdir(binDir);
    bins = await writeBinVariants(binDir, images, labels);
    // the same JPEG bytes as a dataset root and an ecaf pair list (10 contiguous folds, as insightface)
    const mtcnn = path.join(dir, 'root', 'image_data', 'img_mtcnn');
    await fs.mkdir(mtcnn, { recursive: true });
    await Promise.all(images.map((b, i) => fs.writeFile(path.join(mtcnn, `img${i}.jpg`), b)));
    await fs.writeFile(path.join(dir, 'root', 'list.txt'), labels.map((s, k) => `img${2 * k}.jpg img${2 * k + 1}.jpg ${s ? 1 : -1}`).join('\n') + '\n');
  }, 120_000);
  afterAll(() => cleanup());

  it('scores every pickle variant exactly as the same JPEGs in a dataset root', async () => {
    const {
      results: [fromRoot],
    } = await runBenchmark({ root: path.join(dir, 'root'), model, pairs: [path.join(dir, 'root', 'list.txt')], device: 'cpu', ...quiet });
    const rootScores = (await fs.readFile(path.join(fromRoot!.dir, 'scores.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 4).join(','));
    expect(rootScores).toHaveLength(PAIRS);
    for (const variant of ['python2', 'protocol2', 'protocol4', 'protocol5']) {
      const work = path.join(dir, `run-${variant}`);
      const {
      results: [r],
    } = await runBenchmark({ root: work, model, pairs: [bins[variant]!], device: 'cpu', ...quiet });
      expect(r!.dir).toBe(path.join(work, 'reports', 'tiny', path.basename(bins[variant]!, '.bin')));
      expect(r!.report.pairs).toMatchObject({ format: 'insightface-bin', folds: 10, total: PAIRS, scored: PAIRS });
      expect(r!.report.images.folder).toBe(bins[variant]);
      const scores = (await fs.readFile(path.join(r!.dir, 'scores.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 4).join(','));
      expect(scores).toEqual(rootScores); // index, fold, label, cosine: identical
      expect(r!.report.accuracy.mean).toBe(fromRoot!.report.accuracy.mean);
      expect(r!.report.roc.auc).toBe(fromRoot!.report.roc.auc);
    }
  }, 120_000);

  it('one fold: accuracy not defined, said in report.json, report.md and the console line', async () => {
    const work = path.join(dir, 'one-fold');
    const {
      results: [r],
    } = await runBenchmark({ root: work, model, pairs: [bins.protocol4!], folds: 1, device: 'cpu', ...quiet });
    expect(r!.report.accuracy.undefinedReason).toMatch(/1 fold: .*no held-out threshold/);
    const json = JSON.parse(await fs.readFile(path.join(r!.dir, 'report.json'), 'utf8')) as { accuracy: { mean: unknown } };
    expect(json.accuracy.mean).toBeNull();
    expect(await fs.readFile(path.join(r!.dir, 'report.md'), 'utf8')).toContain('Accuracy (insightface k-fold): **not defined**: the pair file has 1 fold');
    const line = formatBenchmarkResult(r!);
    expect(line).toMatch(/^p4\.bin: accuracy not defined, /);
    expect(line).toMatch(/\n {2}note: accuracy not defined: the pair file has 1 fold/);
  }, 120_000);

  it('the CLI reads a .bin without a dataset root, and refuses a pickle that is not one with exit 2', async () => {
    const work = path.join(dir, 'cli');
    await fs.mkdir(work);
    const ok = await runEcaf('benchmark', '--root', work, '--model', model, '--device', 'cpu', '--pairs', bins.protocol4!);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^p4\.bin: accuracy /);
    const rep = await runEcaf('report', '--root', work);
    expect(rep.code).toBe(0);
    expect(await fs.readFile(path.join(work, 'reports', 'comparison.tex'), 'utf8')).toContain('Model & p4 \\\\');
    const evil = await runEcaf('benchmark', '--root', work, '--model', model, '--device', 'cpu', '--pairs', bins.refuse.global!);
    expect(evil.code).toBe(2);
    expect(evil.stderr).toMatch(/evil\.bin: not an insightface \.bin pair set at byte \d+: refused global (posix|os)\.system/);
  }, 120_000);

  it('--identification loo over a dataset root writes identification.json and .md', async () => {
    const root = path.join(dir, 'ecaf');
    await makeRoot(root);
    const out = await runBenchmark({ root, model, device: 'cpu', identification: 'loo', ...quiet });
    expect(out.results).toHaveLength(1); // children.txt is still scored
    const l = out.leaveOneOut!;
    expect(l.dir).toBe(path.join(root, 'reports', 'tiny', 'leave-one-out'));
    // 16 photos of 4 people, 4 each: every photo a probe
    expect(l.report.leaveOneOut).toMatchObject({ images: 16, identities: 4, probes: 16, probesWithoutMate: 0 });
    expect(l.report.leaveOneOut.byAgeGroup.map((b) => [b.label, b.probes])).toEqual([
      ['child (<= 12)', 8],
      ['adult (>= 18)', 8],
    ]);
    expect(JSON.parse(await fs.readFile(path.join(l.dir, 'identification.json'), 'utf8'))).toMatchObject({ protocol: 'leave-one-out' });
    expect(await fs.readFile(path.join(l.dir, 'identification.md'), 'utf8')).toMatch(/16 probes: rank-1 \*\*/);
  }, 120_000);
});
