/**
 * `npm run bench:age-overhead`: what age estimation adds to a benchmark's model time. Goal:
 * under 5%. On the same batches (each image with its mirror image, as `ecaf benchmark` runs
 * them), alternating ECAF_BENCH_REPEAT times and keeping the best of each side:
 * - builtin: face-api's descriptor alone (`embed`) against descriptor + ageGenderNet
 *   (`embedAndEstimate`, the net on the original views, on a worker thread);
 * - PyTorch (when python imports torch): a random-weight ir50 without and with an age head
 *   (same seed, so the same backbone), both through the worker.
 * The checkpoints are made once under $TMPDIR/ecaf-bench-age and reused.
 *
 * ECAF_BENCH_IMAGES=64 ECAF_BENCH_REPEAT=3 ECAF_BENCH_TORCH=0 (skip PyTorch)
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Embedder } from '../dist/models/embedder.js';
import { openEmbedder } from '../dist/models/open.js';
import { pythonEnv, pythonExecutable } from '../dist/models/torch-python.js';

const run = promisify(execFile);
const IMAGES = Number(process.env.ECAF_BENCH_IMAGES ?? 64);
const REPEAT = Number(process.env.ECAF_BENCH_REPEAT ?? 3);
const WORK = path.join(os.tmpdir(), 'ecaf-bench-age');
const BATCH = 32;

function input(e: Embedder, views: number): Float32Array {
  const x = new Float32Array(views * 3 * e.preprocessing.size * e.preprocessing.size);
  let s = 7;
  for (let i = 0; i < x.length; i++) x[i] = ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * (e.preprocessing.layout === 'nhwc' ? 255 : 2) - (e.preprocessing.layout === 'nhwc' ? 0 : 1);
  return x;
}

/** Seconds for all views in batches of BATCH images (2 * BATCH views). */
async function timeIt(f: (x: Float32Array, n: number) => Promise<unknown>, x: Float32Array, views: number, per: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < views; i += 2 * BATCH) {
    const m = Math.min(2 * BATCH, views - i);
    await f(x.subarray(i * per, (i + m) * per), m);
  }
  return (performance.now() - t0) / 1000;
}

async function compare(label: string, plain: Embedder, withAge: Embedder): Promise<void> {
  const views = 2 * IMAGES;
  const per = 3 * plain.preprocessing.size * plain.preprocessing.size;
  const x = input(plain, views);
  // one warm-up call each (tfjs compiles its kernels, the worker fills its pipe)
  await plain.embed(x.subarray(0, 2 * per), 2);
  await withAge.embedAndEstimate!(x.subarray(0, 2 * per), 2);
  let a = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let r = 0; r < REPEAT; r++) {
    a = Math.min(a, await timeIt((v, n) => plain.embed(v, n), x, views, per));
    // as the pipeline asks: estimates of the originals (the first half of each batch)
    b = Math.min(b, await timeIt((v, n) => withAge.embedAndEstimate!(v, n, n / 2), x, views, per));
  }
  console.log(`| ${label} | ${IMAGES} (x2 views) | ${a.toFixed(2)} | ${b.toFixed(2)} | ${((100 * (b - a)) / a).toFixed(1)}% |`);
}

console.log(`load average ${os.loadavg()[0]!.toFixed(2)}, ${os.cpus().length} cores; best of ${REPEAT}`);
console.log('| model | images | embed only (s) | with age (s) | added |');
console.log('|---|---|---|---|---|');
const builtin = await openEmbedder('builtin');
await compare('builtin (face-api descriptor; + ageGenderNet)', builtin, builtin);
await builtin.close();

if (process.env.ECAF_BENCH_TORCH === '0') {
  console.log('(PyTorch skipped: ECAF_BENCH_TORCH=0)');
} else if (spawnSync(pythonExecutable(), ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) {
  await mkdir(WORK, { recursive: true });
  const make = async (file: string, extra: string[]) => {
    if (!existsSync(file)) await run(pythonExecutable(), ['-m', 'ecaf_torch.make_checkpoint', file, '--depth', 'ir50', '--seed', '1', ...extra], { env: pythonEnv() });
    return file;
  };
  const plainFile = await make(path.join(WORK, 'ir50.pth'), []);
  const ageFile = await make(path.join(WORK, 'ir50-age.pth'), ['--age-head']);
  const plain = await openEmbedder(plainFile, { device: 'cpu', batch: 2 * BATCH, log: () => undefined });
  const withAge = await openEmbedder(ageFile, { device: 'cpu', batch: 2 * BATCH, log: () => undefined });
  try {
    await compare('MTLFace ir50, PyTorch CPU (+ age head)', plain, withAge);
  } finally {
    await plain.close();
    await withAge.close();
  }
} else {
  console.log(`(PyTorch skipped: ${pythonExecutable()} cannot import torch)`);
}
console.log(`load average ${os.loadavg()[0]!.toFixed(2)} at the end`);
