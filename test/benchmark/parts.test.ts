import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ageGapResults } from '../../src/benchmark/age-gap.js';
import { EmbeddingCache, imageKey } from '../../src/models/embedding-cache.js';
import type { Preprocessing } from '../../src/models/embedder.js';
import { combineViews } from '../../src/models/flip.js';
import { closedSetIdentification } from '../../src/benchmark/identification.js';
import { loadFace, writeTensor } from '../../src/models/preprocess.js';
import { rocSvg } from '../../src/benchmark/report/roc-svg.js';
import { TEMP_MARKER } from '../../src/util/atomic.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('combineViews: the two flip rules', () => {
  // one image, dim 2: original view (3, 4), mirror view (0, 1)
  const raw = Float32Array.from([3, 4, 0, 1]);
  it('insightface adds the raw views, then normalises', () => {
    const v = combineViews(raw, 1, 2, true, 'insightface');
    expect(v[0]).toBeCloseTo(3 / Math.hypot(3, 5), 6);
    expect(v[1]).toBeCloseTo(5 / Math.hypot(3, 5), 6);
  });
  it('mtlface normalises each view first', () => {
    const v = combineViews(raw, 1, 2, true, 'mtlface');
    // (0.6, 0.8) + (0, 1) = (0.6, 1.8)
    expect(v[0]).toBeCloseTo(0.6 / Math.hypot(0.6, 1.8), 6);
    expect(v[1]).toBeCloseTo(1.8 / Math.hypot(0.6, 1.8), 6);
  });
  it('without flip only normalises, and leaves the input alone', () => {
    expect(Array.from(combineViews(raw, 2, 2, false, 'mtlface'))).toEqual([0.6000000238418579, 0.800000011920929, 0, 1]);
    expect(Array.from(raw)).toEqual([3, 4, 0, 1]);
  });
});

describe('preprocess', () => {
  // a 2x2 RGB image: pixel (x, y) has channels (10x + 100y + 1, 2, 3)
  const img = { width: 2, height: 2, data: Buffer.from([1, 2, 3, 11, 2, 3, 101, 2, 3, 111, 2, 3]) };
  const pre = (o: Partial<Preprocessing>): Preprocessing => ({ size: 2, mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255], bgr: false, layout: 'nchw', ...o });
  it('writes NCHW, NHWC, BGR and the mirror image', () => {
    const out = new Float32Array(12);
    writeTensor(img, pre({}), out, 0, false);
    expect(Array.from(out.subarray(0, 4)).map(Math.round)).toEqual([1, 11, 101, 111]);
    writeTensor(img, pre({}), out, 0, true);
    expect(Array.from(out.subarray(0, 4)).map(Math.round)).toEqual([11, 1, 111, 101]);
    writeTensor(img, pre({ layout: 'nhwc', bgr: true }), out, 0, false);
    expect(Array.from(out.subarray(0, 6)).map(Math.round)).toEqual([3, 2, 1, 3, 2, 11]);
  });
  it('applies (pixel / 255 - mean) / std', () => {
    const out = new Float32Array(12);
    writeTensor(img, pre({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }), out, 0, false);
    expect(out[0]).toBeCloseTo((1 / 255 - 0.5) / 0.5, 6);
    expect(out[4]).toBeCloseTo((2 / 255 - 0.5) / 0.5, 6);
  });
  it('pads a non-square face to a centred square and resizes it', async () => {
    const file = path.join(dir, 'wide.png');
    // 40x20 white: padded to 40x40 with black above and below, then 20x20
    await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toFile(file);
    const face = await loadFace(file, 20);
    expect([face.width, face.height, face.data.length]).toEqual([20, 20, 20 * 20 * 3]);
    const at = (x: number, y: number) => face.data[(y * 20 + x) * 3]!;
    expect(at(10, 1)).toBeLessThan(20);
    expect(at(10, 10)).toBe(255);
    expect(at(10, 18)).toBeLessThan(20);
  });
});

describe('EmbeddingCache', () => {
  const setting = { weightsKey: 'abc', precision: 'fp32' as const, preprocessing: { size: 2, mean: [0, 0, 0], std: [1, 1, 1], bgr: false, layout: 'nchw' } as Preprocessing, flip: true, flipRule: 'insightface' as const, dim: 3 };
  it('reads back what a previous run stored, per setting', async () => {
    const c1 = await EmbeddingCache.open(dir, setting);
    await c1.add(['a', 'b'], Float32Array.from([1, 2, 3, 4, 5, 6]));
    await fs.writeFile(path.join(c1.dir, `${TEMP_MARKER}x.bin.123`), 'torn'); // a killed write
    const c2 = await EmbeddingCache.open(dir, setting);
    expect(c2.size).toBe(2);
    expect(Array.from(c2.get('b')!)).toEqual([4, 5, 6]);
    expect((await fs.readdir(c2.dir)).some((n) => n.startsWith(TEMP_MARKER))).toBe(false);
    const other = await EmbeddingCache.open(dir, { ...setting, flip: false });
    expect(other.size).toBe(0);
    expect(other.dir).not.toBe(c2.dir);
    const half = await EmbeddingCache.open(dir, { ...setting, precision: 'fp16' });
    expect(half.size).toBe(0);
  });
  it('keys an image by name, size and modification time', async () => {
    const f = path.join(dir, 'x.jpg');
    await fs.writeFile(f, 'one');
    const k1 = await imageKey(f, 'x.jpg');
    await fs.writeFile(f, 'three');
    expect(await imageKey(f, 'x.jpg')).not.toBe(k1);
    expect(await imageKey(path.join(dir, 'none.jpg'), 'none.jpg')).toBeUndefined();
  });
});

describe('closedSetIdentification, by hand', () => {
  it('ranks identities by their best photo; ties count against the mate', () => {
    // dim 2; gallery: A at (1,0) and (0,1), B at (0.8,0.6), C at (0.6,0.8)
    const gallery = Float32Array.from([1, 0, 0, 1, 0.8, 0.6, 0.6, 0.8]);
    const gid = ['A', 'A', 'B', 'C'];
    // probe 1 (A) at (1,0): A 1.0 first; probe 2 (B) at (0,1): A 1.0, C 0.8, B 0.6 -> rank 3
    // probe 3 (Z) has no adult photo
    const r = closedSetIdentification(Float32Array.from([1, 0, 0, 1, 1, 0]), ['A', 'B', 'Z'], gallery, gid, 2, 3);
    expect(r).toMatchObject({ probes: 2, probesWithoutMate: 1, galleryImages: 4, galleryIdentities: 3, rank1: 0.5 });
    expect(r.cmc).toEqual([0.5, 0.5, 1]);
    const tie = closedSetIdentification(Float32Array.from([1, 0]), ['B'], Float32Array.from([1, 0, 1, 0]), ['A', 'B'], 2, 2);
    expect(tie.cmc).toEqual([0, 1]);
  });
});

describe('ageGapResults, by hand', () => {
  it('scores each bin at the thresholds of each pair fold', () => {
    const p = { dist: Float64Array.from([0.5, 1.5, 0.9, 1.0]), same: Uint8Array.from([1, 0, 1, 0]), fold: Int32Array.from([0, 0, 1, 1]), folds: 2 };
    const gap = Float64Array.from([2, 4, 35, Number.NaN]);
    const r = ageGapResults(p, gap, [1.0, 0.8], [0.6, 1.2]);
    expect(r.map((b) => b.bin)).toEqual(['0-5', '5-10', '10-20', '20-30', '30+']);
    expect(r[0]).toEqual({ bin: '0-5', pairs: 2, positives: 1, negatives: 1, accuracy: 1, tar: 1, far: 0 });
    // gap 35, fold 1: 0.9 < 0.8 is false -> wrong; TAR threshold 1.2 accepts it
    expect(r[4]).toEqual({ bin: '30+', pairs: 1, positives: 1, negatives: 0, accuracy: 0, tar: 1, far: Number.NaN });
    expect(r[1]!.pairs).toBe(0);
  });
});

describe('rocSvg', () => {
  it('draws one polyline per curve on a log-FAR axis down to the smallest FAR', () => {
    const svg = rocSvg([{ label: 'a<b', far: [1e-3, 1e-2, 1], tar: [0.5, 0.8, 1] }, { label: 'c', far: [1e-3, 1], tar: [0.2, 1] }], 'T');
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('>1e-3<');
    expect(svg).not.toContain('>1e-4<');
    expect(svg).toContain('a&lt;b');
  });

  it('takes a curve with more points than the call stack holds arguments', () => {
    const n = 300_000;
    const far = Array.from({ length: n }, (_, k) => (k + 1) / n);
    const svg = rocSvg([{ label: 'big', far, tar: far }], 'T');
    expect(svg).toContain('>1e-6<');
  });
});
