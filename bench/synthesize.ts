/**
 * `npm run bench:synthesize`: rendered faces per second (a face at one age group) of `ecaf
 * synthesize`'s rendering against a plain PyTorch forward of the same model in the same run
 * (python/ecaf_torch/runtime.py's render on the same faces: encoder once per face, aging and
 * decoder once per group), and the worker's peak memory. A random-weight checkpoint with all
 * 843 keys at the released shapes (1.1 GB) is made once under $TMPDIR/ecaf-bench-synth.
 * Goal (CPU, 2 cores): the pipe costs < 10%; peak memory < 3 GB.
 *
 * ECAF_BENCH_FACES=4 ECAF_BENCH_DEVICE=cpu|cuda ECAF_BENCH_FP16=1
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { pythonEnv, pythonExecutable } from '../dist/models/torch-python.js';
import { runStage } from '../dist/stage.js';
import { synthesisStage } from '../dist/synthesis/index.js';
import { readFaces } from '../dist/synthesis/inputs.js';
import { FACE_API_DEMO_DIR } from '../dist/util/faceapi.js';
import { fileSha256 } from '../dist/util/hash.js';

const run = promisify(execFile);
const FACES = Number(process.env.ECAF_BENCH_FACES ?? 4);
const DEVICE = (process.env.ECAF_BENCH_DEVICE ?? 'cpu') as 'cpu' | 'cuda';
const FP16 = process.env.ECAF_BENCH_FP16 === '1';
const WORK = path.join(os.tmpdir(), 'ecaf-bench-synth');
const GROUPS = [0, 1, 2, 3, 4, 5, 6];

/** Peak resident memory of the running synthesis worker, sampled from /proc. */
function workerPeak(): { stop: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ecaf_torch.synth_worker')) continue;
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      } catch {
        // the process ended between the listing and the read
      }
    }
  }, 250);
  return { stop: () => (clearInterval(timer), peak) };
}

const PLAIN = `
import json, sys, time, torch
from ecaf_torch.checkpoint import load_synthesis
from ecaf_torch.runtime import pick_device, prepare, render, setup_threads
setup_threads()
device, fp16, _ = pick_device(sys.argv[2], sys.argv[3] == '1')
model, _ = load_synthesis(sys.argv[1])
model = prepare(model, device)
n = int(sys.argv[4])
x = torch.rand(n, 3, 112, 112) * 2 - 1
t = time.perf_counter()
render(model, x, list(range(7)), device, fp16)
print(json.dumps({'seconds': time.perf_counter() - t, 'threads': torch.get_num_threads()}))
`;

console.log(`uptime: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await mkdir(WORK, { recursive: true });
const ckpt = path.join(WORK, 'mtlface-random.pth');
if (!existsSync(ckpt)) await run(pythonExecutable(), ['-m', 'ecaf_torch.make_checkpoint', ckpt, '--synthesis', '--seed', '1'], { env: pythonEnv(), maxBuffer: 1 << 24 });
const root = path.join(WORK, 'root');
await rm(root, { recursive: true, force: true });
const mtcnn = path.join(root, 'image_data', 'img_mtcnn');
await mkdir(mtcnn, { recursive: true });
for (let i = 0; i < FACES; i++) await writeFile(path.join(mtcnn, `face${i}.jpg`), await sharp(path.join(FACE_API_DEMO_DIR, `sample${(i % 6) + 1}.jpg`)).resize(112, 112, { fit: 'cover' }).jpeg({ quality: 95 }).toBuffer());

const p0 = performance.now();
const plain = JSON.parse((await run(pythonExecutable(), ['-c', PLAIN, ckpt, DEVICE, FP16 ? '1' : '0', String(FACES)], { env: pythonEnv() })).stdout) as { seconds: number; threads: number };
const plainWall = (performance.now() - p0) / 1000;
const sha = await fileSha256(ckpt);
const faces = await readFaces(mtcnn);
const o = { root, model: ckpt, groups: GROUPS, device: DEVICE, fp16: FP16, batch: FACES, log: () => undefined };
const settings = { checkpointSha256: sha, noise: 'stored' as const, precision: FP16 ? ('fp16' as const) : ('fp32' as const) };
const peak = workerPeak();
const t0 = performance.now();
const r = await runStage(synthesisStage(o, settings), { faces, groups: GROUPS, settings, done: new Set<string>() });
const seconds = (performance.now() - t0) / 1000;
const mem = peak.stop();
const renders = FACES * GROUPS.length;
console.log(`| renderer | faces x groups | seconds | rendered faces/s |`);
console.log(`|---|---|---|---|`);
console.log(`| plain PyTorch forward (runtime.render, ${DEVICE}${FP16 ? ' fp16' : ''}, ${plain.threads} threads): the forward alone | ${FACES} x 7 | ${plain.seconds.toFixed(1)} | ${(renders / plain.seconds).toFixed(3)} |`);
console.log(`| the same, with Python's start and the checkpoint's load | ${FACES} x 7 | ${plainWall.toFixed(1)} | ${(renders / plainWall).toFixed(3)} |`);
console.log(`| ecaf synthesize's rendering (worker start, load, pipe, PNG writes) | ${FACES} x 7 | ${seconds.toFixed(1)} | ${(renders / seconds).toFixed(3)} |`);
console.log(`ecaf against the plain process (both start Python and load the checkpoint): ${((100 * (seconds - plainWall)) / plainWall).toFixed(1)}%; worker peak RSS ${(mem / 2 ** 30).toFixed(2)} GiB; ${r.outcomes.rendered} faces rendered`);
console.log(`uptime: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
