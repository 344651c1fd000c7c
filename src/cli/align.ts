import os from 'node:os';
import { align, formatAlignSummary } from '../align/index.js';
import { EXIT_INTERRUPTED, EXIT_OK } from '../util/errors.js';
import { interruptSignal } from '../util/interrupt.js';
import { intArg, rootOption, shardArg, shardOption, type EcafCommand } from './command.js';

interface AlignArgs {
  root: string;
  ffhqSize: number;
  mtcnnSize: number;
  workers: number;
  force: boolean;
  retryFailed: boolean;
  skipInvalid: boolean;
  ffhqFast: boolean;
  shard?: string;
}

export const alignCommand: EcafCommand = {
  command: 'align',
  describe: 'detect faces in image_data/raw/ and write FFHQ (img_ffhq/) and 5-point (img_mtcnn/) crops',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        ...shardOption,
        'ffhq-size': { type: 'number', default: 1024, describe: 'side of the FFHQ-aligned PNGs' },
        'mtcnn-size': { type: 'number', default: 112, describe: 'side of the 5-point aligned JPEGs (template scaled as insightface does)' },
        workers: { type: 'number', default: os.availableParallelism(), describe: 'worker threads, one face-api model copy each' },
        force: { type: 'boolean', default: false, describe: 'redo ids already aligned' },
        'retry-failed': { type: 'boolean', default: false, describe: 'try again the no_face and decode_error ids whose photo has not changed (kept by default)' },
        'skip-invalid': { type: 'boolean', default: false, describe: 'go on with the valid records when data.json has invalid ones' },
        'ffhq-fast': { type: 'boolean', default: false, describe: "skip FFHQ's 4x transform step: faster, not the published procedure (aliases faces larger than the output)" },
      })
      .example('ecaf align --root ecaf', 'align every crawled photo of ecaf/ (a rerun skips what is done)')
      .example('ecaf align --root ecaf --ffhq-size 512 --workers 4', 'FFHQ crops at 512x512 with 4 workers')
      .example('ecaf align --root ecaf --retry-failed', 'also try again the photos that gave no face or did not decode, though unchanged')
      .example('ecaf align --root ecaf --shard 1/2 --workers 1', 'align half of the ids (one task of two; log in image_data/logs/landmarks.1-of-2.jsonl)')
      .example('ecaf align --root ecaf --force', 'redo every photo, also those already aligned (an edited landmarks-override.json needs no --force)'),
  handler: async (args: AlignArgs) => {
    const { signal, dispose } = interruptSignal();
    try {
      const summary = await align({
        root: args.root,
        ffhqSize: intArg('ffhq-size', args.ffhqSize, 16, 8192),
        mtcnnSize: intArg('mtcnn-size', args.mtcnnSize, 16, 4096),
        workers: intArg('workers', args.workers, 1, 256),
        force: args.force,
        retryFailed: args.retryFailed,
        skipInvalid: args.skipInvalid,
        ffhqFast: args.ffhqFast,
        shard: shardArg(args.shard),
        signal,
      });
      process.stdout.write(formatAlignSummary(summary) + '\n');
      return summary.interrupted ? EXIT_INTERRUPTED : EXIT_OK;
    } finally {
      dispose();
    }
  },
};
