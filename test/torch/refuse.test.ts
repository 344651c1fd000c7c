import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openTorchEmbedder } from '../../src/models/torch.js';
import { pythonEnv, pythonExecutable } from '../../src/models/torch-python.js';
import { UsageError } from '../../src/util/errors.js';
import { pythonSkipReason } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';
import { makeCheckpoints, withTorch } from './torch-helpers.js';

const SLOW_MS = 300_000;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('ecaf-torch-refuse-'));
});
afterAll(() => cleanup());

/** openTorchEmbedder must reject with a UsageError (exit 2) whose message matches every pattern. */
async function expectRefused(file: string, patterns: RegExp[], opts = {}) {
  const err = await openTorchEmbedder(file, opts).then(
    async (e) => {
      await e.close();
      return undefined;
    },
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(UsageError);
  for (const p of patterns) expect(err!.message).toMatch(p);
}

withTorch('checkpoints that are not MTLFace are refused, naming what is missing', () => {
  // every checkpoint of this block, and whether CUDA is there, from one Python process
  let cudaAvailable = false;
  beforeAll(async () => {
    const resnet = path.join(dir, 'resnet.pth');
    const withArgs = path.join(dir, 'with-args.pth');
    const printed = await makeCheckpoints(
      [
        [path.join(dir, 'broken.pt'), ['--depth', 'ir34', '--variant', 'training', '--prefix', 'module.', '--drop', '^module\\.(fsm\\.spatial\\.|output_layer\\.3\\.weight)']],
        [path.join(dir, 'odd-depth.pt'), ['--depth', 'ir34', '--variant', 'training', '--prefix', 'none', '--drop', '^block4\\.2\\.']],
      ],
      [
        'import argparse, torch',
        `torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7), 'bn1.weight': torch.ones(64), 'layer1.0.conv1.weight': torch.zeros(64, 64, 3, 3), 'fc.weight': torch.zeros(1000, 2048)}, ${JSON.stringify(resnet)})`,
        `torch.save({'args': argparse.Namespace(lr=0.1), 'state_dict': {'conv1.weight': torch.zeros(1)}}, ${JSON.stringify(withArgs)})`,
        "print('cuda', torch.cuda.is_available())",
      ].join('\n'),
    );
    cudaAvailable = printed.includes('cuda True');
  }, SLOW_MS);

  test('another architecture (torchvision-style ResNet keys): no fsm, lists what the file has', async () => {
    await expectRefused(path.join(dir, 'resnet.pth'), [/not an MTLFace recognition checkpoint/, /no fsm\.channel\.0\.weight/, /bn1, conv1, fc, layer1/]);
  });

  test('MTLFace with tensors left out: names the missing keys with their prefix', async () => {
    await expectRefused(path.join(dir, 'broken.pt'), [/MTLFace ir34 \(training variant, prefix module\.\)/, /missing 6: /, /module\.fsm\.spatial\.0\.weight/, /module\.output_layer\.3\.weight/]);
  }, SLOW_MS);

  test('a depth that is none of ir34/50/64/101: names the units per stage found', async () => {
    await expectRefused(path.join(dir, 'odd-depth.pt'), [/block1\.\.4 have \[3, 4, 6, 2\] units per stage/, /ir34 \[3, 4, 6, 3\]/]);
  }, SLOW_MS);

  test('pickled Python objects besides tensors: refused unless ECAF_TRUST_CHECKPOINT=1', async () => {
    const file = path.join(dir, 'with-args.pth');
    await expectRefused(file, [/holds Python objects besides tensors/, /ECAF_TRUST_CHECKPOINT=1/]);
    process.env.ECAF_TRUST_CHECKPOINT = '1';
    try {
      // trusted, it loads, and is then judged on its keys
      await expectRefused(file, [/not an MTLFace recognition checkpoint/, /top-level names: conv1/]);
    } finally {
      delete process.env.ECAF_TRUST_CHECKPOINT;
    }
  });

  test('a file that is not a torch.save file', async () => {
    const file = path.join(dir, 'notes.pth');
    await writeFile(file, 'not a checkpoint\n');
    await expectRefused(file, [/notes\.pth: not a torch\.save file/]);
  });

  test('--device cuda without CUDA, and fp16 on the CPU, say what to do', async () => {
    const file = path.join(dir, 'resnet.pth');
    if (!cudaAvailable) await expectRefused(file, [/--device cuda: /, /Install a CUDA build of PyTorch/], { device: 'cuda' });
    await expectRefused(file, [/fp16 autocast needs CUDA/], { device: 'cpu', fp16: true });
  });
});

describe('no usable Python', () => {
  // needs a python that runs (any, torch or not): its torch is replaced by one that fails to import
  const runs = pythonSkipReason([], pythonExecutable());
  (runs ? test.skip : test)(`a python without torch: the error says how to install it${runs ? ` (SKIPPED: ${runs})` : ''}`, async () => {
    // a torch package that fails to import, ahead of the real one on PYTHONPATH
    const fake = path.join(dir, 'fake-site', 'torch');
    await mkdir(fake, { recursive: true });
    await writeFile(path.join(fake, '__init__.py'), "raise ImportError('No module named torch (test stand-in)')\n");
    await writeFile(path.join(dir, 'any.pth'), 'x');
    const saved = process.env.PYTHONPATH;
    process.env.PYTHONPATH = path.dirname(fake);
    try {
      expect(pythonEnv().PYTHONPATH).toContain('fake-site');
      await expect(openTorchEmbedder(path.join(dir, 'any.pth'))).rejects.toThrow(/PyTorch is not installed for .*apt install python3-torch.*pip install torch.*ECAF_PYTHON/s);
    } finally {
      if (saved === undefined) delete process.env.PYTHONPATH;
      else process.env.PYTHONPATH = saved;
    }
  });

  test('ECAF_PYTHON naming a missing program', async () => {
    await writeFile(path.join(dir, 'any.pth'), 'x');
    const saved = process.env.ECAF_PYTHON;
    process.env.ECAF_PYTHON = path.join(dir, 'no-such-python');
    try {
      await expect(openTorchEmbedder(path.join(dir, 'any.pth'))).rejects.toThrow(/cannot run .*no-such-python .*ENOENT.*ECAF_PYTHON/s);
    } finally {
      if (saved === undefined) delete process.env.ECAF_PYTHON;
      else process.env.ECAF_PYTHON = saved;
    }
  });

  test('a missing checkpoint file is bad input', async () => {
    await expect(openTorchEmbedder(path.join(dir, 'nope.pth'))).rejects.toThrow(UsageError);
  });
});
