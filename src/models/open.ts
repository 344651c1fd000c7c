import path from 'node:path';
import { InputError } from '../util/errors.js';
import { openBuiltinEmbedder } from './builtin.js';
import type { Embedder } from './embedder.js';
import { openOnnxEmbedder } from './onnx.js';
import { openTorchEmbedder } from './torch.js';

export interface OpenEmbedderOptions {
  device?: 'auto' | 'cpu' | 'cuda';
  /** ONNX preprocessing overrides (the other kinds fix their own input). */
  size?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
  bgr?: boolean;
  /** Images per worker frame (PyTorch). */
  batch?: number;
  /** fp16 autocast (PyTorch on CUDA). */
  fp16?: boolean;
  /** PyTorch: the checkpoint's sha256 when the caller has it already. */
  sha256?: string;
  log?: (line: string) => void;
}

export const TORCH_EXTENSIONS = ['.pth', '.pt', '.tar'];

/** The name a `--model` value gives its reports (`reports/<this>/`): the file's stem, or builtin. */
export const modelStem = (model: string): string => (model === 'builtin' ? 'builtin' : path.basename(model, path.extname(model)));

function refuseOnnxFlags(opts: OpenEmbedderOptions, why: string): void {
  const given = (['size', 'mean', 'std', 'bgr'] as const).filter((k) => opts[k] !== undefined);
  if (given.length) {
    const [first, ...rest] = given.map((option) => ({ option, expected: `no value (${why}; only ONNX models take it)`, actual: opts[option] }));
    throw new InputError(first!, [], rest);
  }
}

/** `builtin`, a `.onnx` file, or a PyTorch checkpoint (`.pth`, `.pt`, `.tar`). */
export async function openEmbedder(model: string, opts: OpenEmbedderOptions = {}): Promise<Embedder> {
  if (model === 'builtin') {
    refuseOnnxFlags(opts, 'the builtin model takes 150x150 RGB as face-api prepares it');
    if (opts.device === 'cuda') throw new InputError({ option: 'device', expected: 'cpu or auto (the builtin model runs on the CPU only, tfjs WASM)', actual: 'cuda' });
    return openBuiltinEmbedder();
  }
  const ext = path.extname(model).toLowerCase();
  if (ext === '.onnx') return openOnnxEmbedder(model, opts);
  if (TORCH_EXTENSIONS.includes(ext)) {
    refuseOnnxFlags(opts, 'MTLFace checkpoints take 112x112 RGB in [-1, 1]');
    return openTorchEmbedder(model, { device: opts.device, fp16: opts.fp16, batch: opts.batch, sha256: opts.sha256, log: opts.log });
  }
  throw new InputError({ option: 'model', expected: `"builtin", a .onnx file, or a PyTorch checkpoint (${TORCH_EXTENSIONS.join(' ')})`, actual: model });
}
