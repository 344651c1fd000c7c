// Images/s of an MTLFace checkpoint through ecaf's TypeScript side (openTorchEmbedder: float32
// frames over the worker's pipe), on batches shaped like python/ecaf_torch/throughput.py's.
// Usage: node scripts/torch-pipe-throughput.mjs CHECKPOINT DEVICE COUNT BATCH [fp16]   (needs dist/: npm run build)
import { openTorchEmbedder } from '../dist/models/torch.js';

const [checkpoint, device = 'cuda', countArg = '20000', batchArg = '256', fp16Arg = ''] = process.argv.slice(2);
const count = Number(countArg);
const batch = Number(batchArg);
const IMAGE = 3 * 112 * 112;
const POOL = 4;
const WARMUP = 2;
// requests in flight: the next frames are in the pipe while the worker computes
const IN_FLIGHT = 3;

let seed = 1;
const pool = Array.from({ length: POOL }, () => {
  const x = new Float32Array(batch * IMAGE);
  for (let i = 0; i < x.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    x[i] = (seed / 2 ** 32) * 2 - 1;
  }
  return x;
});
const sizes = [];
for (let i = 0; i < count; i += batch) sizes.push(Math.min(batch, count - i));

const embedder = await openTorchEmbedder(checkpoint, { device, fp16: fp16Arg === 'fp16', batch, log: () => undefined });
const send = (k) => embedder.embed(pool[k % POOL].subarray(0, sizes[k] * IMAGE), sizes[k]);
for (let k = 0; k < Math.min(WARMUP, sizes.length); k++) await send(k);
const start = performance.now();
let next = 0;
async function lane() {
  while (next < sizes.length) await send(next++);
}
await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
const seconds = (performance.now() - start) / 1000;
await embedder.close();
console.log(JSON.stringify({
  mode: 'typescript', device: embedder.info.device, batch, images: count,
  seconds: Number(seconds.toFixed(3)), images_per_s: Number((count / seconds).toFixed(1)),
}));
