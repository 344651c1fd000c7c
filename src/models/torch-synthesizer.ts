import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError, UsageError } from '../util/errors.js';
import { fileSha256 } from '../util/hash.js';
import { AGE_GROUP_COUNT } from '../dataset/age-groups.js';
import { TORCH_PREPROCESSING, type TorchDevice } from './torch.js';
import { TorchPipe } from './torch-pipe.js';

export type SynthesisNoise = 'stored' | 'random';

export interface TorchSynthesizerOptions {
  device?: TorchDevice;
  fp16?: boolean;
  noise?: SynthesisNoise;
  /** Most faces per frame sent to the worker (default 8: each renders up to 7 images). */
  batch?: number;
  /** The checkpoint's sha256 when the caller has it already (1.1 GB to read again otherwise). */
  sha256?: string;
  log?: (line: string) => void;
}

/** What the synthesis worker (python/ecaf_torch/synth_worker.py) says once the model is loaded. */
interface SynthesisHeader {
  size: number;
  groups: number;
  noise: SynthesisNoise;
  device: string;
  fp16: boolean;
  note: string;
  torch: string;
  threads: number;
  gpu: string;
  describe: string;
}

export interface SynthesizerInfo {
  model: string;
  sha256: string;
  device: string;
  precision: 'fp16' | 'fp32';
  noise: SynthesisNoise;
  details: Record<string, string | number>;
}

/** MTLFace's face age synthesis: a face at each of the 7 age groups. */
export interface Synthesizer {
  info: SynthesizerInfo;
  /** Side of the rendered faces (112). */
  size: number;
  /**
   * Render n preprocessed faces (TORCH_PREPROCESSING tensors, back to back) at `groups`
   * (ascending); `seeds` (one per face) draw the noise when it is random. RGB bytes, face-major
   * then group: n * groups.length * size * size * 3.
   */
  render(input: Float32Array, n: number, groups: readonly number[], seeds: BigUint64Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export const SYNTHESIS_PREPROCESSING = TORCH_PREPROCESSING;
const IMAGE_FLOATS = 3 * 112 * 112;
/** Request frame header of python/ecaf_torch/protocol.py's synthesis pipe: uint32 n, floats per image, group bitmask. */
const REQUEST_BYTES = 12;

/** An MTLFace checkpoint with its synthesis parts, run by the Python synthesis worker. */
export async function openTorchSynthesizer(checkpoint: string, opts: TorchSynthesizerOptions = {}): Promise<Synthesizer> {
  const file = path.resolve(checkpoint);
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw new InputError({ file: checkpoint, expected: 'a PyTorch checkpoint file', found: 'nothing there' });
  const batch = opts.batch ?? 8;
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`batch must be a positive integer, got ${batch}`);
  const noise = opts.noise ?? 'stored';
  const args = ['-m', 'ecaf_torch.synth_worker', file, '--device', opts.device ?? 'auto', '--noise', noise, ...(opts.fp16 ? ['--fp16'] : [])];
  const size = 112;
  const pipe = new TorchPipe<SynthesisHeader>('the PyTorch synthesis worker', args, (a, b) => a * b * size * size * 3);
  const [header, sha256] = await Promise.all([pipe.ready, opts.sha256 ?? fileSha256(file)]).catch(async (err: unknown) => {
    await pipe.close();
    throw err;
  });
  if (header.note) (opts.log ?? ((l: string) => process.stderr.write(`ecaf: ${l}\n`)))(header.note);
  if (header.size !== size || header.groups !== AGE_GROUP_COUNT) {
    await pipe.close();
    throw new Error(`the PyTorch synthesis worker renders ${header.groups} groups of ${header.size}px, not ${AGE_GROUP_COUNT} of ${size}px`);
  }
  const send = async (input: Float32Array, seeds: BigUint64Array, n: number, groups: readonly number[]): Promise<Uint8Array> => {
    const frame = Buffer.allocUnsafe(REQUEST_BYTES + n * 8 + input.byteLength);
    frame.writeUInt32LE(n, 0);
    frame.writeUInt32LE(IMAGE_FLOATS, 4);
    frame.writeUInt32LE(groups.reduce((m, g) => m | (1 << g), 0), 8);
    for (let i = 0; i < n; i++) frame.writeBigUInt64LE(seeds[i]!, REQUEST_BYTES + i * 8);
    frame.set(new Uint8Array(input.buffer, input.byteOffset, input.byteLength), REQUEST_BYTES + n * 8);
    const body = await pipe.request(frame, (a, b) => (a !== n || b !== groups.length ? `${a}x${b} faces for ${n} inputs at ${groups.length} groups` : undefined));
    return new Uint8Array(body);
  };
  return {
    info: {
      model: path.basename(file),
      sha256,
      device: header.device,
      precision: header.fp16 ? 'fp16' : 'fp32',
      noise: header.noise,
      details: { checkpoint: header.describe, torch: header.torch, ...(header.gpu ? { gpu: header.gpu } : { threads: header.threads }), ...(header.note ? { note: header.note } : {}) },
    },
    size,
    async render(input, n, groups, seeds) {
      if (input.length !== n * IMAGE_FLOATS) throw new Error(`render: ${n} faces of 3x112x112 need ${n * IMAGE_FLOATS} floats, got ${input.length}`);
      if (seeds.length !== n) throw new Error(`render: ${n} faces need ${n} seeds, got ${seeds.length}`);
      const sorted = [...groups].sort((a, b) => a - b);
      if (!sorted.length || sorted.some((g, i) => !Number.isInteger(g) || g < 0 || g >= AGE_GROUP_COUNT || sorted[i - 1] === g)) throw new Error(`render: groups must be distinct integers 0..${AGE_GROUP_COUNT - 1}, got ${groups.join(',')}`);
      const per = sorted.length * size * size * 3;
      const parts: Promise<Uint8Array>[] = [];
      for (let i = 0; i < n; i += batch) {
        const m = Math.min(batch, n - i);
        parts.push(send(input.subarray(i * IMAGE_FLOATS, (i + m) * IMAGE_FLOATS), seeds.subarray(i, i + m), m, sorted));
      }
      const outs = await Promise.all(parts);
      if (outs.length === 1) return outs[0]!;
      const all = new Uint8Array(n * per);
      outs.forEach((o, k) => all.set(o, k * batch * per));
      return all;
    },
    close: () => pipe.close(),
  };
}
