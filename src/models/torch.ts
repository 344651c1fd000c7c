import path from 'node:path';
import { AGE_GROUP_COUNT } from '../dataset/age-groups.js';
import type { Embedder, EmbedderInfo, FaceEstimates, Preprocessing } from './embedder.js';
import { inBatches, runtimeDetails, startTorchWorker, TorchPipe, workerArgs, type TorchHeader, type TorchOpenOptions } from './torch-pipe.js';

export type { TorchDevice } from './torch-pipe.js';

/** Images per frame unless told (`batch`). */
export type TorchEmbedderOptions = TorchOpenOptions;
const DEFAULT_BATCH = 64;

/** MTLFace's input: aligned 112x112 RGB, (x/255 - 0.5) / 0.5, channels first. */
export const TORCH_PREPROCESSING: Preprocessing = {
  size: 112,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  bgr: false,
  layout: 'nchw',
};
/** Floats of one preprocessed face: 3 x 112 x 112. */
export const IMAGE_FLOATS = 3 * 112 * 112;
/** Request frame header of python/ecaf_torch/protocol.py (little-endian uint32 n, floats per image). */
const REQUEST_BYTES = 8;

/** What the worker says about the model once it is loaded (first stdout line). */
interface WorkerHeader extends TorchHeader {
  dim: number;
  /** Floats per answered row: the embedding, then with an age head the age and 7 group logits. */
  columns?: number;
  ageHead: boolean;
}

/**
 * An MTLFace checkpoint (.pth .pt .tar, any torch.save state dict) run by a Python worker
 * (python/ecaf_torch/worker.py) that reads float32 batches from a pipe and answers embeddings.
 */
export async function openTorchEmbedder(checkpoint: string, opts: TorchEmbedderOptions = {}): Promise<Embedder> {
  const { file, batch, worker, header, sha256: sha } = await startTorchWorker(checkpoint, opts, DEFAULT_BATCH, (f) => new TorchWorker(f, opts));
  const info: EmbedderInfo = {
    kind: 'torch',
    model: path.basename(file),
    device: header.device,
    flipRule: 'mtlface',
    details: {
      architecture: `MTLFace ${header.depth}`,
      variant: header.variant,
      prefix: header.prefix || '(none)',
      ...runtimeDetails(header),
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

/** The embedding worker (python/ecaf_torch/worker.py) over its pipe: float32 batches in, float32 rows out. */
class TorchWorker {
  private readonly pipe: TorchPipe<WorkerHeader>;
  readonly ready: Promise<WorkerHeader>;
  private columns = 0;

  constructor(checkpoint: string, o: TorchOpenOptions) {
    this.pipe = new TorchPipe<WorkerHeader>('the PyTorch worker', workerArgs('ecaf_torch.worker', checkpoint, o), (a, b) => a * b * 4);
    this.ready = this.pipe.ready.then((h) => {
      this.columns = h.columns ?? h.dim;
      return h;
    });
  }

  private async send(input: Float32Array, n: number): Promise<Float32Array> {
    // one buffer, one write per batch: header then the raw float32 bytes
    const frame = Buffer.allocUnsafe(REQUEST_BYTES + input.byteLength);
    frame.writeUInt32LE(n, 0);
    frame.writeUInt32LE(IMAGE_FLOATS, 4);
    frame.set(new Uint8Array(input.buffer, input.byteOffset, input.byteLength), REQUEST_BYTES);
    const body = await this.pipe.request(frame, (a, b) => (a !== n || b !== this.columns ? `${a}x${b} for ${n} images of ${this.columns} floats` : undefined));
    // copy: the payload's offset in the chunk is not 4-byte aligned in general
    const out = new Float32Array(body.length / 4);
    new Uint8Array(out.buffer).set(body);
    return out;
  }

  async embedAll(input: Float32Array, n: number, batch: number): Promise<Float32Array> {
    if (input.length !== n * IMAGE_FLOATS) {
      throw new Error(`embed: ${n} images of 3x112x112 need ${n * IMAGE_FLOATS} floats, got ${input.length}`);
    }
    return inBatches(n, batch, this.columns, (i, m) => this.send(input.subarray(i * IMAGE_FLOATS, (i + m) * IMAGE_FLOATS), m), (length) => new Float32Array(length));
  }

  close(): Promise<void> {
    return this.pipe.close();
  }
}
