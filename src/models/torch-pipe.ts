import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError, UsageError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { pythonEnv, pythonExecutable, pythonFailure, pythonSpawnFailure } from './torch-python.js';

export type TorchDevice = 'auto' | 'cpu' | 'cuda';

/** What every python/ecaf_torch worker's header says of the checkpoint and where it runs (serve.py's Started.header). */
export interface TorchHeader {
  device: string;
  fp16: boolean;
  note: string;
  variant: string;
  depth: string;
  prefix: string;
  describe: string;
  torch: string;
  threads: number;
  gpu: string;
}

/** How a worker is started, whatever it serves. */
export interface TorchOpenOptions {
  device?: TorchDevice;
  /** fp16 autocast on CUDA (ignored, and said so, when `auto` finds no GPU). */
  fp16?: boolean;
  /** Most items per frame sent to the worker; larger calls are split. */
  batch?: number;
  /** The checkpoint's sha256 when the caller has it already (a checkpoint of 1 GB is seconds to read again). */
  sha256?: string;
  /** Where notes such as "auto: no CUDA, running on CPU" go (default: stderr). */
  log?: (line: string) => void;
}

/** Frame header of every answer of python/ecaf_torch/protocol.py: little-endian uint32 status, a, b. */
const RESPONSE_BYTES = 12;
const STATUS_OK = 0;
const CLOSE_GRACE_MS = 10_000;

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
  check: (a: number, b: number) => string | undefined;
}

/**
 * A python/ecaf_torch worker process over its pipe: one JSON header line on stdout, then framed
 * requests on stdin answered in order (status 0: a, b and a payload whose size the caller's
 * `payloadBytes(a, b)` gives; else a, the byte length of a traceback).
 */
export class TorchPipe<Header> {
  readonly ready: Promise<Header>;
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: Header | undefined;
  private stderr = '';
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(
    what: string,
    args: string[],
    private readonly payloadBytes: (a: number, b: number) => number,
  ) {
    this.proc = spawn(pythonExecutable(), args, { env: pythonEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let resolveReady!: (h: Header) => void;
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
        this.fail(pythonFailure(what, code, signal, this.stderr), rejectReady);
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

  private parse(resolveReady: (h: Header) => void): void {
    if (!this.header) {
      const all = this.peek(this.buffered);
      const nl = all.indexOf(10);
      if (nl < 0) return;
      this.header = JSON.parse(this.take(nl + 1).toString('utf8')) as Header;
      resolveReady(this.header);
    }
    while (this.buffered >= RESPONSE_BYTES) {
      const head = this.peek(RESPONSE_BYTES);
      const status = head.readUInt32LE(0);
      const a = head.readUInt32LE(4);
      const b = head.readUInt32LE(8);
      const payload = status === STATUS_OK ? this.payloadBytes(a, b) : a;
      if (this.buffered < RESPONSE_BYTES + payload) return;
      const body = this.take(RESPONSE_BYTES + payload).subarray(RESPONSE_BYTES);
      const p = this.pending.shift();
      if (!p) throw new Error('the PyTorch worker answered a request that was never sent');
      const wrong = status === STATUS_OK ? p.check(a, b) : undefined;
      if (status !== STATUS_OK) p.reject(new Error(body.toString('utf8').trimEnd()));
      else if (wrong) p.reject(new Error(`the PyTorch worker answered ${wrong}`));
      else p.resolve(body);
    }
  }

  /** Send one frame; the answer's body (status 0) once `check(a, b)` finds nothing wrong (it returns what is wrong). */
  request(frame: Buffer, check: (a: number, b: number) => string | undefined): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, check });
      this.proc.stdin.write(frame);
    });
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

/**
 * A worker started on a checkpoint file: the file and the batch size checked, then its header
 * and the file's sha256 (the caller's, or hashed while the worker loads); closed on failure.
 */
export async function startTorchWorker<W extends { ready: Promise<TorchHeader>; close(): Promise<void> }>(
  checkpoint: string,
  o: TorchOpenOptions,
  defaultBatch: number,
  start: (file: string) => W,
): Promise<{ file: string; batch: number; worker: W; header: Awaited<W['ready']>; sha256: string }> {
  const file = path.resolve(checkpoint);
  if (!(await stat(file).catch(() => undefined))?.isFile()) throw new InputError({ file: checkpoint, expected: 'a PyTorch checkpoint file', found: 'nothing there' });
  const batch = o.batch ?? defaultBatch;
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`batch must be a positive integer, got ${batch}`);
  const worker = start(file);
  const [header, sha256] = await Promise.all([worker.ready as Promise<Awaited<W['ready']>>, o.sha256 ?? fileSha256(file)]).catch(async (err: unknown) => {
    await worker.close();
    throw err;
  });
  if (header.note) (o.log ?? ((l: string) => process.stderr.write(`ecaf: ${l}\n`)))(header.note);
  return { file, batch, worker, header, sha256 };
}

/** The worker's account of the checkpoint and where it runs, for a report's details. */
export function runtimeDetails(h: TorchHeader): Record<string, string | number> {
  return { checkpoint: h.describe, torch: h.torch, ...(h.gpu ? { gpu: h.gpu } : { threads: h.threads }), ...(h.note ? { note: h.note } : {}) };
}

/** Worker arguments every worker takes after its module: the checkpoint, the device, fp16. */
export const workerArgs = (module: string, file: string, o: TorchOpenOptions): string[] => ['-m', module, file, '--device', o.device ?? 'auto', ...(o.fp16 ? ['--fp16'] : [])];

/**
 * `n` items sent `batch` at a time (every frame in flight at once: the worker reads the next
 * while it runs one), the answers of `per` values each joined in order into `out`.
 */
export async function inBatches<T extends Float32Array | Uint8Array>(n: number, batch: number, per: number, send: (from: number, count: number) => Promise<T>, out: (length: number) => T): Promise<T> {
  const parts: Promise<T>[] = [];
  for (let i = 0; i < n; i += batch) parts.push(send(i, Math.min(batch, n - i)));
  if (parts.length === 1) return parts[0]!;
  const all = out(n * per);
  (await Promise.all(parts)).forEach((o, k) => all.set(o, k * batch * per));
  return all;
}
