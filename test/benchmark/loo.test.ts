/** @jest-environment ./test/helpers/onnx-environment.cjs */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { leaveOneOutIdentification, type LooResult } from '../../src/benchmark/loo.js';
import { jsBlockProduct } from '../../src/similarity/block-product.js';
import { openOnnxBlockProduct } from '../../src/similarity/onnx-gemm.js';
import { InterruptedError } from '../../src/util/errors.js';
import { describeWithPython, PYTHON } from '../helpers/python.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const withNumpy = describeWithPython(['numpy']);

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * People with a centre each and photos around it, entries multiples of 1/4 so every dot product
 * is exact in float32 and float64 alike (ties happen, and must be ranked the same way).
 */
function synthetic(seed: number, people: number, dim: number) {
  const rand = lcg(seed);
  const emb: number[][] = [];
  const ids: string[] = [];
  const ages: (number | null)[] = [];
  for (let p = 0; p < people; p++) {
    const centre = Array.from({ length: dim }, () => Math.floor(rand() * 9) - 4);
    const photos = 1 + Math.floor(rand() * 6); // some people have one photo: no mate
    const born = Math.floor(rand() * 40);
    for (let k = 0; k < photos; k++) {
      emb.push(centre.map((c) => (c + Math.floor(rand() * 7) - 3) / 4));
      ids.push(`p${p}`);
      ages.push(rand() < 0.1 ? null : born + Math.floor(rand() * 40));
    }
  }
  return { emb, ids, ages, dim };
}

function numpyRef(s: ReturnType<typeof synthetic>) {
  const run = spawnSync(PYTHON, [path.join(HERE, 'loo_ref.py')], { input: JSON.stringify({ emb: s.emb, ids: s.ids, ages: s.ages, child: 12, adult: 18 }), encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as { rank1: number; rank5: number; groups: Record<string, [number, number, number]>; gaps: Record<string, [number, number, number]> };
}

function expectSame(r: LooResult, ref: ReturnType<typeof numpyRef>) {
  expect(Math.abs(r.rank1 - ref.rank1)).toBeLessThan(1e-12);
  expect(Math.abs(r.rank5 - ref.rank5)).toBeLessThan(1e-12);
  const asMap = (b: LooResult['byAgeGroup']) => Object.fromEntries(b.map((x) => [x.label, [x.probes, x.rank1, x.rank5]]));
  expect(asMap(r.byAgeGroup)).toEqual(ref.groups);
  expect(asMap(r.byAgeGap)).toEqual(ref.gaps);
}

withNumpy('leave-one-out identification against numpy (full matrix) on synthetic people', () => {
  for (const [seed, people, dim] of [
    [1, 120, 32],
    [5, 60, 8],
  ] as const) {
    const s = synthetic(seed, people, dim);
    const flat = Float32Array.from(s.emb.flat());
    const age = Float64Array.from(s.ages, (a) => a ?? Number.NaN);
    const ref = numpyRef(s);

    it(`seed ${seed}: ${s.ids.length} images, ${people} people: JS blocks of 7 probes`, async () => {
      const r = await leaveOneOutIdentification(flat, s.ids, age, dim, { block: 7 });
      expect(r.images).toBe(s.ids.length);
      expect(r.probes + r.probesWithoutMate).toBe(s.ids.length);
      expectSame(r, ref);
    });

    it(`seed ${seed}: onnxruntime's Gemm gives the same result`, async () => {
      const ort = await openOnnxBlockProduct();
      try {
        const r = await leaveOneOutIdentification(flat, s.ids, age, dim, { block: 50, product: ort.product });
        expectSame(r, ref);
      } finally {
        await ort.close();
      }
    });
  }
});

describe('block products', () => {
  it('onnxruntime Gemm equals the JS product on continuous vectors (float32 rounding only)', async () => {
    const rand = lcg(9);
    const a = Float32Array.from({ length: 13 * 37 }, () => rand() - 0.5);
    const b = Float32Array.from({ length: 29 * 37 }, () => rand() - 0.5);
    const ort = await openOnnxBlockProduct();
    try {
      const x = await ort.product(a, 13, b, 29, 37);
      const y = await jsBlockProduct(a, 13, b, 29, 37);
      expect(x.length).toBe(13 * 29);
      x.forEach((v, i) => expect(Math.abs(v - y[i]!)).toBeLessThan(1e-5));
    } finally {
      await ort.close();
    }
  });

  it('stops between blocks when the signal aborts (exit 130)', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(leaveOneOutIdentification(Float32Array.from([1, 0, 0, 1]), ['a', 'a'], [1, 2], 2, { signal: ac.signal })).rejects.toBeInstanceOf(InterruptedError);
  });

  it('a person with one photo is a gallery distractor, never a probe', async () => {
    // a and b are one person; c alone sits closer to a than b does
    const emb = Float32Array.from([1, 0, 0.6, 0.8, 0.9, -0.1]);
    const r = await leaveOneOutIdentification(emb, ['x', 'x', 'y'], [10, 30, Number.NaN], 2);
    expect(r.probes).toBe(2);
    expect(r.probesWithoutMate).toBe(1);
    expect(r.cmc[0]).toBe(0.5); // b finds a first (0.6 vs 0.54 - 0.08); a finds c first (0.9 > 0.6)
    expect(r.cmc[1]).toBe(1);
    expect(r.byAgeGroup).toEqual([
      { label: 'child (<= 12)', probes: 1, rank1: 0, rank5: 1 },
      { label: 'adult (>= 18)', probes: 1, rank1: 1, rank5: 1 },
    ]);
    expect(r.byAgeGap).toEqual([{ label: '20-30', probes: 2, rank1: 0.5, rank5: 1 }]);
  });
});
