import { execFile, execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { ReferenceCache } from '../helpers/reference-cache.js';
import { sharedFolder } from '../helpers/run-dir.js';
import { IMAGE_FLOATS, fileDigest, pythonEnv, pythonExecutable } from './torch-helpers.js';

const run = promisify(execFile);
const HERE = path.dirname(new URL(import.meta.url).pathname);
const REFERENCE = path.join(HERE, 'synthesis_reference.py');
/** Bytes of one rendered face: 112 x 112 RGB. */
export const FACE_BYTES = 112 * 112 * 3;
/** The narrow whole checkpoint's style dim: every released key, the decoder 8x narrower (a CPU forward in about 1 s). */
export const NARROW_WIDTH = 64;

/**
 * A random whole MTLFace checkpoint (all 843 keys; style dim and decoder widths NARROW_WIDTH/512
 * of the released ones, the rest at the released shapes), made once per jest run (560 MB, about
 * 15 s here): its path. The file name is fixed, so the same torch writes the same bytes.
 */
export function synthesisCheckpoint(dir: string): string {
  const folder = sharedFolder('synthesis-checkpoint', dir, (out) => {
    execFileSync(pythonExecutable(), ['-m', 'ecaf_torch.make_checkpoint', path.join(out, 'mtlface-synthesis-narrow.pth'), '--synthesis', '--synthesis-width', String(NARROW_WIDTH), '--seed', '7'], { env: pythonEnv() });
  });
  return path.join(folder, 'mtlface-synthesis-narrow.pth');
}

export interface SynthAnswer {
  status: number;
  a: number;
  b: number;
  body: Buffer;
}

/** python -m ecaf_torch.synth_worker over its pipe, framed as python/ecaf_torch/protocol.py says. */
export class SynthWorker {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended = false;
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(private readonly proc: ChildProcessByStdio<Writable, Readable, Readable>) {
    proc.stdout.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake?.();
    });
    proc.stdout.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    proc.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => proc.on('close', (code) => resolve(code)));
  }

  static start(checkpoint: string, args: string[] = []): SynthWorker {
    const proc = spawn(pythonExecutable(), ['-m', 'ecaf_torch.synth_worker', checkpoint, '--device', 'cpu', ...args], { env: pythonEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    return new SynthWorker(proc);
  }

  private async take(n: number): Promise<Buffer | undefined> {
    while (this.buffered.length < n && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.buffered.length < n) return undefined;
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** The JSON header line, or undefined when the worker exits first. */
  async header(): Promise<Record<string, unknown> | undefined> {
    while (!this.buffered.includes(10) && !this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    const nl = this.buffered.indexOf(10);
    if (nl < 0) return undefined;
    const line = this.buffered.subarray(0, nl).toString();
    this.buffered = this.buffered.subarray(nl + 1);
    return JSON.parse(line) as Record<string, unknown>;
  }

  /** One request: faces (n x 3 x 112 x 112 float32), a uint64 seed per face, the group mask. */
  async ask(faces: Float32Array, seeds: readonly bigint[], mask: number): Promise<SynthAnswer> {
    const head = Buffer.alloc(12 + 8 * seeds.length);
    head.writeUInt32LE(seeds.length, 0);
    head.writeUInt32LE(IMAGE_FLOATS, 4);
    head.writeUInt32LE(mask, 8);
    seeds.forEach((s, i) => head.writeBigUInt64LE(s, 12 + 8 * i));
    this.proc.stdin.write(head);
    this.proc.stdin.write(Buffer.from(faces.buffer, faces.byteOffset, seeds.length * IMAGE_FLOATS * 4));
    const frame = await this.take(12);
    if (!frame) throw new Error(`synth worker ended: ${this.stderr.join('')}`);
    const [status, a, b] = [frame.readUInt32LE(0), frame.readUInt32LE(4), frame.readUInt32LE(8)];
    const body = await this.take(status === 0 ? a * b * FACE_BYTES : a);
    return { status, a, b, body: Buffer.from(body!) };
  }

  /** Closes stdin; the exit code. */
  close(): Promise<number | null> {
    this.proc.stdin.end();
    return this.exited;
  }
}

/** The reference's faces by input digest (test/helpers/reference-cache.ts), base64 of the uint8 output. */
const cache = ReferenceCache.open<string>(path.join(HERE, 'fixtures', 'synthesis-reference.json'));

/**
 * test/torch/synthesis_reference.py's faces (n x G x 112 x 112 x 3 uint8), from the cache when
 * its inputs (both reference scripts, the checkpoint's bytes, faces, seeds, mask, noise) are
 * unchanged; a miss runs it (about 15 s a face and group at the narrow width here).
 */
export async function referenceSynthesis(checkpoint: string, faces: Float32Array, seeds: readonly bigint[], mask: number, noise: 'stored' | 'random', dir: string): Promise<Buffer> {
  const seedBytes = Buffer.alloc(8 * seeds.length);
  seeds.forEach((s, i) => seedBytes.writeBigUInt64LE(s, 8 * i));
  const input = new Uint8Array(faces.buffer, faces.byteOffset, seeds.length * IMAGE_FLOATS * 4);
  const scripts = await Promise.all([REFERENCE, path.join(HERE, 'reference_forward.py')].map((f) => readFile(f)));
  const key = ReferenceCache.key(...scripts, await fileDigest(checkpoint), input, seedBytes, String(mask), noise);
  const hit = cache.get(key);
  if (hit !== undefined) return Buffer.from(hit, 'base64');
  const inFile = path.join(dir, 'synth-ref-in.f32');
  const seedFile = path.join(dir, 'synth-ref-seeds.u64');
  const outFile = path.join(dir, 'synth-ref-out.u8');
  await writeFile(inFile, input);
  await writeFile(seedFile, seedBytes);
  await run(pythonExecutable(), [REFERENCE, checkpoint, 'encoder.', inFile, seedFile, String(mask), noise, outFile]);
  const out = await readFile(outFile);
  cache.set(key, out.toString('base64'));
  return out;
}

/** Says which reference outputs were computed live (and stores them with ECAF_REFRESH_REFERENCES=1). */
export function finishReferences(label: string): void {
  cache.finish(label);
}

/** Largest per-byte difference of two uint8 buffers, and how many bytes differ. */
export function byteDiff(a: Buffer, b: Buffer): { max: number; count: number } {
  let max = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! > b[i]! ? a[i]! - b[i]! : b[i]! - a[i]!;
    if (d > 0) count++;
    if (d > max) max = d;
  }
  return { max, count };
}
