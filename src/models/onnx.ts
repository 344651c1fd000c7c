import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { InputError, UsageError } from '../util/errors.js';
import { AGE_GROUP_COUNT } from '../dataset/age-groups.js';
import type { Embedder, FaceEstimates, FlipRule, Preprocessing } from './embedder.js';
import { fileSha256 } from '../util/hash.js';

export interface OnnxEmbedderOptions {
  device?: 'auto' | 'cpu' | 'cuda';
  /** Input side; default: the model's own when its input shape fixes it, else 112. */
  size?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
  bgr?: boolean;
  /** Where notes such as "auto: running on CPU" go (default: stderr). */
  log?: (line: string) => void;
}

const require = createRequire(import.meta.url);
const ORT_BIN_DIR = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
const CUDA_PROVIDER_FILE = path.join(ORT_BIN_DIR, 'libonnxruntime_providers_cuda.so');

/** How to get onnxruntime-node's CUDA files, which its install script downloads only on request (this project's .npmrc skips them). */
export const ONNX_CUDA_HELP =
  `onnxruntime-node's CUDA provider is not installed (${CUDA_PROVIDER_FILE} is missing). ` +
  'Install it with: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js ' +
  '(it downloads Microsoft.ML.OnnxRuntime.Gpu.Linux from nuget.org; the machine needs CUDA 12 and cuDNN 9), ' +
  'or run on the CPU (device cpu).';

export const cudaProviderInstalled = (): boolean => existsSync(CUDA_PROVIDER_FILE);

/** What `ecaf export-onnx` writes beside the model (`<model>.onnx.json`): the source's flip rule and input. */
interface OnnxSidecar {
  flipRule?: FlipRule;
  preprocessing?: Partial<Preprocessing>;
  source?: { checkpoint?: string };
}

async function readSidecar(file: string): Promise<OnnxSidecar> {
  let text: string;
  try {
    text = await readFile(`${file}.json`, 'utf8');
  } catch {
    return {};
  }
  try {
    const j = JSON.parse(text) as OnnxSidecar;
    return { ...j, flipRule: j.flipRule === 'mtlface' || j.flipRule === 'insightface' ? j.flipRule : undefined };
  } catch (err) {
    throw new UsageError(`${file}.json: not valid JSON (${(err as Error).message}); fix or remove it`);
  }
}

/** An ONNX face model on onnxruntime-node: input name, layout and size read from the model. */
export async function openOnnxEmbedder(file: string, opts: OnnxEmbedderOptions = {}): Promise<Embedder> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw new InputError({ file, expected: 'an ONNX model file', found: 'nothing there' });
  const log = opts.log ?? ((l: string) => process.stderr.write(`ecaf: ${l}\n`));
  const sidecar = await readSidecar(file);
  const ort = await import('onnxruntime-node');
  const device = opts.device ?? 'auto';
  // a file onnxruntime cannot parse is bad input (exit 2), said without onnxruntime's internals
  const create = async (providers: string[]): Promise<InferenceSession> => {
    try {
      return await ort.InferenceSession.create(file, { executionProviders: providers });
    } catch (err) {
      if (/protobuf parsing failed|invalid_protobuf|no graph was found|does not have a graph/i.test((err as Error).message)) throw new UsageError(`not an ONNX model: ${file}`);
      throw err;
    }
  };
  let session: InferenceSession | undefined;
  let where = 'cpu';
  let note: string | undefined;
  if (device === 'cuda' && !cudaProviderInstalled()) {
    // the CUDA help only for a model that is one
    await (await create(['cpu'])).release();
    throw new UsageError(ONNX_CUDA_HELP);
  }
  if (device === 'cuda' || (device === 'auto' && cudaProviderInstalled())) {
    try {
      session = await create(['cuda']);
      where = 'cuda';
    } catch (err) {
      if (err instanceof UsageError) throw err;
      if (device === 'cuda') throw new Error(`onnxruntime could not start the CUDA provider: ${(err as Error).message}`);
      note = `auto: the CUDA provider did not start (${(err as Error).message.split('\n')[0]}); running on CPU`;
    }
  } else if (device === 'auto') {
    note = 'auto: onnxruntime-node has no CUDA provider installed here; running on CPU (asking for the cuda device says how to install it)';
  }
  session ??= await create(['cpu']);
  if (note) log(note);

  const meta = session.inputMetadata[0];
  if (!meta || !meta.isTensor) throw new UsageError(`${file}: the model's first input is not a tensor`);
  if (meta.type !== 'float32') throw new UsageError(`${file}: input "${meta.name}" is ${meta.type}; only float32 inputs are supported`);
  const shape = meta.shape;
  if (shape.length !== 4) throw new UsageError(`${file}: input "${meta.name}" has shape [${shape.join(', ')}]; expected 4 dimensions (batch, 3, H, W or batch, H, W, 3)`);
  const layout: Preprocessing['layout'] = shape[3] === 3 && shape[1] !== 3 ? 'nhwc' : 'nchw';
  const side = layout === 'nchw' ? shape[2] : shape[1];
  const fixedSide = typeof side === 'number' && side > 0 ? side : undefined;
  if (opts.size !== undefined && fixedSide !== undefined && opts.size !== fixedSide) {
    throw new InputError({ option: 'size', expected: `${fixedSide}: ${path.basename(file)} takes ${fixedSide}x${fixedSide} images (input "${meta.name}", shape [${shape.join(', ')}])`, actual: opts.size });
  }
  // flags first, then the export's sidecar, then the defaults (MTLFace/insightface input)
  const given = sidecar.preprocessing ?? {};
  const preprocessing: Preprocessing = {
    size: opts.size ?? fixedSide ?? given.size ?? 112,
    mean: opts.mean ?? given.mean ?? [0.5, 0.5, 0.5],
    std: opts.std ?? given.std ?? [0.5, 0.5, 0.5],
    bgr: opts.bgr ?? given.bgr ?? false,
    layout,
  };
  // a model exported with a fixed batch dimension takes exactly that many images per run
  const fixedBatch = typeof shape[0] === 'number' && shape[0] > 0 ? shape[0] : undefined;
  const S = preprocessing.size;
  const per = 3 * S * S;
  const dims = (n: number) => (layout === 'nchw' ? [n, 3, S, S] : [n, S, S, 3]);
  const outputName = session.outputNames[0]!;
  const s = session;
  // `ecaf export-onnx` of a checkpoint with an age head adds these (python/ecaf_torch/export_onnx.py)
  const hasAge = session.outputNames.includes(AGE_OUTPUT);
  const hasGroups = hasAge && session.outputNames.includes(AGE_GROUP_OUTPUT);

  async function run(input: Float32Array, n: number): Promise<{ data: Float32Array; dim: number; age?: Float32Array; groups?: Float32Array }> {
    const feeds = { [meta!.name]: new ort.Tensor('float32', input.subarray(0, n * per), dims(n)) };
    const result = await s.run(feeds);
    const out = result[outputName]!;
    const data = out.data as Float32Array;
    const dim = data.length / n;
    if (!Number.isInteger(dim) || out.dims[0] !== n) throw new Error(`${path.basename(file)}: output "${outputName}" has shape [${out.dims.join(', ')}] for ${n} images; expected [${n}, dim]`);
    const extra = (name: string, per: number) => {
      const t = result[name]!;
      if (t.data.length !== n * per) throw new Error(`${path.basename(file)}: output "${name}" has shape [${t.dims.join(', ')}] for ${n} images; expected [${n}${per > 1 ? `, ${per}` : ''}]`);
      return Float32Array.from(t.data as Float32Array);
    };
    const age = hasAge ? extra(AGE_OUTPUT, 1) : undefined;
    const groups = hasGroups ? extra(AGE_GROUP_OUTPUT, AGE_GROUP_COUNT) : undefined;
    out.dispose();
    return { data, dim, age, groups };
  }

  // one zero image tells the embedding length when the output shape does not
  const probe = await run(new Float32Array(per * (fixedBatch ?? 1)), fixedBatch ?? 1);
  const dim = probe.dim;
  const sha = await fileSha256(file);
  return {
    info: {
      kind: 'onnx',
      model: path.basename(file),
      device: where,
      flipRule: sidecar.flipRule ?? 'insightface',
      details: {
        input: `${meta.name} [${shape.join(', ')}]`,
        output: outputName,
        onnxruntime: ort.env.versions.common ?? 'unknown',
        ...(sidecar.source?.checkpoint ? { 'exported from': sidecar.source.checkpoint } : {}),
      },
      weightsKey: sha,
      precision: 'fp32',
    },
    preprocessing,
    dim,
    embed: async (input: Float32Array, n: number) => (await forwardAll(input, n)).embeddings,
    ...(hasAge
      ? {
          estimates: { age: true, gender: false, ageGroups: hasGroups, weightsKey: sha },
          embedAndEstimate: forwardAll,
        }
      : {}),
    close: () => s.release(),
  };

  async function forwardAll(input: Float32Array, n: number): Promise<{ embeddings: Float32Array; estimates: FaceEstimates }> {
    const estimates: FaceEstimates = { age: new Float32Array(n).fill(Number.NaN), male: new Float32Array(n).fill(Number.NaN), ...(hasGroups ? { ageGroupLogits: new Float32Array(n * AGE_GROUP_COUNT) } : {}) };
    if (fixedBatch === undefined) {
      const r = await run(input, n);
      if (r.age) estimates.age.set(r.age);
      if (r.groups) estimates.ageGroupLogits!.set(r.groups);
      return { embeddings: r.data, estimates };
    }
    const out = new Float32Array(n * dim);
    const buf = new Float32Array(fixedBatch * per);
    for (let i = 0; i < n; i += fixedBatch) {
      const m = Math.min(fixedBatch, n - i);
      buf.fill(0);
      buf.set(input.subarray(i * per, (i + m) * per));
      const r = await run(buf, fixedBatch);
      out.set(r.data.subarray(0, m * dim), i * dim);
      if (r.age) estimates.age.set(r.age.subarray(0, m), i);
      if (r.groups) estimates.ageGroupLogits!.set(r.groups.subarray(0, m * AGE_GROUP_COUNT), i * AGE_GROUP_COUNT);
    }
    return { embeddings: out, estimates };
  }
}

const AGE_OUTPUT = 'age';
const AGE_GROUP_OUTPUT = 'age_group';
