import { exportOnnx } from '../models/export-onnx.js';
import { formatBytes } from '../util/progress.js';
import { interruptSignal } from '../util/interrupt.js';
import { EXIT_OK } from '../util/errors.js';
import type { EcafCommand } from './command.js';

export const exportOnnxCommand: EcafCommand = {
  command: 'export-onnx <checkpoint> <out>',
  describe: 'turn an MTLFace PyTorch checkpoint into an ONNX model that runs without Python',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', describe: 'MTLFace checkpoint (.pth .pt .tar: any torch.save state dict)' })
      .positional('out', { type: 'string', describe: 'ONNX file to write (a <out>.json beside it says how it was made)' })
      .options({ opset: { type: 'number', describe: 'ONNX opset (default 17)' } })
      .example('ecaf export-onnx mtlface_checkpoint.tar mtlface.onnx', 'export the released model')
      .example('ecaf benchmark --model mtlface.onnx --pairs image_pairs/cross-age.txt', 'then score it without Python'),
  handler: async (args: { checkpoint: string; out: string; opset?: number }) => {
    const opset = args.opset === undefined ? undefined : Number(args.opset);
    const { signal, dispose } = interruptSignal();
    const start = Date.now();
    process.stderr.write(`exporting ${args.checkpoint} (loading and tracing take a few seconds per 100 MB)\n`);
    try {
      const r = await exportOnnx(args.checkpoint, args.out, { opset, signal });
      const seconds = ((Date.now() - start) / 1000).toFixed(1);
      process.stdout.write(
        `${r.out}: ${formatBytes(r.bytes)}, ${r.describe}\n` +
          `  input '${r.input}' [batch, 3, 112, 112] RGB (x/255 - 0.5) / 0.5, output '${r.output}' [batch, ${r.dim}], ` +
          (r.outputs.includes('age') ? "'age' [batch] (years), 'age_group' [batch, 7] (MTLFace age-group logits), " : '') +
          `opset ${r.opset}; checked in onnxruntime (${seconds} s)\n` +
          `  ${r.sidecar}: source checkpoint, sha256, flip rule mtlface\n`,
      );
    } finally {
      dispose();
    }
    return EXIT_OK;
  },
};
