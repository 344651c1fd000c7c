import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runEcaf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRoot } from '../benchmark/fixtures.js';

describe('a file that is not an ONNX model', () => {
  it('exits 2 with "not an ONNX model: FILE", no onnxruntime internals and no CUDA note', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await makeRoot(dir);
      // onnxruntime words these two differently: a protobuf it cannot parse, and one with no graph
      for (const [name, text] of [['notes.onnx', 'these are my notes, not a model\n'], ['x.onnx', 'x\n']] as const) {
        const fake = path.join(dir, name);
        await fs.writeFile(fake, text);
        for (const device of ['auto', 'cuda']) {
          const r = await runEcaf('benchmark', '--root', dir, '--model', fake, '--device', device);
          expect(r.code).toBe(2);
          expect(r.stderr).toContain(`not an ONNX model: ${fake}`);
          expect(r.stderr).not.toMatch(/protobuf|Load model from|CUDA|\n\s+at /i);
        }
      }
    } finally {
      await cleanup();
    }
  });
});
