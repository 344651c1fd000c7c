import { promises as fs } from 'node:fs';
import { writeComparison } from '../benchmark/index.js';
import { EXIT_OK } from '../util/errors.js';
import { rootOption, type EcafCommand } from './command.js';

export const reportCommand: EcafCommand = {
  command: 'report',
  describe: 'put every benchmark report under reports/ side by side (one table, one ROC plot)',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        out: { type: 'string', describe: 'markdown file to write (default: reports/comparison.md; the ROC plot goes beside it as <name>-roc.svg)' },
      })
      .example('ecaf report --root ecaf', 'write ecaf/reports/comparison.md and comparison-roc.svg')
      .example('ecaf report --root ecaf --out table.md', 'write table.md and table-roc.svg'),
  handler: async (args: { root: string; out?: string }) => {
    const file = await writeComparison(args.root, args.out);
    process.stdout.write(await fs.readFile(file, 'utf8'));
    process.stderr.write(`ecaf: wrote ${file}\n`);
    return EXIT_OK;
  },
};
