import { promises as fs } from 'node:fs';
import { writeComparison } from '../benchmark/index.js';
import { EXIT_OK } from '../util/errors.js';
import { rootOption, type EcafCommand } from './command.js';

export const reportCommand: EcafCommand = {
  command: 'report',
  describe: 'put every benchmark report under reports/ side by side (one table, one ROC plot, the paper table as CSV and LaTeX)',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        out: { type: 'string', describe: 'markdown file to write (default: reports/comparison.md; beside it <name>-roc.svg, and the paper table as <name>.csv and <name>.tex)' },
      })
      .example('ecaf report --root ecaf', 'write ecaf/reports/comparison.md, comparison-roc.svg, comparison.csv and comparison.tex')
      .example('ecaf report', 'the reports of .bin sets scored from this folder (./reports/)')
      .example('ecaf report --root ecaf --out table.md', 'write table.md, table-roc.svg, table.csv and table.tex'),
  handler: async (args: { root: string; out?: string }) => {
    const file = await writeComparison(args.root, args.out);
    process.stdout.write(await fs.readFile(file, 'utf8'));
    process.stderr.write(`ecaf: wrote ${file}\n`);
    return EXIT_OK;
  },
};
