/**
 * `npm run bench:loo`: leave-one-out identification of ECAF_BENCH_LOO_IMAGES (default 100,000)
 * random unit vectors of 512-d in people of 2..8 photos, on onnxruntime's Gemm (what `ecaf
 * benchmark --identification loo` uses). Goal: under 2 minutes on 2 cores, under 2 GB.
 * Prints wall time, the product's share of it, and the peak resident memory.
 */
import os from 'node:os';
import { leaveOneOutIdentification } from '../dist/benchmark/loo.js';
import { openOnnxBlockProduct } from '../dist/similarity/onnx-gemm.js';

const N = Number(process.env.ECAF_BENCH_LOO_IMAGES ?? 100_000);
const DIM = 512;

let seed = 3;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const emb = new Float32Array(N * DIM);
const ids: string[] = [];
const age = new Float64Array(N);
let person = 0;
for (let k = 0; k < N; ) {
  const photos = 2 + Math.floor(rand() * 7);
  const centre = Float32Array.from({ length: DIM }, () => rand() - 0.5);
  const born = Math.floor(rand() * 50);
  for (let p = 0; p < photos && k < N; p++, k++) {
    let norm = 0;
    for (let i = 0; i < DIM; i++) {
      const v = centre[i]! + 0.8 * (rand() - 0.5);
      emb[k * DIM + i] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < DIM; i++) emb[k * DIM + i]! /= norm;
    ids.push(`p${person}`);
    age[k] = born + Math.floor(rand() * 30);
  }
  person++;
}

const ort = await openOnnxBlockProduct();
let productMs = 0;
const timed = async (a: Float32Array, rows: number, b: Float32Array, cols: number, dim: number) => {
  const t = performance.now();
  const r = await ort.product(a, rows, b, cols, dim);
  productMs += performance.now() - t;
  return r;
};
const t0 = performance.now();
const c0 = process.cpuUsage();
let last = 0;
const r = await leaveOneOutIdentification(emb, ids, age, DIM, {
  product: timed,
  onBlock: (done, total) => {
    if (performance.now() - last > 10_000) {
      last = performance.now();
      console.error(`  ${done}/${total} probes, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  },
});
const seconds = (performance.now() - t0) / 1000;
const cu = process.cpuUsage(c0);
await ort.close();
const rss = process.resourceUsage().maxRSS / 1024;
console.log(`leave-one-out: ${N} images x ${DIM}-d, ${r.identities} people: ${seconds.toFixed(1)} s (Gemm ${(productMs / 1000).toFixed(1)} s), peak RSS ${rss.toFixed(0)} MB; rank-1 ${(100 * r.rank1).toFixed(2)}%`);
console.log(`CPU time (all threads): ${((cu.user + cu.system) / 1e6).toFixed(1)} s`);
console.log(`goal: < 120 s and < 2048 MB -> ${seconds < 120 && rss < 2048 ? 'met' : 'NOT met'} (cores ${os.cpus().length}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
