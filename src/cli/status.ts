import { datasetStatus, formatStatus } from '../status/index.js';
import { EXIT_OK } from '../util/errors.js';
import { rootOption, type EcafCommand } from './command.js';

export const statusCommand: EcafCommand = {
  command: 'status',
  describe: 'where a dataset root stands: ok / failed / pending per stage (and per shard), and the next command',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        json: { type: 'boolean', default: false, describe: 'print the status as JSON' },
      })
      .example('ecaf status --root ecaf', 'counts per stage and the command to run next')
      .example('ecaf status --root ecaf --json', 'the same for scripts'),
  handler: async (args: { root: string; json: boolean }) => {
    const status = await datasetStatus(args.root);
    process.stdout.write(args.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
    return EXIT_OK;
  },
};
