import path from 'node:path';
import { AGE_GROUP_COUNT } from '../dataset/age-groups.js';
import { IMAGE_FLOATS, TORCH_PREPROCESSING } from './torch.js';
import { inBatches, runtimeDetails, startTorchWorker, TorchPipe, workerArgs, type TorchHeader, type TorchOpenOptions } from './torch-pipe.js';

export type SynthesisNoise = 'stored' | 'random';

/** Faces per frame unless told (`batch`): each renders up to 7 images. */
export interface TorchSynthesizerOptions extends TorchOpenOptions {
  noise?: SynthesisNoise;
}
const DEFAULT_BATCH = 8;

/** What the synthesis worker (python/ecaf_torch/synth_worker.py) says once the model is loaded. */
interface SynthesisHeader extends TorchHeader {
  size: number;
  groups: number;
  noise: SynthesisNoise;
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
/** Request frame header of python/ecaf_torch/protocol.py's synthesis pipe: uint32 n, floats per image, group bitmask. */
const REQUEST_BYTES = 12;

/** An MTLFace checkpoint with its synthesis parts, run by the Python synthesis worker. */
export async function openTorchSynthesizer(checkpoint: string, opts: TorchSynthesizerOptions = {}): Promise<Synthesizer> {
  const size = 112;
  const start = (file: string) => new TorchPipe<SynthesisHeader>('the PyTorch synthesis worker', [...workerArgs('ecaf_torch.synth_worker', file, opts), '--noise', opts.noise ?? 'stored'], (a, b) => a * b * size * size * 3);
  const { file, batch, worker: pipe, header, sha256 } = await startTorchWorker(checkpoint, opts, DEFAULT_BATCH, start);
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
      details: runtimeDetails(header),
    },
    size,
    async render(input, n, groups, seeds) {
      if (input.length !== n * IMAGE_FLOATS) throw new Error(`render: ${n} faces of 3x112x112 need ${n * IMAGE_FLOATS} floats, got ${input.length}`);
      if (seeds.length !== n) throw new Error(`render: ${n} faces need ${n} seeds, got ${seeds.length}`);
      const sorted = [...groups].sort((a, b) => a - b);
      if (!sorted.length || sorted.some((g, i) => !Number.isInteger(g) || g < 0 || g >= AGE_GROUP_COUNT || sorted[i - 1] === g)) throw new Error(`render: groups must be distinct integers 0..${AGE_GROUP_COUNT - 1}, got ${groups.join(',')}`);
      const per = sorted.length * size * size * 3;
      return inBatches(n, batch, per, (i, m) => send(input.subarray(i * IMAGE_FLOATS, (i + m) * IMAGE_FLOATS), seeds.subarray(i, i + m), m, sorted), (length) => new Uint8Array(length));
    },
    close: () => pipe.close(),
  };
}
