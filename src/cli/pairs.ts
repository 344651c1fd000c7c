import { readAuditExclusions } from '../audit/exclude.js';
import type { Argv } from 'yargs';
import {
  checkPairFile,
  DEFAULT_ADULT_MIN_AGE,
  DEFAULT_CHILD_MAX_AGE,
  DEFAULT_MAX_PER_IMAGE,
  DEFAULT_MIN_AGE_GAP,
  DEFAULT_FOLDS,
  DEFAULT_PER_FOLD,
  DEFAULT_SEED,
  makePairs,
  PROTOCOLS,
  type PairProtocol,
} from '../pairs/index.js';
import { UsageError } from '../util/errors.js';
import { formatPairCheck, formatPairsSummary } from './summaries/pairs.js';
import { rootOption, runInterruptible, type EcafCommand } from './command.js';

/** `pairs check` found problems: main prints the message and exits 1 (the report is already on stdout). */
class PairProblemsError extends Error {
  override name = 'PairProblemsError';
}

const checkBuilder = (y: Argv<any>): Argv<any> =>
  y
    .positional('file', { type: 'string', demandOption: true, describe: 'pair file: ecaf list, LFW pairs.txt (View 1 or 2), CALFW list or CSV' })
    .options({
      root: { type: 'string', describe: 'dataset root: check that every image exists, take identities from data.json' },
      folds: { type: 'number', describe: `folds of a file that does not say (default ${DEFAULT_FOLDS}; an ecaf list's .json sidecar says)` },
    })
    .example('ecaf pairs check ecaf/image_pairs/cross-age.txt --root ecaf', 'check a generated list against its dataset')
    .example('ecaf pairs check lfw/pairs.txt', 'check LFW View 2: 10 folds, people disjoint across folds')
    .example('ecaf pairs check pairs.csv --folds 5', 'a CSV with a header (file_x,file_y,Decision), in 5 folds')
    .epilog('Exit codes: 0 valid, 1 problems found, 2 the file cannot be read as any supported format.');

async function checkHandler(args: { file: string; root?: string; folds?: unknown }): Promise<void> {
  const folds = args.folds === undefined ? undefined : Number(args.folds);
  const report = await checkPairFile(args.file, { root: args.root, folds });
  process.stdout.write(formatPairCheck(report));
  if (report.identitySource === 'none') process.stderr.write('hint: --root reads the identities from data.json\n');
  if (report.problems.length > 0) throw new PairProblemsError(`${args.file}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} found`);
}

/** The generation flags stay off `pairs check` (yargs options are inherited by subcommands unless local). */
function localOptions<T extends Record<string, object>>(opts: T): { [K in keyof T]: T[K] & { global: false } } {
  return Object.fromEntries(Object.entries(opts).map(([k, v]) => [k, { ...v, global: false }])) as { [K in keyof T]: T[K] & { global: false } };
}

interface PairsArgs {
  root: string;
  protocol: PairProtocol;
  folds: unknown;
  perFold: unknown;
  seed: unknown;
  minAgeGap: unknown;
  childMaxAge: unknown;
  adultMinAge: unknown;
  maxPerImage: unknown;
  out?: string;
  allowFewer: boolean;
  skipInvalid: boolean;
  exclude?: string;
}

/** `audit` or `audit:<model>`: the images an audit of the root flagged. */
function exclusions(root: string, spec: string) {
  const m = /^audit(?::(.+))?$/.exec(spec);
  if (!m) throw new UsageError(`--exclude takes audit or audit:<model> (the folder under reports/), got ${JSON.stringify(spec)}`);
  return readAuditExclusions(root, m[1]);
}

export const pairsCommand: EcafCommand = {
  command: 'pairs',
  describe: 'draw LFW-style verification pairs (cross-age or missing-children) from the aligned images; `pairs check FILE` checks a pair file',
  builder: (y) =>
    y
      .command({
        command: 'check <file>',
        describe: 'check a pair file: pairs, folds, balance, duplicates, identity overlap, missing images',
        builder: checkBuilder,
        handler: (a: any) => checkHandler(a),
      })
      .options(localOptions({
        ...rootOption,
        protocol: { choices: PROTOCOLS, describe: 'cross-age: same person >= --min-age-gap years apart; children: a child photo against adult photos' },
        folds: { type: 'number', default: DEFAULT_FOLDS, describe: 'folds; each identity is in exactly one' },
        'per-fold': { type: 'number', default: DEFAULT_PER_FOLD, describe: 'positive pairs per fold, and as many negative ones' },
        seed: { type: 'number', default: DEFAULT_SEED, describe: 'PRNG seed (0..4294967295): same data + parameters + seed = byte-identical files' },
        'min-age-gap': { type: 'number', default: DEFAULT_MIN_AGE_GAP, describe: 'cross-age: smallest age gap of a positive pair, in years' },
        'child-max-age': { type: 'number', default: DEFAULT_CHILD_MAX_AGE, describe: 'children: a photo at this age or younger is a child photo' },
        'adult-min-age': { type: 'number', default: DEFAULT_ADULT_MIN_AGE, describe: 'children: a photo at this age or older is an adult photo' },
        'max-per-image': { type: 'number', default: DEFAULT_MAX_PER_IMAGE, describe: 'no image in more positive pairs than this, nor in more negative pairs' },
        out: { type: 'string', describe: 'pair list to write (default <root>/image_pairs/<protocol>.txt; the .json sidecar goes beside it)' },
        'allow-fewer': { type: 'boolean', default: false, describe: 'when the data cannot fill the request, write what it allows' },
        'skip-invalid': { type: 'boolean', default: false, describe: 'use the valid records of data.json when some are invalid' },
        exclude: { type: 'string', describe: "audit: leave out the images the root's audit flagged (reports/<model>/audit/audit.json; audit:<model> picks one of several)" },
      }))
      .example('ecaf pairs --root ecaf --protocol cross-age', '10 folds x (300 + 300) pairs to ecaf/image_pairs/cross-age.txt')
      .example('ecaf pairs --root ecaf --protocol children --per-fold 100 --seed 7', 'the missing-children benchmark, smaller, another draw')
      .example('ecaf pairs --root ecaf --protocol cross-age --min-age-gap 20 --allow-fewer', 'wider gaps; as many pairs as the data has')
      .example('ecaf pairs --root ecaf --protocol cross-age --exclude audit', 'without the duplicates, outliers and broken records ecaf audit found')
      .example('ecaf pairs check ecaf/image_pairs/children.txt --root ecaf', 'check a list (exit 0 valid, 1 problems, 2 unreadable)'),
  handler: async (args: PairsArgs) => {
    if (!args.protocol) throw new UsageError('pairs: --protocol is missing: give --protocol cross-age or --protocol children (or check a pair file with `ecaf pairs check FILE`)');
    const options = {
      root: args.root,
      protocol: args.protocol,
      folds: Number(args.folds),
      perFold: Number(args.perFold),
      seed: Number(args.seed),
      minAgeGap: Number(args.minAgeGap),
      childMaxAge: Number(args.childMaxAge),
      adultMinAge: Number(args.adultMinAge),
      maxPerImage: Number(args.maxPerImage),
      out: args.out,
      allowFewer: args.allowFewer,
      skipInvalid: args.skipInvalid,
      progress: true,
      ...(args.exclude === undefined ? {} : { exclude: await exclusions(args.root, args.exclude) }),
    };
    return runInterruptible(
      (signal) => makePairs({ ...options, signal }),
      (result) => process.stdout.write(formatPairsSummary(result).replace('fewer than asked:', 'fewer than asked (--allow-fewer):')),
    );
  },
};
