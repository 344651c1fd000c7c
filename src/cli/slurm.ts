import path from 'node:path';
import { SLURM_STAGES, stageScripts, submitChain, writeScripts, type JobScript, type SlurmStage } from '../distribute/slurm.js';
import { EXIT_OK, UsageError } from '../util/errors.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { intArg, rootOption, type EcafCommand } from './command.js';

interface SlurmArgs {
  stage: SlurmStage;
  root: string;
  tasks: unknown;
  'cpus-per-task'?: unknown;
  time?: string;
  partition?: string;
  sbatch?: string[];
  submit: boolean;
  chain: boolean;
  'crawl-args'?: string;
  'align-args'?: string;
  'pairs-args': string;
  'benchmark-args': string;
  '--'?: (string | number)[];
}

/** Split `--x-args` text on whitespace (each word passed as one argument). */
const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter(Boolean);

export const slurmCommand: EcafCommand = {
  command: 'slurm <stage>',
  describe: 'write (and --submit) sbatch job-array scripts for a stage, or the whole chain crawl -> align -> pairs -> benchmark',
  builder: (y) =>
    y
      .parserConfiguration({ 'populate--': true })
      .positional('stage', { choices: SLURM_STAGES, describe: 'crawl and align run as arrays; benchmark as an --embed-only array then one scoring job; pairs as one job' })
      .options({
        ...rootOption,
        tasks: { type: 'number', default: 4, describe: 'array tasks (shards) of the sharded steps' },
        'cpus-per-task': { type: 'number', describe: 'sbatch --cpus-per-task (align also gets --workers of that many)' },
        time: { type: 'string', describe: 'sbatch --time, e.g. 2:00:00' },
        partition: { type: 'string', describe: 'sbatch --partition' },
        sbatch: { type: 'string', array: true, describe: 'more sbatch arguments, each whole, e.g. --sbatch=--mem=8G --sbatch=--account=lab' },
        submit: { type: 'boolean', default: false, describe: 'run sbatch on the scripts (else only write them)' },
        chain: { type: 'boolean', default: false, describe: 'from this stage to benchmark, each after the one before succeeded (--dependency=afterok)' },
        'crawl-args': { type: 'string', describe: 'more arguments of the crawl jobs, with =: --crawl-args="--concurrency 32"' },
        'align-args': { type: 'string', describe: 'more arguments of the align jobs, with =: --align-args="--ffhq-size 512"' },
        'pairs-args': { type: 'string', default: '--protocol cross-age', describe: 'arguments of the pairs job (with =, as above)' },
        'benchmark-args': { type: 'string', default: '--model builtin', describe: 'arguments of the benchmark jobs (with =, as above)' },
      })
      .example('ecaf slurm crawl --root /scratch/ecaf --tasks 8 --time 4:00:00', 'write /scratch/ecaf/slurm/crawl.sbatch, an 8-task array')
      .example('ecaf slurm crawl --root /scratch/ecaf --tasks 8 --cpus-per-task 4 --chain --submit', 'submit crawl, align, pairs and benchmark, each after the one before')
      .example('ecaf slurm align --root ecaf --tasks 4 --partition gpu --sbatch=--mem=16G -- --ffhq-size 512', 'arguments after -- go to the stage'),
  handler: async (args: SlurmArgs) => {
    const root = path.resolve(args.root);
    const settings = {
      root,
      tasks: intArg('tasks', args.tasks, 1, 10000),
      cpusPerTask: args['cpus-per-task'] === undefined ? undefined : intArg('cpus-per-task', args['cpus-per-task'], 1, 4096),
      time: args.time,
      partition: args.partition,
      sbatchArgs: args.sbatch ?? [],
      ecaf: [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'ecaf.js')],
    };
    for (const a of settings.sbatchArgs) if (!a.startsWith('-')) throw new UsageError(`--sbatch takes whole sbatch arguments such as --mem=8G, got ${a}`);
    const extra = (args['--'] ?? []).map(String);
    const argsOf: Record<SlurmStage, string[]> = {
      crawl: words(args['crawl-args']),
      align: words(args['align-args']),
      pairs: words(args['pairs-args']),
      benchmark: words(args['benchmark-args']),
    };
    argsOf[args.stage].push(...extra);
    const stages = args.chain ? SLURM_STAGES.slice(SLURM_STAGES.indexOf(args.stage)) : [args.stage];
    const scripts: JobScript[] = stages.flatMap((st) => stageScripts(settings, st, argsOf[st]));
    const files = await writeScripts(root, scripts);
    files.forEach((f, i) => process.stdout.write(`wrote ${f} (${scripts[i]!.array ? `array of ${settings.tasks} tasks` : 'one task'}): ecaf ${scripts[i]!.args.join(' ')}\n`));
    if (!args.submit) {
      process.stdout.write(`submit with: ${files.length === 1 ? `sbatch ${files[0]}` : `ecaf slurm ${args.stage} ... --submit (each after the one before: sbatch --dependency=afterok:<id>)`}\n`);
      return EXIT_OK;
    }
    const ids = await submitChain(files);
    ids.forEach((id, i) => process.stdout.write(`submitted ${scripts[i]!.name}: job ${id}${i > 0 ? ` (after ${ids[i - 1]} succeeds)` : ''}\n`));
    process.stdout.write(`follow with: squeue -j ${ids.join(',')}   and   ecaf status --root ${root}\n`);
    return EXIT_OK;
  },
};
