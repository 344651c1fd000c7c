import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UsageError } from '../../util/errors.js';
import { packageFile } from '../../util/paths.js';

/** The shipped nets, converted from ECAF's aligner weights by python/mtcnn_onnx/convert.py (models/mtcnn/README.md). */
export const MTCNN_MODEL_DIR = packageFile('models/mtcnn');
export const MTCNN_NETS = ['pnet', 'rnet', 'onet'] as const;

/** A model file that is missing or that onnxruntime cannot load: bad input (exit 2), naming the file. */
export class ModelFileError extends UsageError {
  override name = 'ModelFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export interface PnetOutput {
  /** Face probability per cell, [rows, cols]. */
  probs: Float32Array;
  /** Box offsets, [4, rows, cols]. */
  offsets: Float32Array;
  rows: number;
  cols: number;
}

export interface RnetOutput {
  /** Face probability per crop. */
  probs: Float32Array;
  /** [n, 4]. */
  offsets: Float32Array;
}

export interface OnetOutput extends RnetOutput {
  /** [n, 10]: 5 x then 5 y, fractions of the crop's box. */
  landmarks: Float32Array;
}

/** The three nets on inputs of RGB (p - 127.5) / 128, channels first. */
export interface MtcnnNets {
  pnet(input: Float32Array, height: number, width: number): Promise<PnetOutput>;
  rnet(input: Float32Array, n: number): Promise<RnetOutput>;
  onet(input: Float32Array, n: number): Promise<OnetOutput>;
}

/** Every other value of a [n, 2] softmax: the face column. */
function faceColumn(probs: Float32Array): Float32Array {
  const out = new Float32Array(probs.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = probs[2 * i + 1]!;
  return out;
}

/**
 * The three nets on onnxruntime-node's CPU provider. `threads` is onnxruntime's intra-op pool per
 * net: align runs one worker per core, so 1 keeps workers x threads at the core count (more
 * threads per worker only contend for the same cores; with a single worker, give it the cores).
 */
export async function openMtcnnNets(dir = MTCNN_MODEL_DIR, threads = 1): Promise<MtcnnNets> {
  const ort = await import('onnxruntime-node');
  const open = async (name: string): Promise<InferenceSession> => {
    const file = path.join(dir, `${name}.onnx`);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (err) {
      throw new ModelFileError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'MTCNN model file is missing (reinstall ecaf)' : (err as Error).message);
    }
    try {
      return await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new ModelFileError(file, `not a loadable ONNX model (${(err as Error).message.split('\n')[0]}); reinstall ecaf`);
    }
  };
  // one after the other, so a missing model set is reported by its first file, every time
  const sessions: InferenceSession[] = [];
  for (const name of MTCNN_NETS) sessions.push(await open(name));
  const [p, r, o] = sessions;
  const run = async (session: InferenceSession, input: Float32Array, dims: number[]): Promise<Record<string, Tensor>> =>
    (await session.run({ input: new ort.Tensor('float32', input, dims) })) as Record<string, Tensor>;
  return {
    async pnet(input, height, width) {
      const out = await run(p!, input, [1, 3, height, width]);
      const probs = out.probs!, dims = probs.dims;
      const rows = dims[2]!, cols = dims[3]!;
      // channel 1 of [1, 2, rows, cols] is the face probability
      return { probs: (probs.data as Float32Array).slice(rows * cols), offsets: out.offsets!.data as Float32Array, rows, cols };
    },
    async rnet(input, n) {
      const out = await run(r!, input, [n, 3, 24, 24]);
      return { probs: faceColumn(out.probs!.data as Float32Array), offsets: out.offsets!.data as Float32Array };
    },
    async onet(input, n) {
      const out = await run(o!, input, [n, 3, 48, 48]);
      return { probs: faceColumn(out.probs!.data as Float32Array), offsets: out.offsets!.data as Float32Array, landmarks: out.landmarks!.data as Float32Array };
    },
  };
}
