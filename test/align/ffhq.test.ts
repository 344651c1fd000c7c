import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ffhqPlan, ffhqQuad, ffhqKeyPointsFrom68, ffhqKeyPointsFrom5, ffhqSamples, rint, type FfhqKeyPoints } from '../../src/align/ffhq.js';
import { alignFfhq } from '../../src/align/ffhq-image.js';
import { gaussianBlur, gaussianBlurExact, median, reflectIndices } from '../../src/align/ffhq-pad.js';
import type { Point } from '../../src/align/similarity.js';
import { decodeRgb, FACE_API_DEMO_DIR } from '../../src/util/faceapi.js';
import { describeWithPython, PYTHON } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const keys: FfhqKeyPoints = { eyeLeft: [100, 100], eyeRight: [140, 100], mouthLeft: [105, 150], mouthRight: [135, 150] };

describe('FFHQ geometry (numbers worked by hand from the published formulas)', () => {
  it('builds the quad', () => {
    // eye_to_eye (40, 0), eye_to_mouth (0, 50): x = (40, 0) - (50, 0) * [-1, 1] = (90, 0), length max(80, 90) = 90
    // y = (0, 90), c = (120, 100) + 0.1 * (0, 50) = (120, 105), qsize = 180
    const q = ffhqQuad(keys);
    expect(q.x).toEqual([90, 0]);
    expect(q.y).toEqual([-0, 90]);
    expect(q.center).toEqual([120, 105]);
    expect(q.quad).toEqual([[30, 15], [30, 195], [210, 195], [210, 15]]);
    expect(q.qsize).toBe(180);
  });

  it('rotates the quad with a tilted face', () => {
    // the same face turned by 90 degrees: the quad turns with it
    const turned: FfhqKeyPoints = { eyeLeft: [100, 100], eyeRight: [100, 140], mouthLeft: [50, 105], mouthRight: [50, 135] };
    const q = ffhqQuad(turned);
    expect(q.x[0]).toBeCloseTo(0, 12);
    expect(q.x[1]).toBeCloseTo(90, 12);
    expect(q.center).toEqual([95, 120]);
    expect(q.qsize).toBeCloseTo(180, 12);
  });

  it('crops without padding when the quad fits (400x300 image)', () => {
    // border = max(rint(18), 3) = 18; box (30, 15, 210, 195) grown: (12, 0, 228, 213)
    // cropped quad (18, 15)-(198, 195) in 216x213: pads (0, 3, 0, 0), 3 <= border - 4: no padding
    const plan = ffhqPlan(ffhqQuad(keys), 400, 300, 1024, 4096);
    expect(plan).toMatchObject({ shrink: 1, crop: [12, 0, 228, 213], pad: null, sourceSize: [216, 213] });
    expect(plan.quad[0]).toEqual([18, 15]);
  });

  it('pads when the quad leaves the image (200x200 image)', () => {
    // crop (12, 0, 200, 200) -> 188x200; pads (0, 3, 28, 13): 28 > 14, each side >= rint(180 * 0.3) = 54
    const plan = ffhqPlan(ffhqQuad(keys), 200, 200, 1024, 4096);
    expect(plan).toMatchObject({ crop: [12, 0, 200, 200], pad: [54, 54, 54, 54], sourceSize: [296, 308] });
    expect(plan.quad[0]).toEqual([72, 69]);
    expect(plan.blurSigma).toBeCloseTo(3.6, 12);
  });

  it('shrinks big faces first (x10 face, output 256)', () => {
    // qsize 1800: shrink = floor(1800 / 256 * 0.5) = 3; image 4000x3000 -> (rint(1333.3), 1000); qsize 600
    const big: FfhqKeyPoints = { eyeLeft: [1000, 1000], eyeRight: [1400, 1000], mouthLeft: [1050, 1500], mouthRight: [1350, 1500] };
    const plan = ffhqPlan(ffhqQuad(big), 4000, 3000, 256, 1024);
    expect(plan.shrink).toBe(3);
    expect(plan.shrunkSize).toEqual([1333, 1000]);
    expect(plan.qsize).toBeCloseTo(600, 10);
  });

  it('reads the same key points from 68 landmarks and from 5 points', () => {
    const lm: Point[] = Array.from({ length: 68 }, (_, i) => [i * 2, i * 3]);
    const from68 = ffhqKeyPointsFrom68(lm);
    expect(from68).toEqual({ eyeLeft: [77, 115.5], eyeRight: [89, 133.5], mouthLeft: [96, 144], mouthRight: [108, 162] });
    expect(ffhqKeyPointsFrom5([from68.eyeLeft, from68.eyeRight, [0, 0], from68.mouthLeft, from68.mouthRight])).toEqual(from68);
  });

  it('samples the transform square less densely only where the face is small against the output', () => {
    // source pixels per output pixel = qsize / output size: up to 0.1 one sample, then at most 0.4 source px apart, up to 4
    expect([50, 102.4, 103, 409.6, 410, 819.2, 820, 1228.8, 1229, 4000].map((q) => ffhqSamples(q, 1024, 4096))).toEqual([1, 1, 2, 2, 2, 2, 3, 3, 4, 4]);
    // --ffhq-fast (transform at the output size): one sample, the transform itself
    expect(ffhqSamples(4000, 1024, 1024)).toBe(1);
    expect(() => ffhqSamples(300, 1024, 3000)).toThrow(/not a multiple of the output size/);
  });

  it('rounds half to even as numpy does', () => {
    expect([rint(0.5), rint(1.5), rint(2.5), rint(-0.5), rint(2.4)]).toEqual([0, 2, 2, -0, 2]);
  });
});

describe('FFHQ padding pieces', () => {
  it('reflects like numpy.pad(mode="reflect")', () => {
    // numpy.pad(arange(4), (5, 6), 'reflect')
    expect([...reflectIndices(4, 5, 15)]).toEqual([1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3]);
  });

  it('takes the median as numpy.median (mean of the middle two)', () => {
    expect(median(Float32Array.from([3, 1, 2, 5]))).toBe(2.5);
    expect(median(Float32Array.from([7.25, 0.5, 255, 7.2, 9]))).toBeCloseTo(7.25, 6);
  });

  it('keeps the fast large-sigma blur within a fraction of a grey level of the exact one', async () => {
    const img = await decodeRgb(path.join(FACE_API_DEMO_DIR, 'sample2.jpg'));
    const w = 400, h = 300;
    const plane = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) plane[y * w + x] = img.data[((y + 300) * img.width + x + 600) * 3]!;
    for (const sigma of [6, 13, 25]) {
      const fast = gaussianBlur(plane, w, h, sigma);
      const exact = gaussianBlurExact(plane, w, h, sigma);
      let sum = 0, max = 0;
      for (let i = 0; i < fast.length; i++) {
        const d = Math.abs(fast[i]! - exact[i]!);
        sum += d;
        max = Math.max(max, d);
      }
      expect(sum / fast.length).toBeLessThan(0.25);
      expect(max).toBeLessThan(2);
    }
  });
});

const withPython = describeWithPython(['numpy', 'scipy.ndimage', 'PIL.Image']);

withPython('FFHQ output against an independent PIL/numpy/scipy reference (needs /usr/bin/python3 with numpy, scipy, PIL)', () => {
  // key points of a face in face-api's sample1.jpg (from its 68 landmarks), fixed here so the test needs no detector
  const face: FfhqKeyPoints = {
    eyeLeft: [438.906, 456.821],
    eyeRight: [512.492, 458.361],
    mouthLeft: [448.921, 540.046],
    mouthRight: [515.798, 541.149],
  };
  const moved = (dx: number, dy: number): FfhqKeyPoints => ({
    eyeLeft: [face.eyeLeft[0] - dx, face.eyeLeft[1] - dy],
    eyeRight: [face.eyeRight[0] - dx, face.eyeRight[1] - dy],
    mouthLeft: [face.mouthLeft[0] - dx, face.mouthLeft[1] - dy],
    mouthRight: [face.mouthRight[0] - dx, face.mouthRight[1] - dy],
  });
  const quarter = (k: FfhqKeyPoints): FfhqKeyPoints => ({
    eyeLeft: [k.eyeLeft[0] / 4, k.eyeLeft[1] / 4],
    eyeRight: [k.eyeRight[0] / 4, k.eyeRight[1] / 4],
    mouthLeft: [k.mouthLeft[0] / 4, k.mouthLeft[1] / 4],
    mouthRight: [k.mouthRight[0] / 4, k.mouthRight[1] / 4],
  });
  // samples: the density ffhqSamples picks for the face (qsize 297 px in the photo); mean and max: how far ours may be
  // (the shrink step is libvips' Lanczos, not PIL's)
  const cases = [
    { name: 'no padding (whole photo)', crop: null, quarter: false, keys: face, size: 256, expect: { crop: true, pad: false, shrink: 1, samples: 3 }, mean: 0.3, max: 2 },
    { name: 'padding (face at the edge of a small photo)', crop: { left: 380, top: 400, width: 320, height: 260 }, quarter: false, keys: moved(380, 400), size: 256, expect: { crop: true, pad: true, shrink: 1, samples: 3 }, mean: 0.3, max: 2 },
    { name: 'shrink (output 64)', crop: null, quarter: false, keys: face, size: 64, expect: { crop: true, pad: false, shrink: 2, samples: 4 }, mean: 0.3, max: 3 },
    { name: 'output 512', crop: null, quarter: false, keys: face, size: 512, expect: { crop: true, pad: false, shrink: 1, samples: 2 }, mean: 0.3, max: 3 },
    { name: 'small face (photo at a quarter), output 1024', crop: null, quarter: true, keys: quarter(face), size: 1024, expect: { crop: true, pad: false, shrink: 1, samples: 1 }, mean: 0.3, max: 3 },
  ];
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  for (const c of cases) {
    it(`matches within a mean of 2/255 per channel (here ${c.mean}/255, no value ${c.max + 1} or more off): ${c.name}`, async () => {
      const input = path.join(dir, `in-${c.size}-${c.crop ? 'crop' : 'full'}.png`);
      const photo = sharp(path.join(FACE_API_DEMO_DIR, 'sample1.jpg'));
      await (c.crop ? photo.extract(c.crop) : c.quarter ? photo.resize({ width: 480 }) : photo).png().toFile(input);
      const points = path.join(dir, 'points.json');
      const k = c.keys;
      await writeFile(points, JSON.stringify({ eye_left: k.eyeLeft, eye_right: k.eyeRight, mouth_left: k.mouthLeft, mouth_right: k.mouthRight }));
      const refFile = path.join(dir, 'ref.png');
      const py = spawnSync(PYTHON, [path.join(HERE, 'ffhq_reference.py'), input, points, String(c.size), String(4 * c.size), refFile], { encoding: 'utf8' });
      expect(py.stderr).toBe('');
      const refPlan = JSON.parse(py.stdout) as { shrink: number; crop: number[] | null; pad: number[] | null; quad: Point[] };

      const ours = await alignFfhq(await decodeRgb(input), k, c.size, 4 * c.size);
      expect({ shrink: ours.plan.shrink, crop: ours.plan.crop, pad: ours.plan.pad }).toEqual({ shrink: refPlan.shrink, crop: refPlan.crop, pad: refPlan.pad });
      ours.plan.quad.forEach((p, i) => p.forEach((v, j) => expect(v).toBeCloseTo(refPlan.quad[i]![j]!, 6)));
      expect({ crop: ours.plan.crop !== null, pad: ours.plan.pad !== null, shrink: ours.plan.shrink, samples: ours.plan.samples }).toEqual(c.expect);

      const ref = await decodeRgb(refFile);
      expect([ours.image.width, ours.image.height]).toEqual([ref.width, ref.height]);
      const mae = [0, 0, 0];
      let max = 0;
      for (let i = 0; i < ref.data.length; i++) {
        const d = Math.abs(ref.data[i]! - ours.image.data[i]!);
        mae[i % 3]! += d;
        max = Math.max(max, d);
      }
      for (const m of mae) expect(m / (ref.width * ref.height)).toBeLessThan(c.mean);
      expect(max).toBeLessThanOrEqual(c.max);
    });
  }
});
