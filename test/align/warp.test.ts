import { alignMtcnn } from '../../src/align/align-image.js';
import { applySimilarity, type Point } from '../../src/align/similarity.js';
import { mtcnnTemplate } from '../../src/align/template.js';
import { warpAffine } from '../../src/align/warp.js';
import type { RgbImage } from '../../src/util/faceapi.js';

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
    const mid = warpAffine(src, [1, 0, 0.5, 0, 1, 0.5], 1, 1, 'zero');
    expect([...mid.data]).toEqual([88, 88, 88]);
    expect([...warpAffine(src, [1, 0, -5, 0, 1, -5], 1, 1, 'zero').data]).toEqual([0, 0, 0]);
    // OpenCV's constant border: half a pixel outside blends with black; PIL clamps to the edge
    expect([...warpAffine(src, [1, 0, -0.5, 0, 1, 0], 1, 1, 'zero').data]).toEqual([0, 0, 0]);
    expect([...warpAffine(src, [1, 0, 1.5, 0, 1, 1], 1, 1, 'zero').data]).toEqual([25, 25, 25]);
    expect([...warpAffine(src, [1, 0, 1.25, 0, 1, 1], 1, 1, 'pil').data]).toEqual([50, 50, 50]);
  });
});
