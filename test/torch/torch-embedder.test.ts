import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ECAF_BIN } from '../helpers/cli.js';
import { openTorchEmbedder } from '../../src/models/torch.js';
import { SHARED_DATA, tempDir } from '../helpers/tmp.js';
import {
  HAS_TORCH,
  NO_TORCH_NOTE,
  makeCheckpoint,
  makeCheckpoints,
  finishForwardReferences,
  maxAbs,
  maxAbsDiff,
  onnxForward,
  randomImages,
  referenceForward,
  referenceForwardWithAge,
  rowCosine,
  withTorch,
} from './torch-helpers.js';

const run = promisify(execFile);
// wall time, not CPU: loading 200-300 MB checkpoints on a shared 2-core machine can take a minute
const SLOW_MS = 300_000;
const maybeShared = HAS_TORCH && SHARED_DATA ? describe : describe.skip;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('ecaf-torch-'));
});
afterAll(async () => {
  finishForwardReferences('torch-embedder.test.ts');
  await cleanup();
});

/** Worker embeddings (sent as frames of `batch`) against the plain functional forward. */
async function expectWorkerMatchesReference(file: string, prefix: string, n: number, batch: number) {
  const input = randomImages(n, n * 7 + batch);
  const embedder = await openTorchEmbedder(file, { device: 'cpu', batch });
  try {
    const ours = await embedder.embed(input, n);
    const ref = await referenceForward(file, prefix, input, dir);
    expect(ours.length).toBe(n * 512);
    // same math in float32, only the op order differs
    expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref)));
    return embedder.info;
  } finally {
    await embedder.close();
  }
}

withTorch('PyTorch checkpoints through the worker', () => {
  beforeAll(async () => {
    await makeCheckpoints([
      [path.join(dir, 'released-ir34.pth'), ['--depth', 'ir34', '--variant', 'released', '--prefix', 'encoder.', '--age-head']],
      [path.join(dir, 'training-ir34.pt'), ['--depth', 'ir34', '--variant', 'training', '--prefix', 'module.', '--seed', '3']],
      [path.join(dir, 'training-ir50.tar'), ['--depth', 'ir50', '--variant', 'training', '--prefix', 'none', '--wrap', 'state_dict', '--seed', '5']],
    ]);
  }, SLOW_MS);

  test('released variant, ir34, encoder. prefix, age head: equals a plain torch forward; frames of 2', async () => {
    const file = path.join(dir, 'released-ir34.pth');
    const info = await expectWorkerMatchesReference(file, 'encoder.', 3, 2);
    expect(info).toMatchObject({ kind: 'torch', model: 'released-ir34.pth', device: 'cpu', flipRule: 'mtlface' });
    expect(info.details).toMatchObject({ architecture: 'MTLFace ir34', variant: 'released', prefix: 'encoder.' });
    expect(info.weightsKey).toMatch(/^[0-9a-f]{64}$/);
  }, SLOW_MS);

  test('age head (age_estimator.* beside encoder.): the worker answers age and group logits of a plain torch forward', async () => {
    const file = path.join(dir, 'released-ir34.pth');
    const n = 3;
    const input = randomImages(n, 5);
    const embedder = await openTorchEmbedder(file, { device: 'cpu', batch: 2 });
    try {
      expect(embedder.estimates).toEqual({ age: true, gender: false, ageGroups: true, weightsKey: embedder.info.weightsKey });
      const { embeddings, estimates } = await embedder.embedAndEstimate!(input, n);
      const ref = await referenceForwardWithAge(file, 'encoder.', input, dir);
      expect(maxAbsDiff(embeddings, ref.embeddings)).toBeLessThan(1e-5 * Math.max(1, maxAbs(ref.embeddings)));
      for (let i = 0; i < n; i++) {
        const row = ref.age!.subarray(i * 8, (i + 1) * 8);
        // expected age over 101 bins, as MTLFace computes it; random weights still give 0..100
        expect(estimates.age[i]).toBeGreaterThanOrEqual(0);
        expect(estimates.age[i]).toBeLessThanOrEqual(100);
        expect(Math.abs(estimates.age[i]! - row[0]!)).toBeLessThan(1e-3);
        expect(maxAbsDiff(estimates.ageGroupLogits!.subarray(i * 7, (i + 1) * 7), row.subarray(1))).toBeLessThan(1e-3 * Math.max(1, maxAbs(row.subarray(1))));
        expect(estimates.male[i]).toBeNaN();
      }
      // the plain embed of the same checkpoint gives the embeddings alone
      expect(maxAbsDiff(await embedder.embed(input, n), embeddings)).toBe(0);
    } finally {
      await embedder.close();
    }
  }, SLOW_MS);

  test('training variant, ir34, module. prefix (DDP): equals a plain torch forward', async () => {
    const file = path.join(dir, 'training-ir34.pt');
    const info = await expectWorkerMatchesReference(file, 'module.', 2, 64);
    expect(info.details).toMatchObject({ architecture: 'MTLFace ir34', variant: 'training', prefix: 'module.' });
  }, SLOW_MS);

  test('training variant, ir50, no prefix, wrapped under state_dict in a .tar: equals a plain torch forward', async () => {
    const file = path.join(dir, 'training-ir50.tar');
    const info = await expectWorkerMatchesReference(file, '', 1, 64);
    expect(info.details).toMatchObject({ architecture: 'MTLFace ir50', variant: 'training', prefix: '(none)' });
  }, SLOW_MS);

  test('ecaf export-onnx: onnxruntime-node runs the model with a dynamic batch, cosine >= 0.9999 with torch', async () => {
    const ckpt = path.join(dir, 'released-ir34.pth');
    const out = path.join(dir, 'onnx', 'released-ir34.onnx');
    const cli = await run(process.execPath, [ECAF_BIN, 'export-onnx', ckpt, out]);
    expect(cli.stdout).toContain("input 'input' [batch, 3, 112, 112]");
    const sidecar = JSON.parse(await readFile(`${out}.json`, 'utf8')) as { flipRule: string; source: { depth: string } };
    expect(sidecar).toMatchObject({ flipRule: 'mtlface', source: { depth: 'ir34', variant: 'released' } });
    const n = 3;
    const input = randomImages(n, 11);
    const outputs = await onnxForward(out, input, n, dir);
    const onnx = outputs.first!;
    const ref = await referenceForwardWithAge(ckpt, 'encoder.', input, dir);
    for (let i = 0; i < n; i++) expect(rowCosine(onnx, ref.embeddings, 512, i)).toBeGreaterThanOrEqual(0.9999);
    // the checkpoint has an age head: the export adds `age` and `age_group`
    expect(cli.stdout).toContain("'age' [batch]");
    const [age, groups] = [outputs.age!, outputs.age_group!];
    for (let i = 0; i < n; i++) {
      expect(Math.abs(age[i]! - ref.age![i * 8]!)).toBeLessThan(1e-2);
      expect(maxAbsDiff(groups.subarray(i * 7, (i + 1) * 7), ref.age!.subarray(i * 8 + 1, i * 8 + 8))).toBeLessThan(1e-2 * Math.max(1, maxAbs(ref.age!)));
    }
  }, SLOW_MS);
});

maybeShared(`the released checkpoint's key list loads (needs ECAF_SHARED_DATA)${NO_TORCH_NOTE}`, () => {
  test('mtlface-checkpoint-keys.txt: recognition tensors with real shapes, synthesis placeholders ignored', async () => {
    const keys = path.join(SHARED_DATA!, '..', 'design', 'mtlface-checkpoint-keys.txt');
    const file = await makeCheckpoint(path.join(dir, 'released-keys.tar'), ['--depth', 'ir50', '--variant', 'released', '--prefix', 'encoder.', '--age-head', '--keys-file', keys, '--seed', '9']);
    const info = await expectWorkerMatchesReference(file, 'encoder.', 1, 64);
    expect(info.details).toMatchObject({ architecture: 'MTLFace ir50', variant: 'released', prefix: 'encoder.' });
    // the other 231 listed keys (styles, upsample*, latlayer*, aging*) are ignored
    expect(String(info.details.checkpoint)).toContain('482 recognition tensors loaded, age head (12 tensors) loaded, 231 other tensors ignored');
  }, SLOW_MS);
});
