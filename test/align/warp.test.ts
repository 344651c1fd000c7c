import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { alignMtcnn } from '../../src/align/align-image.js';
import { applySimilarity, type Affine, type Point } from '../../src/align/similarity.js';
import { mtcnnTemplate } from '../../src/align/template.js';
import { lanczosTaps, transformResize, warpAffine } from '../../src/align/warp.js';
import type { RgbImage } from '../../src/util/faceapi.js';
import { describeWithPython, PYTHON } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** A black image with a bright Gaussian blob (sigma 2.5 px) centred on each point. */
function blobs(width: number, height: number, points: readonly Point[]): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let v = 0;
      for (const [px, py] of points) v += 255 * Math.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * 2.5 ** 2));
      data.fill(Math.min(255, Math.round(v)), (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { data, width, height };
}

/** Intensity-weighted centroid of the blob near `p` (window of +-r px). */
function centroid(img: RgbImage, p: Point, r: number): Point {
  let sx = 0, sy = 0, s = 0;
  for (let y = Math.round(p[1]) - r; y <= Math.round(p[1]) + r; y++) {
    for (let x = Math.round(p[0]) - r; x <= Math.round(p[0]) + r; x++) {
      const v = img.data[(y * img.width + x) * 3]!;
      sx += v * x;
      sy += v * y;
      s += v;
    }
  }
  return [sx / s, sy / s];
}

describe('5-point warp', () => {
  const cases = [
    { name: 'rotated, enlarged face', theta: 0.35, scale: 2.2, tx: 60, ty: 30, size: 112 },
    { name: 'small tilted face near the border', theta: -0.6, scale: 0.9, tx: -20, ty: 10, size: 112 },
    { name: 'output 224', theta: 0.1, scale: 1.5, tx: 20, ty: 15, size: 224 },
  ];
  for (const c of cases) {
    it(`puts the 5 points within 0.5 px of the template: ${c.name}`, () => {
      const t = { a: c.scale * Math.cos(c.theta), b: c.scale * Math.sin(c.theta), tx: c.tx, ty: c.ty };
      const template = mtcnnTemplate(c.size);
      // where the face sits in the photo: the template at 112 moved by the similarity
      const inPhoto = mtcnnTemplate(112).map((p) => applySimilarity(t, p));
      const photo = blobs(320, 280, inPhoto);
      const out = alignMtcnn(photo, inPhoto, c.size);
      expect([out.width, out.height]).toEqual([c.size, c.size]);
      const found = template.map((p) => centroid(out, p, Math.round(c.size / 16)));
      for (let i = 0; i < 5; i++) {
        expect(Math.hypot(found[i]![0] - template[i]![0], found[i]![1] - template[i]![1])).toBeLessThan(0.5);
      }
    });
  }

  it('fills what lies outside the photo with black, and interpolates bilinearly', () => {
    const src: RgbImage = { data: Buffer.from([0, 0, 0, 100, 100, 100, 200, 200, 200, 50, 50, 50]), width: 2, height: 2 };
    // sample (0.5, 0.5) between all four pixels, and (-5, -5) outside
    const mid = warpAffine(src, [1, 0, 0.5, 0, 1, 0.5], 1, 1);
    expect([...mid.data]).toEqual([88, 88, 88]);
    expect([...warpAffine(src, [1, 0, -5, 0, 1, -5], 1, 1).data]).toEqual([0, 0, 0]);
    // OpenCV's constant border: half a pixel outside blends with black
    expect([...warpAffine(src, [1, 0, -0.5, 0, 1, 0], 1, 1).data]).toEqual([0, 0, 0]);
    expect([...warpAffine(src, [1, 0, 1.5, 0, 1, 1], 1, 1).data]).toEqual([25, 25, 25]);
  });
});

/** Red: an 8-px checkerboard (sharp edges); green: a ramp; blue: pseudo-random noise. */
function synthetic(width: number, height: number): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  let seed = 12345;
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 3) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      data[o] = ((x >> 3) + (y >> 3)) % 2 ? 200 : 30;
      data[o + 1] = Math.floor((x * 255) / (width - 1));
      data[o + 2] = seed >>> 24;
    }
  }
  return { data, width, height };
}

/** Output pixel centres of a T x T square to source pixel centres: turned by `angle`, `scale` source px per square px, centred on (cx, cy). */
function squareInverse(t: number, angle: number, scale: number, cx: number, cy: number): Affine {
  const a = scale * Math.cos(angle), b = scale * Math.sin(angle);
  const h = (t - 1) / 2;
  return [a, -b, cx - a * h + b * h, b, a, cy - b * h - a * h];
}

describe('fused transform and Lanczos shrink (transformResize)', () => {
  it('has PIL-like Lanczos windows: 6 output pixels wide, cut and renormalised at the ends, zero at the other integers', () => {
    const four = lanczosTaps(16, 4);
    expect(four.taps).toBe(24);
    for (let i = 0; i < 16; i++) {
      const w = four.weights.subarray(i * 24, i * 24 + 24);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    // an interior window is symmetric about its output pixel; the first one starts at sample 0 with a cut window
    const mid = [...four.weights.subarray(8 * 24, 9 * 24)];
    expect(four.start[8]).toBe(4 * 8 + 2 - 12);
    mid.forEach((v, j) => expect(v).toBeCloseTo(mid[23 - j]!, 12));
    expect([four.start[0], four.lo[0], four.hi[0]]).toEqual([0, 0, 14]);
    // one sample per pixel: the Lanczos kernel vanishes at the non-zero integers, so the identity
    const one = lanczosTaps(16, 1);
    expect(one.taps).toBe(1);
    expect([...one.weights]).toEqual(Array(16).fill(1));
    const three = lanczosTaps(16, 3);
    expect(three.weights[8 * three.taps + 3 * 8 + 1 - 3 - three.start[8]!]).toBe(0); // one output pixel off centre
  });

  it('keeps a flat image flat at every density and turn, and fills outside the photo with black', () => {
    const flat: RgbImage = { data: Buffer.alloc(40 * 30 * 3, 117), width: 40, height: 30 };
    for (const samples of [1, 2, 3, 4]) {
      const out = transformResize(flat, squareInverse(64, 0.4, 0.3, 20, 15), 16, 64, samples);
      expect(new Set(out.data)).toEqual(new Set([117]));
      expect(new Set(transformResize(flat, squareInverse(64, 0.4, 0.3, 200, 15), 16, 64, samples).data)).toEqual(new Set([0]));
    }
  });

  it('rejects a density the transform square does not have', () => {
    const flat: RgbImage = { data: Buffer.alloc(12, 1), width: 2, height: 2 };
    expect(() => transformResize(flat, [1, 0, 0, 0, 1, 0], 4, 16, 5)).toThrow(/samples must be an integer from 1 to 4/);
    expect(() => transformResize(flat, [1, 0, 0, 0, 1, 0], 4, 16, 1.5)).toThrow(RangeError);
  });
});

const withPython = describeWithPython(['numpy', 'PIL.Image']);

withPython('transformResize against PIL transform(BILINEAR) + resize(LANCZOS) in floating point (needs /usr/bin/python3 with numpy, PIL)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const src = synthetic(90, 80);
  const large = synthetic(200, 180);
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } }).png().toFile(path.join(dir, 'src.png'));
    await sharp(large.data, { raw: { width: large.width, height: large.height, channels: 3 } }).png().toFile(path.join(dir, 'large.png'));
  });
  afterAll(() => cleanup());

  async function pil(inverse: Affine, t: number, n: number, image = 'src.png'): Promise<Float32Array> {
    const out = path.join(dir, 'pil.raw');
    const r = spawnSync(PYTHON, [path.join(HERE, 'pil_transform.py'), path.join(dir, image), ...inverse.map(String), String(t), String(n), out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const bytes = await readFile(out);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }

  /** Max and mean of |ours - floor(PIL)|, and the share of values that differ. */
  function compare(ours: Buffer, ref: Float32Array): { max: number; mean: number; differ: number } {
    expect(ours.length).toBe(ref.length);
    let max = 0, sum = 0, differ = 0;
    for (let i = 0; i < ref.length; i++) {
      const d = Math.abs(ours[i]! - Math.min(255, Math.max(0, Math.floor(ref[i]! + 1e-4))));
      max = Math.max(max, d);
      sum += d;
      if (d) differ++;
    }
    return { max, mean: sum / ref.length, differ: differ / ref.length };
  }

  const full = [
    { name: 'turned, inside the photo', inverse: squareInverse(128, 0.3, 0.3, 45, 40) },
    { name: 'turned the other way, partly outside the photo (black, clamped edge taps)', inverse: squareInverse(128, -0.5, 0.45, 15, 70) },
    { name: 'a pure 4x Lanczos shrink (identity transform)', inverse: [1, 0, 10, 0, 1, 0] as Affine },
  ];
  for (const c of full) {
    it(`equals PIL at the full density, up to the floor of values within 1e-4 of an integer: ${c.name}`, async () => {
      const ref = await pil(c.inverse, 128, 32);
      const d = compare(transformResize(src, c.inverse, 32, 128, 4).data, ref);
      expect(d.max).toBeLessThanOrEqual(1);
      expect(d.differ).toBeLessThan(0.002);
    });
  }

  // at the largest spacing ffhqSamples allows each density (src/align/ffhq.ts), on a photo larger than the
  // square (FFHQ's padding keeps the quad inside); the noise channel is the worst case for a coarse density
  const coarse = [
    { samples: 1, spacing: 0.1, mean: 0.1, max: 5 },
    { samples: 2, spacing: 0.8, mean: 0.3, max: 3 },
    { samples: 3, spacing: 1.2, mean: 0.15, max: 2 },
  ];
  for (const c of coarse) {
    it(`stays within a few grey levels of PIL's full density with ${c.samples} sample(s) per pixel at ${c.spacing} source px per output px`, async () => {
      const inverse = squareInverse(256, 0.3, c.spacing / 4, 100, 90);
      const ref = await pil(inverse, 256, 64, 'large.png');
      const d = compare(transformResize(large, inverse, 64, 256, c.samples).data, ref);
      expect(d.mean).toBeLessThan(c.mean);
      expect(d.max).toBeLessThanOrEqual(c.max);
    });
  }
});
