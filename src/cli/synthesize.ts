import { runSynthesis } from '../synthesis/index.js';
import { formatSynthesisRun } from './summaries/synthesize.js';
import { intArg, rootOption, runInterruptible, type EcafCommand } from './command.js';

export const synthesizeCommand: EcafCommand = {
  command: 'synthesize',
  describe: "render each aligned face at MTLFace's 7 age groups with a checkpoint's synthesis half, and score the faces with open judges",
  builder: (y) =>
    y
      .options({
        ...rootOption,
        model: { type: 'string', demandOption: true, describe: 'MTLFace checkpoint with its synthesis parts (.pth/.pt/.tar)' },
        ids: { type: 'string', describe: 'file of ids or image names, one per line (default: every face of img_mtcnn/)' },
        groups: { type: 'string', describe: 'age groups to render, 0..6 comma-separated (default all: 0-10, 11-20, ..., 61+)' },
        device: { choices: ['auto', 'cpu', 'cuda'] as const, default: 'auto' as const, describe: 'where the model runs' },
        batch: { type: 'number', describe: 'faces per worker call (default 8)' },
        fp16: { type: 'boolean', default: false, describe: 'CUDA: fp16 autocast' },
        noise: { choices: ['stored', 'random'] as const, default: 'stored' as const, describe: "stored: the checkpoint's noise maps (the same pixels every run); random: fresh noise drawn from --seed" },
        seed: { type: 'number', describe: 'with --noise random: the seed (default 0); each face draws its own noise from it' },
        judge: { type: 'string', default: 'builtin', describe: "recogniser and age estimator that judges the faces: builtin (face-api) or FILE.onnx" },
        'self-judge': { type: 'boolean', default: true, describe: "also score with the checkpoint's own embedding and age head (labelled; --no-self-judge skips it)" },
        out: { type: 'string', describe: 'folder (default: reports/<model>/synthesis/)' },
      })
      .example('ecaf synthesize --root ecaf --model mtlface.tar', 'every aligned face at the 7 groups, stored noise, judged by face-api')
      .example('ecaf synthesize --root ecaf --model mtlface.tar --ids some-ids.txt --groups 0,6 --device cuda --fp16', 'some faces, youngest and oldest groups, on the GPU')
      .example('ecaf synthesize --root ecaf --model mtlface.tar --noise random --seed 7', 'fresh noise, reproducible with the same seed'),
  handler: async (args: { root: string; model: string; ids?: string; groups?: string; device: 'auto' | 'cpu' | 'cuda'; batch?: number; fp16: boolean; noise: 'stored' | 'random'; seed?: number; judge: string; 'self-judge': boolean; out?: string }) => {
    const groups = args.groups === undefined ? undefined : args.groups.split(',').map((g) => intArg('groups', g.trim(), 0, 6));
    return runInterruptible(
      (signal) =>
        runSynthesis({
          root: args.root,
          model: args.model,
          ids: args.ids,
          groups,
          device: args.device,
          batch: args.batch === undefined ? undefined : intArg('batch', args.batch, 1),
          fp16: args.fp16,
          noise: args.noise,
          seed: args.seed === undefined ? undefined : intArg('seed', args.seed, 0),
          judge: args.judge,
          selfJudge: args['self-judge'],
          out: args.out,
          signal,
        }),
      (run) => process.stdout.write(formatSynthesisRun(run)),
    );
  },
};
