import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError, UsageError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { AGE_GROUP_COUNT } from '../dataset/age-groups.js';
import type { Embedder, EmbedderInfo, FaceEstimates, Preprocessing } from './embedder.js';
import { pythonEnv, pythonExecutable, pythonFailure, pythonSpawnFailure } from './torch-python.js';

export type TorchDevice = 'auto' | 'cpu' | 'cuda';

export interface TorchEmbedderOptions {
  device?: TorchDevice;
  /** fp16 autocast on CUDA (ignored, and said so, when `auto` finds no GPU). */
  fp16?: boolean;
  /** Most images per frame sent to the worker; larger `embed` calls are split (default 64). */
  batch?: number;
  /** Where notes such as "auto: no CUDA, running on CPU" go (default: stderr). */
  log?: (line: string) => void;
}

/** MTLFace's input: aligned 112x112 RGB, (x/255 - 0.5) / 0.5, channels first. */
export const TORCH_PREPROCESSING: Preprocessing = {
  size: 112,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  bgr: false,
  layout: 'nchw',
};
const IMAGE_FLOATS = 3 * 112 * 112;
/** Frame headers of python/ecaf_torch/protocol.py (little-endian uint32s). */
const REQUEST_BYTES = 8;
const RESPONSE_BYTES = 12;
const STATUS_OK = 0;
const CLOSE_GRACE_MS = 10_000;

/** What the worker says about the model once it is loaded (first stdout line). */
interface WorkerHeader {
  dim: number;
  /** Floats per answered row: the embedding, then with an age head the age and 7 group logits. */
  columns?: number;
  device: string;
  fp16: boolean;
  note: string;
  variant: string;
  depth: string;
  prefix: string;
  ageHead: boolean;
  describe: string;
  torch: string;
  threads: number;
  gpu: string;
}

interface Pending {
  n: number;
  resolve: (out: Float32Array) => void;
  reject: (err: Error) => void;
}

/**
 * An MTLFace checkpoint (.pth .pt .tar, any torch.save state dict) run by a Python worker
 * (python/ecaf_torch/worker.py) that reads float32 batches from a pipe and answers embeddings.
 */
export async function openTorchEmbedder(checkpoint: string, opts: TorchEmbedderOptions = {}): Promise<Embedder> {
  const file = path.resolve(checkpoint);
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw new InputError({ file: checkpoint, expected: 'a PyTorch checkpoint file', found: 'nothing there' });
  const batch = opts.batch ?? 64;
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`batch must be a positive integer, got ${batch}`);
  const worker = new TorchWorker(file, opts.device ?? 'auto', opts.fp16 ?? false);
  const [header, sha] = await Promise.all([worker.ready, fileSha256(file)]).catch(async (err: unknown) => {
    await worker.close();
    throw err;
  });
  if (header.note) (opts.log ?? ((l: string) => process.stderr.write(`ecaf: ${l}\n`)))(header.note);
  const info: EmbedderInfo = {
    kind: 'torch',
    model: path.basename(file),
    device: header.device,
    flipRule: 'mtlface',
    details: {
      architecture: `MTLFace ${header.depth}`,
      variant: header.variant,
      prefix: header.prefix || '(none)',
      checkpoint: header.describe,
      torch: header.torch,
      ...(header.gpu ? { gpu: header.gpu } : { threads: header.threads }),
      ...(header.note ? { note: header.note } : {}),
    },
    weightsKey: sha,
    precision: header.fp16 ? 'fp16' : 'fp32',
  };
  const dim = header.dim;
  const columns = header.columns ?? dim;
  const embedder: Embedder = {
    info,
    preprocessing: TORCH_PREPROCESSING,
    dim,
    embed: async (input, n) => (columns === dim ? worker.embedAll(input, n, batch) : splitRows(await worker.embedAll(input, n, batch), n, dim, columns).embeddings),
    close: () => worker.close(),
  };
  if (header.ageHead && columns === dim + 1 + AGE_GROUP_COUNT) {
    return {
      ...embedder,
      estimates: { age: true, gender: false, ageGroups: true, weightsKey: sha },
      embedAndEstimate: async (input, n) => splitRows(await worker.embedAll(input, n, batch), n, dim, columns),
    };
  }
  return embedder;
}

/** The worker's rows [embedding | age | 7 group logits] split into embeddings and estimates. */
function splitRows(rows: Float32Array, n: number, dim: number, columns: number): { embeddings: Float32Array; estimates: FaceEstimates } {
  const embeddings = new Float32Array(n * dim);
  const age = new Float32Array(n);
  const ageGroupLogits = new Float32Array(n * AGE_GROUP_COUNT);
  for (let i = 0; i < n; i++) {
    const row = rows.subarray(i * columns, (i + 1) * columns);
    embeddings.set(row.subarray(0, dim), i * dim);
    age[i] = row[dim]!;
    ageGroupLogits.set(row.subarray(dim + 1, dim + 1 + AGE_GROUP_COUNT), i * AGE_GROUP_COUNT);
  }
  return { embeddings, estimates: { age, male: new Float32Array(n).fill(Number.NaN), ageGroupLogits } };
}

class TorchWorker {
  readonly ready: Promise<WorkerHeader>;
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: WorkerHeader | undefined;
  private stderr = '';
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(checkpoint: string, device: TorchDevice, fp16: boolean) {
    const args = ['-m', 'ecaf_torch.worker', checkpoint, '--device', device, ...(fp16 ? ['--fp16'] : [])];
    this.proc = spawn(pythonExecutable(), args, { env: pythonEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let resolveReady!: (h: WorkerHeader) => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (s: string) => {
      // keep the tail: a traceback is what matters, not megabytes of warnings
      this.stderr = (this.stderr + s).slice(-65536);
    });
    this.proc.stdout.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      try {
        this.parse(resolveReady);
      } catch (err) {
        this.fail(err as Error, rejectReady);
        this.proc.kill();
      }
    });
    // stdin errors (EPIPE after the worker died) surface through the exit below
    this.proc.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (err) => {
        this.fail(pythonSpawnFailure(err), rejectReady);
        resolve();
      });
      this.proc.on('close', (code, signal) => {
        this.fail(pythonFailure('the PyTorch worker', code, signal, this.stderr), rejectReady);
        resolve();
      });
    });
  }

  /** Everything after a failure, and every request in flight, rejects with the same error. */
  private fail(err: Error, rejectReady: (e: Error) => void): void {
    this.failure ??= err;
    rejectReady(this.failure);
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }

  /** Floats per answered row. */
  private get columns(): number {
    return this.header!.columns ?? this.header!.dim;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  private peek(n: number): Buffer {
    // concatenate only when the first chunk is too short: a large payload is joined once, in take()
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!.subarray(0, n);
  }

  private parse(resolveReady: (h: WorkerHeader) => void): void {
    if (!this.header) {
      const all = this.peek(this.buffered);
      const nl = all.indexOf(10);
      if (nl < 0) return;
      this.header = JSON.parse(this.take(nl + 1).toString('utf8')) as WorkerHeader;
      resolveReady(this.header);
    }
    while (this.buffered >= RESPONSE_BYTES) {
      const head = this.peek(RESPONSE_BYTES);
      const status = head.readUInt32LE(0);
      const a = head.readUInt32LE(4);
      const b = head.readUInt32LE(8);
      const payload = status === STATUS_OK ? a * b * 4 : a;
      if (this.buffered < RESPONSE_BYTES + payload) return;
      const body = this.take(RESPONSE_BYTES + payload).subarray(RESPONSE_BYTES);
      const p = this.pending.shift();
      if (!p) throw new Error('the PyTorch worker answered a request that was never sent');
      if (status !== STATUS_OK) {
        p.reject(new Error(body.toString('utf8').trimEnd()));
      } else if (a !== p.n || b !== this.columns) {
        p.reject(new Error(`the PyTorch worker answered ${a}x${b} for ${p.n} images of ${this.columns} floats`));
      } else {
        // copy: the payload's offset in the chunk is not 4-byte aligned in general
        const out = new Float32Array(a * b);
        new Uint8Array(out.buffer).set(body);
        p.resolve(out);
      }
    }
  }

  private send(input: Float32Array, n: number): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    // one buffer, one write per batch: header then the raw float32 bytes
    const frame = Buffer.allocUnsafe(REQUEST_BYTES + input.byteLength);
    frame.writeUInt32LE(n, 0);
    frame.writeUInt32LE(IMAGE_FLOATS, 4);
    frame.set(new Uint8Array(input.buffer, input.byteOffset, input.byteLength), REQUEST_BYTES);
    return new Promise((resolve, reject) => {
      this.pending.push({ n, resolve, reject });
      this.proc.stdin.write(frame);
    });
  }

  async embedAll(input: Float32Array, n: number, batch: number): Promise<Float32Array> {
    if (input.length !== n * IMAGE_FLOATS) {
      throw new Error(`embed: ${n} images of 3x112x112 need ${n * IMAGE_FLOATS} floats, got ${input.length}`);
    }
    if (n === 0) return new Float32Array(0);
    const parts: Promise<Float32Array>[] = [];
    for (let i = 0; i < n; i += batch) {
      const m = Math.min(batch, n - i);
      parts.push(this.send(input.subarray(i * IMAGE_FLOATS, (i + m) * IMAGE_FLOATS), m));
    }
    if (parts.length === 1) return parts[0]!;
    const outs = await Promise.all(parts);
    const dim = this.columns;
    const all = new Float32Array(n * dim);
    outs.forEach((o, k) => all.set(o, k * batch * dim));
    return all;
  }

  /** End stdin (the worker exits 0 when it has answered everything); kill it if it lingers. */
  async close(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null && !this.proc.stdin.destroyed) {
      this.proc.stdin.end();
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), CLOSE_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}
