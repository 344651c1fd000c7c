import { embedOnly, runBenchmark } from '../benchmark/index.js';
import { UsageError } from '../util/errors.js';
import { formatBenchmarkRun, formatEmbedOnly } from './summaries/benchmark.js';
import { numberArg, rootOption, runInterruptible, shardArg, shardOption, type EcafCommand } from './command.js';

/** "R,G,B" as three numbers (--mean, --std). */
export function triple(name: string, value: unknown, min: number): [number, number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(',');
  if (parts.length !== 3) throw new UsageError(`--${name} takes three numbers R,G,B, got ${String(value)}`);
  return parts.map((p) => numberArg(name, p.trim(), min)) as [number, number, number];
}

export const benchmarkCommand: EcafCommand = {
  command: 'benchmark',
  describe: 'score a face model (builtin, ONNX or PyTorch checkpoint) on the pair files',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        model: { type: 'string', demandOption: true, describe: 'builtin | FILE.onnx | FILE.pth/.pt/.tar (MTLFace checkpoint)' },
        pairs: { type: 'string', array: true, describe: 'pair files (default: every image_pairs/*.txt); insightface .bin sets (agedb_30.bin, lfw.bin, ...) need no dataset root' },
        device: { choices: ['auto', 'cpu', 'cuda'] as const, default: 'auto' as const, describe: 'where the model runs' },
        batch: { type: 'number', describe: 'images per model call, each with its mirror image (default 32)' },
        images: { choices: ['mtcnn', 'ffhq'] as const, default: 'mtcnn' as const, describe: 'aligned faces to score: img_mtcnn/*.jpg or img_ffhq/*.png' },
        flip: { type: 'boolean', default: true, describe: 'flip test-time augmentation (--no-flip turns it off)' },
        out: { type: 'string', describe: 'report folder (default: reports/<model>/<pairs>/)' },
        size: { type: 'number', describe: 'ONNX: input side (default: the model\'s, else 112)' },
        mean: { type: 'string', describe: 'ONNX: per-channel mean R,G,B of pixel/255 (default 0.5,0.5,0.5)' },
        std: { type: 'string', describe: 'ONNX: per-channel std R,G,B (default 0.5,0.5,0.5)' },
        bgr: { type: 'boolean', describe: 'ONNX: feed channels in BGR order' },
        folds: { type: 'number', describe: 'folds of pair files that do not say, and of .bin sets (default 10)' },
        identification: { choices: ['loo'] as const, describe: 'loo: leave-one-out identification over every aligned image of data.json (reports/<model>/leave-one-out/)' },
        fp16: { type: 'boolean', default: false, describe: 'PyTorch on CUDA: fp16 autocast' },
        'embed-only': { type: 'boolean', default: false, describe: 'only embed the images into the embedding cache (with --shard: this shard\'s); a later plain run scores from the cache' },
        ...shardOption,
        age: { type: 'boolean', default: true, describe: "age section: the model's age/gender estimates and linear probes of its embedding (--no-age skips it)" },
      })
      .example('ecaf benchmark --root ecaf --model builtin', 'no model file: face-api\'s 128-d descriptor on every pair file')
      .example('ecaf benchmark --root ecaf --model mtlface.tar --device cuda --fp16', 'MTLFace\'s released checkpoint on the GPU')
      .example('ecaf benchmark --root ecaf --model ir50.onnx --pairs ecaf/image_pairs/children.txt', 'an ONNX model on one pair file')
      .example('ecaf benchmark --model ir50.onnx --pairs agedb_30.bin calfw.bin cplfw.bin lfw.bin', 'insightface .bin sets, no dataset root: reports under ./reports/ir50/<set>/')
      .example('ecaf benchmark --root fgnet --model mtlface.tar --identification loo', 'leave-one-out identification, as FG-NET results are reported')
      .example('ecaf benchmark --root lfw --model arcface.onnx --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5 --bgr', 'a BGR model on LFW pairs.txt')
      .example('ecaf benchmark --root ecaf --model builtin --embed-only --shard 0/4', 'embed a quarter of the images into the cache (one task of four); then a plain run scores'),
  handler: async (args: {
    root: string;
    model: string;
    pairs?: string[];
    device: 'auto' | 'cpu' | 'cuda';
    batch?: number;
    images: 'mtcnn' | 'ffhq';
    flip: boolean;
    out?: string;
    size?: number;
    mean?: string;
    std?: string;
    bgr?: boolean;
    folds?: number;
    identification?: 'loo';
    fp16: boolean;
    'embed-only': boolean;
    shard?: string;
    age: boolean;
  }) => {
    if (args.shard !== undefined && !args['embed-only']) throw new UsageError('--shard splits the embedding step only: add --embed-only (then a plain ecaf benchmark scores from the cache)');
    const shard = args['embed-only'] ? shardArg(args.shard) : undefined;
    const options = {
      root: args.root,
      model: args.model,
      pairs: args.pairs,
      device: args.device,
      batch: args.batch,
      images: args.images,
      flip: args.flip,
      out: args.out,
      size: args.size,
      mean: triple('mean', args.mean, Number.NEGATIVE_INFINITY),
      std: triple('std', args.std, Number.MIN_VALUE),
      bgr: args.bgr,
      folds: args.folds,
      identification: args.identification,
      fp16: args.fp16,
      age: args.age,
    };
    if (args['embed-only']) {
      return runInterruptible(
        (signal) => embedOnly({ ...options, shard, signal }),
        (r) => process.stdout.write(`${formatEmbedOnly(r)}\n`),
      );
    }
    return runInterruptible(
      (signal) => runBenchmark({ ...options, signal }),
      (run) => process.stdout.write(formatBenchmarkRun(run)),
    );
  },
};
