/**
 * @jest-environment ./test/helpers/onnx-environment.cjs
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { align, ModelFileError } from '../../src/align/index.js';
import { detectionImage, FaceDetector, MTCNN_SETTINGS } from '../../src/align/detect.js';
import { nms, pyramidScales, roundHalfEven, type Corners } from '../../src/align/mtcnn/boxes.js';
import { mtcnnFaces, type MtcnnFace } from '../../src/align/mtcnn/detect.js';
import { openMtcnnNets, MTCNN_MODEL_DIR, type MtcnnNets } from '../../src/align/mtcnn/nets.js';
import { resizeBilinearPil } from '../../src/align/mtcnn/resample.js';
import { UsageError } from '../../src/util/errors.js';
import { decodeRgb, FACE_API_DEMO_DIR, type RgbImage } from '../../src/util/faceapi.js';
import { describeWithPython, PYTHON } from '../helpers/python.js';
import { ReferenceCache } from '../helpers/reference-cache.js';
import { SHARED_DATA, tempDir } from '../helpers/tmp.js';
import { makeRoot } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The .npy weights the ONNX files were converted from (models/mtcnn/README.md). */
const NPY_DIR = path.join(HERE, '..', '..', 'models', 'mtcnn', 'npy');

interface RefFace {
  box: Corners;
  score: number;
  points: [number, number][];
}

/** A seeded pseudo-random RGB image: smooth gradients plus noise, so every resize tap matters. */
function synthetic(width: number, height: number, seed: number): RgbImage {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(((x * (c + 1) + y * 3) % 256) * 0.7 + rand() * 80)));
    }
  }
  return { data, width, height };
}

const SCRIPT = path.join(HERE, 'mtcnn_reference.py');
/** The reference's outputs by input digest (test/helpers/reference-cache.ts); misses run the script. */
const cache = ReferenceCache.open<RefFace[] | string>(path.join(HERE, 'fixtures', 'mtcnn-reference.json'));
/** What every output depends on besides its image: the script, the weights and the settings. */
const BASIS = [readFileSync(SCRIPT), ...['pnet', 'rnet', 'onet'].map((n) => readFileSync(path.join(NPY_DIR, `${n}.npy`))), JSON.stringify({ min_face: MTCNN_SETTINGS.minFace, thresholds: MTCNN_SETTINGS.thresholds })];
const imageKey = (img: RgbImage) => ReferenceCache.key(...BASIS, 'faces', `${img.width}x${img.height}`, img.data);
const resizeKey = (r: { img: RgbImage; to: [number, number] }) => ReferenceCache.key(...BASIS, 'resize', `${r.img.width}x${r.img.height}->${r.to.join('x')}`, r.img.data);

/** test/align/mtcnn_reference.py's faces of `images` and PIL's resizes, from the cache or by running it on raw images written to `dir`. */
async function reference(dir: string, images: RgbImage[], resize: { img: RgbImage; to: [number, number] }[] = []): Promise<{ images: RefFace[][]; resize: number[][] }> {
  const missingImages = images.filter((img) => cache.get(imageKey(img)) === undefined);
  const missingResize = resize.filter((r) => cache.get(resizeKey(r)) === undefined);
  if (missingImages.length + missingResize.length > 0) {
    const entry = async (img: RgbImage, name: string) => {
      const file = path.join(dir, `${name}.rgb`);
      await writeFile(file, img.data);
      return { file, width: img.width, height: img.height };
    };
    const jobs = {
      min_face: MTCNN_SETTINGS.minFace,
      thresholds: MTCNN_SETTINGS.thresholds,
      images: await Promise.all(missingImages.map((img, i) => entry(img, `image${i}`))),
      resize: await Promise.all(missingResize.map(async (r, i) => ({ ...(await entry(r.img, `resize${i}`)), to: r.to }))),
    };
    const run = spawnSync(PYTHON, [SCRIPT, NPY_DIR], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 30 });
    if (run.status !== 0) throw new Error(`mtcnn_reference.py failed: ${run.stderr}`);
    const out = JSON.parse(run.stdout) as { images: RefFace[][]; resize: number[][] };
    missingImages.forEach((img, i) => cache.set(imageKey(img), out.images[i]!));
    missingResize.forEach((r, i) => cache.set(resizeKey(r), Buffer.from(out.resize[i]!).toString('base64')));
  }
  return {
    images: images.map((img) => cache.get(imageKey(img)) as RefFace[]),
    resize: resize.map((r) => [...Buffer.from(cache.get(resizeKey(r)) as string, 'base64')]),
  };
}

/** Every reference face matched by one of ours: box and 5 points within 1 px, probability within 1e-4. */
function expectSameFaces(ours: MtcnnFace[], ref: RefFace[], label: string): void {
  expect({ label, faces: ours.length }).toEqual({ label, faces: ref.length });
  const used = new Set<number>();
  for (const r of ref) {
    const dist = (f: MtcnnFace) => Math.max(...f.box.map((v, i) => Math.abs(v - r.box[i]!)));
    const k = ours.map((f, i) => [dist(f), i] as const).filter(([, i]) => !used.has(i)).sort((a, b) => a[0] - b[0])[0]![1];
    used.add(k);
    const f = ours[k]!;
    const pointErr = Math.max(...f.points.flatMap((p, i) => [Math.abs(p[0] - r.points[i]![0]), Math.abs(p[1] - r.points[i]![1])]));
    expect({ label, box: dist(f) <= 1, points: pointErr <= 1, score: Math.abs(f.score - r.score) <= 1e-4 }).toEqual({ label, box: true, points: true, score: true });
  }
}

describe('MTCNN box math', () => {
  it("rounds halves to even as numpy's np.round does", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });
  it('builds the pyramid from 12 / minFace down by 0.707 while the short side stays over 12 px', () => {
    const s = pyramidScales(100, 60, 20);
    expect(s[0]).toBeCloseTo(0.6, 12);
    expect(s.every((v, i) => i === 0 || Math.abs(v / s[i - 1]! - 0.707) < 1e-12)).toBe(true);
    expect(60 * s.at(-1)!).toBeGreaterThan(12);
    expect(60 * s.at(-1)! * 0.707).toBeLessThanOrEqual(12);
  });
  it('keeps the best box and drops the ones overlapping it (union and min modes)', () => {
    const boxes: Corners[] = [[0, 0, 9, 9], [1, 1, 10, 10], [20, 20, 29, 29], [2, 2, 5, 5]];
    expect(nms(boxes, [0.9, 0.95, 0.5, 0.99], 0.5, 'union')).toEqual([3, 1, 2]);
    // the small box lies inside the others: in min mode it removes them
    expect(nms(boxes, [0.9, 0.95, 0.5, 0.99], 0.5, 'min')).toEqual([3, 2]);
  });
});

describeWithPython(['torch', 'numpy', 'PIL'])('MTCNN against the independent PyTorch + PIL reference (test/align/mtcnn_reference.py)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let nets: MtcnnNets;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    nets = await openMtcnnNets();
  });
  afterAll(async () => {
    cache.finish('mtcnn.test.ts');
    await cleanup();
  });

  it("resizes byte for byte as PIL's bilinear (down with antialiasing, up, one axis)", async () => {
    const a = synthetic(97, 61, 1), b = synthetic(23, 31, 2);
    const cases: { img: RgbImage; to: [number, number] }[] = [
      { img: a, to: [40, 25] },
      { img: a, to: [13, 60] },
      { img: a, to: [97, 20] },
      { img: b, to: [24, 24] },
      { img: b, to: [48, 48] },
      { img: a, to: [12, 12] },
    ];
    const ref = await reference(dir, [], cases);
    cases.forEach((c, i) => {
      const ours = resizeBilinearPil(c.img, ...c.to);
      expect(Buffer.compare(ours.data, Buffer.from(ref.resize[i]!))).toBe(0);
    });
  });

  /** Ours and the reference on the same detection-size images; faces compared in the photo's pixels via FaceDetector. */
  async function compare(files: string[]): Promise<number> {
    const smalls: RgbImage[] = [];
    const ours: MtcnnFace[][] = [];
    for (const f of files) {
      const small = await detectionImage(await decodeRgb(f), MTCNN_SETTINGS.detectSize);
      smalls.push(small);
      ours.push(await mtcnnFaces(small, nets));
    }
    const ref = await reference(dir, smalls);
    files.forEach((f, i) => expectSameFaces(ours[i]!, ref.images[i]!, path.basename(f)));
    return ours.reduce((n, o) => n + o.length, 0);
  }

  it("finds the same faces, boxes, points and probabilities on face-api's demo photos", async () => {
    const files = [1, 2, 3, 4, 5, 6].map((i) => path.join(FACE_API_DEMO_DIR, `sample${i}.jpg`));
    expect(await compare(files)).toBeGreaterThanOrEqual(18);
  }, 300_000);

  it('gives the detector its faces in the photo\'s pixels, with their 5 points', async () => {
    const photo = await decodeRgb(path.join(FACE_API_DEMO_DIR, 'sample1.jpg'));
    const small = await detectionImage(photo, MTCNN_SETTINGS.detectSize);
    const faces = await mtcnnFaces(small, nets);
    const detector = await FaceDetector.create({ detector: 'mtcnn' });
    const found = await detector.detect(photo);
    const sx = photo.width / small.width;
    expect(found).toHaveLength(faces.length);
    found.forEach((d, i) => {
      const f = faces[i]!;
      expect(d.box[0]).toBeCloseTo(f.box[0] * sx, 6);
      expect(d.box[2]).toBeCloseTo((f.box[2] - f.box[0] + 1) * sx, 6);
      expect(d.points5![4]![1]).toBeCloseTo(f.points[4]![1] * (photo.height / small.height), 6);
    });
  }, 120_000);

  (SHARED_DATA ? it : it.skip)('finds the same faces on ECAF_SHARED_DATA people/ and deepface/ photos (skipped without ECAF_SHARED_DATA)', async () => {
    const pick = async (sub: string, n: number) => (await readdir(path.join(SHARED_DATA!, sub))).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, n).map((f) => path.join(SHARED_DATA!, sub, f));
    const files = [...(await pick('people', 12)), path.join(SHARED_DATA!, 'people', 'solvay1927.jpg'), ...(await pick('deepface', 8))];
    expect(await compare(files)).toBeGreaterThan(30);
  }, 600_000);
});

describe('MTCNN model files', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('a missing or corrupt model file is bad input naming the file', async () => {
    const missing = path.join(dir, 'none');
    await expect(openMtcnnNets(missing)).rejects.toThrow(ModelFileError);
    await expect(openMtcnnNets(missing)).rejects.toThrow(path.join(missing, 'pnet.onnx'));
    const corrupt = path.join(dir, 'corrupt');
    await mkdir(corrupt);
    for (const n of ['pnet', 'rnet', 'onet']) await writeFile(path.join(corrupt, `${n}.onnx`), n === 'rnet' ? 'not a model' : await import('node:fs/promises').then((fs) => fs.readFile(path.join(MTCNN_MODEL_DIR, `${n}.onnx`))));
    const err = await openMtcnnNets(corrupt).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(path.join(corrupt, 'rnet.onnx'));
  });

  it('align stops with that error (exit 2 in the CLI) before touching a photo', async () => {
    const root = path.join(dir, 'root');
    const bytes = await import('node:fs/promises').then((fs) => fs.readFile(path.join(FACE_API_DEMO_DIR, 'sample2.jpg')));
    await makeRoot(root, [{ id: 'a', bytes, crawlStatus: 'ok' }]);
    const err = await align({ root, workers: 1, progress: false, mtcnnModelDir: path.join(dir, 'none') }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(path.join(dir, 'none', 'pnet.onnx'));
  }, 60_000);
});
