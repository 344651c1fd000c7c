import { drawContactSheet, type SheetFilter } from '../sheet/index.js';
import { EXIT_OK } from '../util/errors.js';
import { interruptSignal } from '../util/interrupt.js';
import { formatSheetSummary } from './summaries/sheet.js';
import { rootOption, type EcafCommand } from './command.js';

export const sheetCommand: EcafCommand = {
  command: 'sheet',
  describe: 'draw a contact sheet (PNG) of the aligned faces: FFHQ and MTCNN side by side, failures in red',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        out: { type: 'string', describe: 'PNG to write (default: <root>/reports/contact-sheet.png)' },
        tile: { type: 'number', default: 112, describe: 'side of each face tile in pixels' },
        columns: { type: 'number', default: 6, describe: 'cells (ids) per row' },
        limit: { type: 'number', default: 300, describe: 'draw at most this many ids (sorted by id, so by identity)' },
        only: { choices: ['all', 'ok', 'failed'] as const, default: 'all' as const, describe: 'which ids to draw' },
      })
      .example('ecaf sheet --root ecaf', 'write ecaf/reports/contact-sheet.png')
      .example('ecaf sheet --root ecaf --only failed --out no-face.png', 'only the ids align could not align, to fix by hand')
      .example('ecaf sheet --root ecaf --tile 160 --columns 4 --limit 40', 'bigger tiles, first 40 ids'),
  handler: async (args: { root: string; out?: string; tile: unknown; columns: unknown; limit: unknown; only: SheetFilter }) => {
    const [tile, columns, limit] = [args.tile, args.columns, args.limit].map(Number);
    const { signal, dispose } = interruptSignal();
    try {
      const result = await drawContactSheet({ root: args.root, out: args.out, tile, columns, limit, only: args.only, signal });
      process.stdout.write(formatSheetSummary(result).replace(/(showing the first .*)$/m, '$1 (--limit to draw more, --only failed for the failures)') + '\n');
      return EXIT_OK;
    } finally {
      dispose();
    }
  },
};
