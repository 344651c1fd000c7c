import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { pythonEnv, pythonExecutable } from '../../src/models/torch-python.js';
import { packageFile } from '../../src/util/paths.js';
import { describeWithPython, pythonSkipReason } from '../helpers/python.js';
import { ReferenceCache } from '../helpers/reference-cache.js';

const run = promisify(execFile);

/** What these tests need of the python ecaf runs (reference_forward.py also imports numpy). */
export const TORCH_TEST_MODULES = ['torch', 'numpy'] as const;
/** Why the torch tests skip (they say so), or undefined when the configured python has what they need. */
export const NO_TORCH = pythonSkipReason(TORCH_TEST_MODULES, pythonExecutable());
export const HAS_TORCH = NO_TORCH === undefined;
export const NO_TORCH_NOTE = NO_TORCH ? ` (SKIPPED: ${NO_TORCH})` : '';
/** describe for tests that need torch: skipped with the reason printed when it is missing. */
export const withTorch = describeWithPython(TORCH_TEST_MODULES, pythonExecutable());
/** The python and environment ecaf runs its workers with (src/benchmark/torch-python.ts). */
export { pythonEnv, pythonExecutable };

const REFERENCE = path.join(path.dirname(new URL(import.meta.url).pathname), 'reference_forward.py');
export const IMAGE_FLOATS = 3 * 112 * 112;

/**
 * `python -m ecaf_torch.make_checkpoint OUT ...args` (random weights) for each job, in one Python
 * process (importing torch alone takes about 2 s here), then `then` (more Python) if given.
 */
export async function makeCheckpoints(jobs: readonly (readonly [string, readonly string[]])[], then = ''): Promise<string> {
  const code = `import json, sys\nfrom ecaf_torch.make_checkpoint import main\nfor out, args in json.loads(sys.argv[1]):\n    main([out, *args])\n${then}`;
  return (await run(pythonExecutable(), ['-c', code, JSON.stringify(jobs)], { env: pythonEnv() })).stdout;
}

/** One checkpoint (makeCheckpoints); its path. */
export async function makeCheckpoint(out: string, args: string[]): Promise<string> {
  await makeCheckpoints([[out, args]]);
  return out;
}

/** n pseudo-random images in [-1, 1] (a fixed LCG, so every run feeds the same pixels). */
export function randomImages(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n * IMAGE_FLOATS);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 2 - 1;
  }
  return x;
}

async function readF32(file: string): Promise<Float32Array> {
  const bytes = await readFile(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** sha256 of a checkpoint, once per file and test file (hashing hundreds of MB takes seconds here). */
const digests = new Map<string, Promise<string>>();
export function fileDigest(file: string): Promise<string> {
  let digest = digests.get(file);
  if (!digest) {
    digest = (async () => {
      const h = createHash('sha256');
      for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
      return h.digest('hex');
    })();
    digests.set(file, digest);
  }
  return digest;
}

/** Raw embeddings from test/torch/reference_forward.py: plain torch.nn.functional on the state dict. */
export async function referenceForward(checkpoint: string, prefix: string, input: Float32Array, dir: string): Promise<Float32Array> {
  return (await referenceForwardWithAge(checkpoint, prefix, input, dir, false)).embeddings;
}

/** reference_forward.py's outputs by input digest (test/helpers/reference-cache.ts): base64 of the float32 embeddings and age rows. */
const forwardCache = ReferenceCache.open<{ embeddings: string; age?: string }>(path.join(path.dirname(REFERENCE), 'fixtures', 'forward-reference.json'));

/** Says which forward references were computed live (and stores them with ECAF_REFRESH_REFERENCES=1). */
export function finishForwardReferences(label: string): void {
  forwardCache.finish(label);
}

const f32 = (b64: string): Float32Array => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
const b64 = (x: Float32Array): string => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');

/**
 * The same, plus (withAge) the age head's rows: age in years then the 7 age-group logits. From
 * the cache when the script, the checkpoint's bytes (make_checkpoint writes the same bytes for
 * the same arguments and file name), the prefix and the input are unchanged; else run live.
 */
export async function referenceForwardWithAge(checkpoint: string, prefix: string, input: Float32Array, dir: string, withAge = true): Promise<{ embeddings: Float32Array; age?: Float32Array }> {
  const inputBytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const key = ReferenceCache.key(await readFile(REFERENCE), await fileDigest(checkpoint), prefix, inputBytes, String(withAge));
  const hit = forwardCache.get(key);
  if (hit) return { embeddings: f32(hit.embeddings), ...(hit.age !== undefined ? { age: f32(hit.age) } : {}) };
  const inFile = path.join(dir, 'ref-in.f32');
  const outFile = path.join(dir, 'ref-out.f32');
  const ageFile = path.join(dir, 'ref-age.f32');
  await writeFile(inFile, inputBytes);
  await run(pythonExecutable(), [REFERENCE, checkpoint, prefix, inFile, outFile, ...(withAge ? [ageFile] : [])]);
  const out = { embeddings: await readF32(outFile), ...(withAge ? { age: await readF32(ageFile) } : {}) };
  forwardCache.set(key, { embeddings: b64(out.embeddings), ...(out.age ? { age: b64(out.age) } : {}) });
  return out;
}

/**
 * Raw outputs of an ONNX model in onnxruntime-node (by output name; the first output under
 * `first` too), run once in a child node process: inside jest's VM the runtime's output arrays
 * fail its own Float32Array check (a different realm).
 */
export async function onnxForward(model: string, input: Float32Array, n: number, dir: string): Promise<Record<string, Float32Array>> {
  const inFile = path.join(dir, 'onnx-in.f32');
  const outDir = path.join(dir, 'onnx-out');
  await writeFile(inFile, new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  const script = `
    import ort from 'onnxruntime-node';
    import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
    const [model, inFile, outDir, n] = process.argv.slice(1);
    const b = readFileSync(inFile);
    const x = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const s = await ort.InferenceSession.create(model);
    const y = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [Number(n), 3, 112, 112]) });
    mkdirSync(outDir, { recursive: true });
    const names = [...s.outputNames, 'first'];
    for (const name of names) {
      const out = y[name === 'first' ? s.outputNames[0] : name].data;
      writeFileSync(outDir + '/' + name + '.f32', new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    }
    writeFileSync(outDir + '/names.json', JSON.stringify(names));`;
  await run(process.execPath, ['--input-type=module', '-e', script, model, inFile, outDir, String(n)], { cwd: packageFile('.') });
  const names = JSON.parse(await readFile(path.join(outDir, 'names.json'), 'utf8')) as string[];
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readF32(path.join(outDir, `${name}.f32`))] as const)));
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** Cosine of row i of two n x dim matrices. */
export function rowCosine(a: Float32Array, b: Float32Array, dim: number, i: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = i * dim; k < (i + 1) * dim; k++) {
    ab += a[k]! * b[k]!;
    aa += a[k]! * a[k]!;
    bb += b[k]! * b[k]!;
  }
  return ab / Math.sqrt(aa * bb);
}
