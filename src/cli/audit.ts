import { runAudit } from '../audit/index.js';
import { UsageError } from '../util/errors.js';
import { formatAuditRun } from './summaries/audit.js';
import { intArg, rootOption, runInterruptible, shardArg, shardOption, type EcafCommand } from './command.js';
import { triple } from './benchmark.js';

export const auditCommand: EcafCommand = {
  command: 'audit',
  describe: 'find the duplicates, likely mislabelled faces and records the image no longer matches, and the pairs they touch',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        model: { type: 'string', default: 'builtin', describe: 'builtin | FILE.onnx | FILE.pth/.pt/.tar: the recogniser whose embeddings find near duplicates and outliers' },
        device: { choices: ['auto', 'cpu', 'cuda'] as const, default: 'auto' as const, describe: 'where the model runs' },
        batch: { type: 'number', describe: 'images per model call (default 32)' },
        flip: { type: 'boolean', default: true, describe: 'flip test-time augmentation (--no-flip turns it off)' },
        size: { type: 'number', describe: "ONNX: input side (default: the model's, else 112)" },
        mean: { type: 'string', describe: 'ONNX: per-channel mean R,G,B of pixel/255 (default 0.5,0.5,0.5)' },
        std: { type: 'string', describe: 'ONNX: per-channel std R,G,B (default 0.5,0.5,0.5)' },
        bgr: { type: 'boolean', describe: 'ONNX: feed channels in BGR order' },
        fp16: { type: 'boolean', default: false, describe: 'PyTorch on CUDA: fp16 autocast' },
        out: { type: 'string', describe: 'report folder (default: reports/<model>/audit/)' },
        'embed-only': { type: 'boolean', default: false, describe: "only embed the images into the cache benchmark uses (with --shard: this shard's); a later plain run audits from it" },
        'search-only': { type: 'boolean', default: false, describe: "with --shard, after every shard's --embed-only: only this shard's part of the neighbour search, into the report folder's neighbours/; a later plain run merges them" },
        ...shardOption,
      })
      .example('ecaf audit --root ecaf', 'face-api embeddings: audit.md, audit.json and flagged.png under reports/builtin/audit/')
      .example('ecaf audit --root ecaf --model mtlface.tar --device cuda', "the checkpoint's embeddings find subtler near duplicates and outliers")
      .example('ecaf audit --root ecaf --embed-only --shard 0/4', 'one of four embedding tasks (then --search-only --shard K/4 for each K, then a plain run): docs/audit.md')
      .example('ecaf pairs --root ecaf --protocol cross-age --exclude audit', 'afterwards: pair files without the flagged images'),
  handler: async (args: { root: string; model: string; device: 'auto' | 'cpu' | 'cuda'; batch?: number; flip: boolean; size?: number; mean?: string; std?: string; bgr?: boolean; fp16: boolean; out?: string; 'embed-only': boolean; 'search-only': boolean; shard?: string }) => {
    if (args['embed-only'] && args['search-only']) throw new UsageError('--embed-only and --search-only are two steps: give one (every shard embeds, then every shard searches)');
    if (args.shard !== undefined && !args['embed-only'] && !args['search-only']) throw new UsageError('--shard splits a step: add --embed-only (the embeddings) or --search-only (the neighbour search); a plain ecaf audit then writes the findings');
    const shard = args['embed-only'] || args['search-only'] ? shardArg(args.shard) : undefined;
    if (args['search-only'] && !shard) throw new UsageError('--search-only needs a shard: --shard K/N, or a Slurm array or Kubernetes Indexed Job to read it from');
    return runInterruptible(
      (signal) =>
        runAudit({
          root: args.root,
          model: args.model,
          device: args.device,
          batch: args.batch === undefined ? undefined : intArg('batch', args.batch, 1),
          flip: args.flip,
          size: args.size,
          mean: triple('mean', args.mean, Number.NEGATIVE_INFINITY),
          std: triple('std', args.std, Number.MIN_VALUE),
          bgr: args.bgr,
          fp16: args.fp16,
          out: args.out,
          embedOnly: args['embed-only'],
          searchOnly: args['search-only'],
          shard,
          signal,
        }),
      (run) => process.stdout.write(formatAuditRun(run, args['embed-only'] ? 'embed' : args['search-only'] ? 'search' : undefined)),
    );
  },
};
