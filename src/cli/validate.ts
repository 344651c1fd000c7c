import path from 'node:path';
import { datasetLayout } from '../dataset/layout.js';
import { describeInvalid, validateDataJson } from '../dataset/load.js';
import { EXIT_BAD_INPUT, EXIT_OK } from '../util/errors.js';
import { rootOption, type EcafCommand } from './command.js';

export const validateCommand: EcafCommand = {
  command: 'validate',
  describe: 'check every rule of data.json without writing anything',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        data: { type: 'string', describe: 'data.json to check (default: <root>/image_data/data.json)' },
      })
      .example('ecaf validate --root ecaf', 'check ecaf/image_data/data.json')
      .example('ecaf validate --data my-records.json', 'check another file'),
  handler: async (args: { root: string; data?: string }) => {
    const file = args.data ? path.resolve(args.data) : datasetLayout(args.root).dataJson;
    const start = Date.now();
    const summary = await validateDataJson(file);
    const seconds = ((Date.now() - start) / 1000).toFixed(2);
    for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
    if (summary.invalidCount > 0) {
      process.stderr.write(describeInvalid(summary) + '\n');
      return EXIT_BAD_INPUT;
    }
    process.stdout.write(`${file}: ${summary.total} records, all valid (${seconds} s)\n`);
    return EXIT_OK;
  },
};
