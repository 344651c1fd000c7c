import { spawn } from 'node:child_process';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { tempPathFor, writeFileAtomic } from '../util/atomic.js';
import { checkInt, InputError, InterruptedError, UsageError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { fileSha256 } from '../util/hash.js';
import { TORCH_PREPROCESSING } from './torch.js';
import { pythonEnv, pythonExecutable, pythonFailure, pythonSpawnFailure } from './torch-python.js';

/** What python/ecaf_torch/export_onnx.py reports (its one JSON line). */
interface ExportReport {
  variant: string;
  depth: string;
  prefix: string;
  describe: string;
  opset: number;
  input: string;
  output: string;
  /** Every output: `output`, then `age` and `age_group` when the checkpoint has an age head. */
  outputs: string[];
  dim: number;
  torch: string;
}

export interface ExportOnnxResult extends ExportReport {
  out: string;
  bytes: number;
  /** `<out>.json`: where the model came from and how to feed it (flip rule, preprocessing). */
  sidecar: string;
  /** Output shape onnxruntime gave for a batch of 2 (proves the dynamic batch axis runs). */
  checkedShape: number[];
}

export interface ExportOnnxOptions {
  /** ONNX opset (default 17, the highest torch 1.13 writes; onnxruntime-node 1.30 runs it). */
  opset?: number;
  signal?: AbortSignal;
}

/**
 * Turn an MTLFace checkpoint into an ONNX model (input [batch,3,112,112] in [-1,1], output
 * [batch,512] raw) that runs without Python. Written atomically, then loaded and run once in
 * onnxruntime-node before it replaces `out`.
 */
export async function exportOnnx(checkpoint: string, out: string, opts: ExportOnnxOptions = {}): Promise<ExportOnnxResult> {
  const src = path.resolve(checkpoint);
  const dest = path.resolve(out);
  if (opts.opset !== undefined) checkInt('opset', opts.opset, 9, 21);
  if (!(await stat(src).catch(() => undefined))?.isFile()) throw new InputError({ file: checkpoint, expected: 'a PyTorch checkpoint file', found: 'nothing there' });
  if (!dest.endsWith('.onnx')) throw new UsageError(`${out}: the output must be a .onnx file`);
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  try {
    const args = ['-m', 'ecaf_torch.export_onnx', src, tmp, ...(opts.opset ? ['--opset', String(opts.opset)] : [])];
    const report = JSON.parse(await runPython(args, opts.signal)) as ExportReport;
    const checkedShape = await runOnce(tmp, report);
    const [sha, bytes] = await Promise.all([fileSha256(src), stat(tmp).then((s) => s.size)]);
    await rename(tmp, dest);
    const sidecar = `${dest}.json`;
    const meta = {
      model: path.basename(dest),
      source: { checkpoint: path.basename(src), sha256: sha, ...report },
      flipRule: 'mtlface',
      preprocessing: TORCH_PREPROCESSING,
      tool: `ecaf ${VERSION}`,
    };
    await writeFileAtomic(sidecar, JSON.stringify(meta, null, 2) + '\n');
    return { ...report, out: dest, bytes, sidecar, checkedShape };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Run ecaf_torch with args; resolves to its stdout, rejects with its stderr verbatim. */
function runPython(args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(pythonExecutable(), args, { env: pythonEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-65536)));
    const onAbort = () => proc.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    proc.on('error', (err) => reject(pythonSpawnFailure(err)));
    proc.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new InterruptedError('interrupted: the export was stopped, nothing written'));
      else if (code === 0) resolve(stdout.trim().split('\n').pop() ?? '');
      else reject(pythonFailure('the ONNX export', code, sig, stderr));
    });
  });
}

/** Load the exported file in onnxruntime-node and run a batch of 2: the benchmark will do the same. */
async function runOnce(file: string, report: ExportReport): Promise<number[]> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  try {
    const input = new ort.Tensor('float32', new Float32Array(2 * 3 * 112 * 112), [2, 3, 112, 112]);
    const result = await session.run({ [report.input]: input });
    const dims = [...(result[report.output]?.dims ?? [])];
    if (dims[0] !== 2 || dims[1] !== report.dim) {
      throw new Error(`the exported model answered shape [${dims.join(', ')}] for a batch of 2, expected [2, ${report.dim}]`);
    }
    for (const name of report.outputs.filter((o) => o !== report.output)) {
      const got = [...(result[name]?.dims ?? [])];
      if (got[0] !== 2) throw new Error(`the exported model's output "${name}" has shape [${got.join(', ')}] for a batch of 2`);
    }
    return dims;
  } finally {
    await session.release();
  }
}
