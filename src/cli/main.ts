import yargs from 'yargs';
import { VERSION } from '../version.js';
import { EXIT_FAILED, UsageError } from '../util/errors.js';
import { exitCodeOf, renderError } from './render.js';
import type { EcafCommand } from './command.js';
import { validateCommand } from './validate.js';
import { crawlCommand } from './crawl.js';
import { exportOnnxCommand } from './export-onnx.js';
import { pairsCommand } from './pairs.js';
import { alignCommand } from './align.js';
import { benchmarkCommand } from './benchmark.js';
import { reportCommand } from './report.js';
import { sheetCommand } from './sheet.js';
import { demoCommand } from './demo.js';
import { statusCommand } from './status.js';
import { slurmCommand } from './slurm.js';
import { synthesizeCommand } from './synthesize.js';
import { auditCommand } from './audit.js';

/** Every subcommand, in pipeline order: the order `ecaf --help` lists them. */
const COMMANDS: EcafCommand[] = [validateCommand, crawlCommand, alignCommand, pairsCommand, benchmarkCommand, synthesizeCommand, auditCommand, reportCommand, statusCommand, slurmCommand, exportOnnxCommand, sheetCommand, demoCommand];

/** Run the CLI on `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const cli = yargs(argv)
    .scriptName('ecaf')
    .usage('$0 <command> [options]\n\nRebuild and benchmark the ECAF cross-age face dataset.')
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'name a command (ecaf --help lists them)')
    .recommendCommands()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError(`${msg}\n(ecaf --help, or ecaf <command> --help)`);
    });
  // the running command's flags: an error names only remedies it has
  let flags = new Set<string>();
  for (const c of COMMANDS) {
    cli.command(c.command, c.describe, c.builder, async (args) => {
      // getOptions() is yargs' (untyped) view of the options the running command declared
      flags = new Set(Object.keys((cli as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key));
      code = await c.handler(args);
    });
  }
  try {
    await cli.parseAsync();
  } catch (err) {
    return reportError(err, flags);
  }
  return code;
}

function reportError(err: unknown, flags: ReadonlySet<string>): number {
  const code = exitCodeOf(err);
  process.stderr.write(`ecaf: ${code === EXIT_FAILED ? 'error: ' : ''}${renderError(err, flags)}\n`);
  const e = err as Error;
  if (code === EXIT_FAILED && process.env.ECAF_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  return code;
}
