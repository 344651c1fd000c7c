import type { Argv } from 'yargs';
import { resolveShard, type Shard } from '../distribute/shard.js';
import { EXIT_OK, UsageError } from '../util/errors.js';
import { interruptExitCode, interruptSignal } from '../util/interrupt.js';

/** One `ecaf` subcommand: its handler returns the exit code (0, 1, 2, 130 or 143). */
export interface EcafCommand {
  command: string | string[];
  describe: string;
  // yargs' builder and argv types do not compose across modules: each handler checks its own
  builder: (y: Argv) => Argv<any>;
  handler: (args: any) => Promise<number>;
}

/** --root, shared by every command that works on a dataset root. */
export const rootOption = {
  root: {
    type: 'string' as const,
    default: '.',
    describe: 'dataset root (holds image_data/, image_pairs/, reports/)',
  },
};

/** An integer flag within bounds (yargs checks only the type); exit 2 otherwise. */
export function intArg(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new UsageError(`--${name} must be an integer ${range}, got ${String(value)}`);
  }
  return n;
}

/** A number flag within bounds; exit 2 otherwise. */
export function numberArg(name: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number ${max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in ${min}..${max}`}, got ${String(value)}`);
  }
  return n;
}

/** --shard, shared by the stages that run as job arrays (crawl, align, benchmark --embed-only). */
export const shardOption = {
  shard: {
    type: 'string' as const,
    describe:
      'run shard K of N only (K from 0, e.g. 0/4; ids split by a hash, see docs/cluster.md); default: from a Slurm array ' +
      '(SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX of ECAF_SHARD_COUNT)',
  },
};

/** `shard 2/4 (0-based, from slurm: SLURM_ARRAY_TASK_ID=...)`: the first line a sharded run prints. */
export function describeShard(shard: Shard): string {
  return `shard ${shard.index}/${shard.count} (0-based, from ${shard.source}: ${shard.source === 'flag' ? `--shard ${shard.from}` : shard.from})`;
}

/** The shard of this run (flag, else the scheduler's environment); a sharded run says so on its first output line. */
export function shardArg(flag: string | undefined): Shard | undefined {
  const shard = resolveShard(flag);
  if (shard) process.stdout.write(`${describeShard(shard)}\n`);
  return shard;
}

/**
 * Run a stage with SIGINT and SIGTERM as its abort signal; `report` prints its result (also an
 * interrupted one). Exit 0, or 130 / 143 when a signal stopped it.
 */
export async function runInterruptible<R extends { interrupted: boolean }>(run: (signal: AbortSignal) => Promise<R>, report: (result: R) => void): Promise<number> {
  const interrupt = interruptSignal();
  try {
    const result = await run(interrupt.signal);
    report(result);
    return result.interrupted ? interruptExitCode(interrupt.signal) : EXIT_OK;
  } finally {
    interrupt.dispose();
  }
}
