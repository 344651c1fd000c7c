import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runBenchmark } from '../../src/benchmark/index.js';
import { pythonEnv, pythonExecutable } from '../../src/models/torch-python.js';
import { describeWithPython } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRoot } from './fixtures.js';

describeWithPython(['torch'], pythonExecutable())('runBenchmark with a PyTorch checkpoint (worker)', () => {
  it('scores through the worker with the mtlface flip rule, resizing the aligned faces to 112', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const ckpt = path.join(dir, 'net.pth');
      const made = spawnSync(pythonExecutable(), ['-m', 'ecaf_torch.make_checkpoint', ckpt, '--variant', 'training', '--depth', 'ir34', '--prefix', 'module.'], { env: pythonEnv(), encoding: 'utf8' });
      expect(made.stderr).toBe('');
      const root = path.join(dir, 'root');
      await makeRoot(root);
      const {
        results: [r],
      } = await runBenchmark({ root, model: ckpt, device: 'cpu', batch: 8, progress: false, log: () => undefined });
      expect(r!.dir).toBe(path.join(root, 'reports', 'net', 'children'));
      expect(r!.report.model).toMatchObject({ kind: 'torch', model: 'net.pth', device: 'cpu', dim: 512 });
      expect(r!.report.flip).toEqual({ enabled: true, rule: 'mtlface' });
      expect(r!.report.preprocessing).toEqual({ size: 112, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], bgr: false, layout: 'nchw' });
      expect(r!.report.pairs).toMatchObject({ scored: 15, skippedMissingImages: 1 });
      expect(r!.report.speed.embedded).toBe(16);
      await expect(runBenchmark({ root, model: ckpt, size: 96, progress: false })).rejects.toThrow(/option "size": expected no value \(MTLFace checkpoints take 112x112/);
    } finally {
      await cleanup();
    }
  }, 180000);
});
