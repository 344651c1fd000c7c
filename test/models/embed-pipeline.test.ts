import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { embeddingOf, embedImages } from '../../src/models/embed-pipeline.js';
import type { Embedder, Preprocessing } from '../../src/models/embedder.js';
import { UsageError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** A real (if tiny) model: each image's per-channel pixel sums, so a solid colour embeds to its own direction. */
function channelSums(): Embedder & { calls: number[] } {
  const pre: Preprocessing = { size: 4, mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255], bgr: false, layout: 'nchw' };
  const plane = pre.size * pre.size;
  const calls: number[] = [];
  return {
    info: { kind: 'onnx', model: 'sums', device: 'cpu', flipRule: 'insightface', details: {}, weightsKey: 'sums', precision: 'fp32' },
    preprocessing: pre,
    dim: 3,
    calls,
    embed: async (input, n) => {
      calls.push(n);
      const out = new Float32Array(n * 3);
      for (let k = 0; k < n; k++) for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) out[k * 3 + c]! += input[(k * 3 + c) * plane + p]!;
      return out;
    },
    close: async () => undefined,
  };
}

const COLOURS: [number, number, number][] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [3, 4, 0], [0, 6, 8]];

async function images(): Promise<{ name: string; file: string }[]> {
  const folder = path.join(dir, 'image_data', 'img_mtcnn');
  await fs.mkdir(folder, { recursive: true });
  const out = [];
  for (const [k, [r, g, b]] of COLOURS.entries()) {
    const file = path.join(folder, `c${k}.png`);
    await sharp({ create: { width: 4, height: 4, channels: 3, background: { r, g, b } } }).png().toFile(file);
    out.push({ name: `c${k}.png`, file });
  }
  // an image no file stands for sits in the middle of the request
  out.splice(2, 0, { name: 'gone.jpg', file: path.join(folder, 'gone.jpg') });
  return out;
}

describe('embedImages: the embed pipeline', () => {
  it('returns unit embeddings aligned with the request, missing files left undefined, and caches them; tells what became of each image', async () => {
    const req = await images();
    const cacheRoot = path.join(dir, '.ecaf-cache');
    const model = channelSums();
    const told: string[] = [];
    const tell = (at: number, outcome: string) => void (told[at] = outcome);
    const e = await embedImages(model, req, { flip: true, batch: 2, progress: false, cacheRoot, onOutcome: tell });
    expect(told).toEqual(['embedded', 'embedded', 'missing', 'embedded', 'embedded', 'embedded']);
    expect(e.images).toBe(req);
    expect(e.vectors).toHaveLength(req.length);
    expect(e.vectors[2]).toBeUndefined();
    expect(embeddingOf(e, 'gone.jpg')).toBeUndefined();
    expect(Array.from(embeddingOf(e, 'c3.png')!)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6), 0]);
    expect(Array.from(embeddingOf(e, 'c4.png')!)).toEqual([0, expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(Array.from(e.vectors[req.findIndex((r) => r.name === 'c2.png')]!)).toEqual([0, 0, 1]);
    // 5 images in batches of 2, each with its mirror image
    expect(model.calls).toEqual([4, 4, 2]);
    expect(e.stats).toMatchObject({ embedded: 5, fromCache: 0 });

    const again = await embedImages(channelSums(), req, { flip: true, progress: false, cacheRoot, onOutcome: tell });
    expect(told).toEqual(['cached', 'cached', 'missing', 'cached', 'cached', 'cached']);
    expect(again.stats).toMatchObject({ embedded: 0, fromCache: 5 });
    expect(again.vectors.map((v) => v && Array.from(v))).toEqual(e.vectors.map((v) => v && Array.from(v)));
  });

  it('stops after the batch in flight when the signal aborts, keeping it cached for the rerun', async () => {
    const req = await images();
    const cacheRoot = path.join(dir, '.ecaf-cache');
    const stop = new AbortController();
    stop.abort();
    const told: string[] = [];
    const run = await embedImages(channelSums(), req, { flip: false, batch: 2, progress: false, signal: stop.signal, cacheRoot, onOutcome: (at, outcome) => void (told[at] = outcome) });
    expect(told).toEqual(['embedded', 'embedded', 'missing', 'dropped', 'dropped', 'dropped']);
    expect(run.interrupted).toBe(true);
    expect(run.stats).toMatchObject({ embedded: 2, dropped: 3, fromCache: 0 });
    const rerun = await embedImages(channelSums(), req, { flip: false, batch: 2, progress: false, cacheRoot });
    expect(rerun.stats).toMatchObject({ embedded: 3, fromCache: 2 });
  });

  it('names an image that does not decode (UsageError)', async () => {
    const req = await images();
    await fs.writeFile(req[0]!.file, 'not a png');
    const run = embedImages(channelSums(), req, { flip: true, progress: false, cacheRoot: path.join(dir, '.ecaf-cache') });
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(`${req[0]!.file}: cannot decode this aligned image`);
  });
});

/** channelSums plus estimates: age = the red channel's mean / 2.55, probability of male = the green one's / 255. */
function channelSumsWithAge(): Embedder & { calls: number[]; estimateCalls: number[] } {
  const base = channelSums();
  const estimateCalls: number[] = [];
  const plane = base.preprocessing.size ** 2;
  return {
    ...base,
    estimateCalls,
    estimates: { age: true, gender: true, ageGroups: false, weightsKey: 'sums-age' },
    embedAndEstimate: async (input, n) => {
      estimateCalls.push(n);
      const embeddings = await base.embed(input, n);
      const mean = (k: number, c: number) => embeddings[k * 3 + c]! / plane;
      return { embeddings, estimates: { age: Float32Array.from({ length: n }, (_, k) => mean(k, 0) / 2.55), male: Float32Array.from({ length: n }, (_, k) => mean(k, 1) / 255) } };
    },
  };
}

describe('embedImages with a model that estimates age and gender', () => {
  it('keeps each image estimate beside its embedding, cached apart; --no-age leaves them out', async () => {
    const req = await images();
    const cacheRoot = path.join(dir, '.ecaf-cache');
    // embeddings cached first by a run without estimates: the next run computes the estimates only once more
    await embedImages(channelSumsWithAge(), req, { flip: true, progress: false, cacheRoot, estimates: false });
    const model = channelSumsWithAge();
    const e = await embedImages(model, req, { flip: true, batch: 8, progress: false, cacheRoot });
    expect(model.estimateCalls).toEqual([10]);
    expect(model.calls).toEqual([10]);
    expect(e.stats).toMatchObject({ embedded: 5, fromCache: 0 });
    const red = e.estimates![req.findIndex((r) => r.name === 'c0.png')]!;
    expect(red[0]).toBeCloseTo(100, 4);
    expect(red[1]).toBe(0);
    expect(e.estimates![2]).toBeUndefined();
    expect(e.estimates![req.findIndex((r) => r.name === 'c1.png')]![1]).toBe(1);

    const again = channelSumsWithAge();
    const cached = await embedImages(again, req, { flip: true, progress: false, cacheRoot });
    expect(again.estimateCalls).toEqual([]);
    expect(cached.stats).toMatchObject({ embedded: 0, fromCache: 5 });
    expect(cached.estimates!.map((v) => v && Array.from(v))).toEqual(e.estimates!.map((v) => v && Array.from(v)));
    expect((await embedImages(channelSumsWithAge(), req, { flip: true, progress: false, cacheRoot, estimates: false })).estimates).toBeUndefined();
  });
});
