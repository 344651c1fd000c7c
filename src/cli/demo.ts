import { DEFAULT_DEMO_OUT, runDemo, type DemoEvent } from '../demo/index.js';
import { EXIT_OK, InterruptedError } from '../util/errors.js';
import { interruptSignal } from '../util/interrupt.js';
import { intArg, type EcafCommand } from './command.js';
import { sayDemo } from './summaries/demo.js';

export const demoCommand: EcafCommand = {
  command: 'demo',
  describe: 'run the whole pipeline offline on the photos that ship with face-api (crawl, align, pairs, benchmark, contact sheet)',
  builder: (y) =>
    y
      .options({
        out: { type: 'string', default: DEFAULT_DEMO_OUT, describe: 'folder the demo builds (a dataset root); a rerun into it resumes' },
        workers: { type: 'number', describe: 'align worker threads (default: the number of cores)' },
        model: { type: 'string', describe: "an MTLFace checkpoint with its synthesis parts: end with its face age synthesis sheet of the demo faces (docs/synthesis.md)" },
      })
      .example('ecaf demo', 'build ./ecaf-demo and print where everything is (about 1-2 minutes on 2 cores)')
      .example('ecaf demo --out /tmp/ecaf-demo', 'somewhere else')
      .example('ecaf demo --model mtlface.tar', 'and the checkpoint\'s synthesis sheet of the demo faces (needs PyTorch)')
      .example('ecaf sheet --root ecaf-demo --only failed', 'afterwards: only the ids the demo could not align'),
  handler: async (args: { out: string; workers?: unknown; model?: string }) => {
    const workers = args.workers === undefined ? undefined : intArg('workers', args.workers, 1, 64);
    const { signal, dispose } = interruptSignal();
    try {
      const on = (e: DemoEvent) => {
        for (const text of sayDemo(e)) process.stdout.write(`${text}\n`);
      };
      try {
        await runDemo({ out: args.out, workers, model: args.model, signal, progress: true, on });
      } catch (err) {
        if (err instanceof InterruptedError) throw new InterruptedError(`${err.message}; rerun the same command to go on`);
        throw err;
      }
      process.stdout.write(
        'Next, on real records: put a data.json in DIR/image_data/ and run ecaf crawl --root DIR, ecaf align --root DIR,\n' +
          '  ecaf pairs --root DIR --protocol cross-age, ecaf benchmark --root DIR --model builtin (README.md).\n',
      );
      return EXIT_OK;
    } finally {
      dispose();
    }
  },
};
