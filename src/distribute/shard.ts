import { UsageError } from '../util/errors.js';
import { MAX_SHARDS, shardOf } from './partition.js';

/** Where a shard came from: the caller's K/N (the CLI's flag), a Slurm job array, or a Kubernetes Indexed Job. */
export type ShardSource = 'flag' | 'slurm' | 'kubernetes';

/** One shard of a partition: 0-based `index` < `count`. */
export interface Shard {
  index: number;
  count: number;
  source: ShardSource;
  /** The flag or environment values it was read from, as a user would type them. */
  from: string;
}

/**
 * A shard that cannot be used (exit 2): where it came from, the value as given, and why. The CLI
 * names the flag; `remedy` 'submitArray': resubmit the Slurm array with task ids 0..N-1.
 */
export class ShardError extends UsageError {
  override name = 'ShardError';
  constructor(
    readonly source: ShardSource,
    readonly value: string,
    readonly reason: string,
    readonly remedy?: 'submitArray',
  ) {
    super(`${source === 'flag' ? 'shard' : 'shard from the environment'} ${value}: ${reason}`);
  }
}

const INTEGER = /^\s*(\d+)\s*$/;

function integer(text: string | undefined, what: string, source: ShardSource, value: string): number {
  const m = text === undefined ? null : INTEGER.exec(text);
  if (!m) throw new ShardError(source, value, `${what} must be a whole number, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`);
  return Number(m[1]);
}

function checked(index: number, count: number, source: ShardSource, from: string): Shard {
  if (count < 1) throw new ShardError(source, from, `the shard count must be at least 1, got ${count}`);
  if (count > MAX_SHARDS) throw new ShardError(source, from, `the shard count must be at most ${MAX_SHARDS}, got ${count}`);
  if (index >= count) throw new ShardError(source, from, `the shard index is 0-based and must be below the count ${count}, got ${index}`);
  return { index, count, source, from };
}

/** `K/N`: shard K (0-based) of N. */
export function parseShard(text: string): Shard {
  const parts = text.split('/');
  if (parts.length !== 2) throw new ShardError('flag', text, 'expected K/N (shard K of N, K counted from 0), e.g. 0/4');
  const index = integer(parts[0], 'K', 'flag', text);
  const count = integer(parts[1], 'N', 'flag', text);
  return checked(index, count, 'flag', text);
}

/**
 * The shard to run: the flag when given; else a Slurm array task (SLURM_ARRAY_TASK_ID minus
 * SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP when set, of SLURM_ARRAY_TASK_COUNT); else a
 * Kubernetes Indexed Job (JOB_COMPLETION_INDEX of ECAF_SHARD_COUNT); else none (the whole set).
 */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  if (flag !== undefined) return parseShard(flag);
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const names = ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_STEP'];
    const from = names.filter((n) => env[n] !== undefined).map((n) => `${n}=${env[n]}`).join(' ');
    const id = integer(env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID', 'slurm', from);
    const min = integer(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN', 'slurm', from);
    const count = integer(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT', 'slurm', from);
    const step = env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : integer(env.SLURM_ARRAY_TASK_STEP, 'SLURM_ARRAY_TASK_STEP', 'slurm', from);
    if (id < min || step < 1 || (id - min) % step !== 0) {
      throw new ShardError('slurm', from, 'the array task ids must run MIN, MIN+STEP, ...', 'submitArray');
    }
    return checked((id - min) / step, count, 'slurm', from);
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const from = `JOB_COMPLETION_INDEX=${env.JOB_COMPLETION_INDEX}${env.ECAF_SHARD_COUNT !== undefined ? ` ECAF_SHARD_COUNT=${env.ECAF_SHARD_COUNT}` : ''}`;
    const index = integer(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX', 'kubernetes', from);
    const count = integer(env.ECAF_SHARD_COUNT, 'ECAF_SHARD_COUNT (the Job\'s completions)', 'kubernetes', from);
    return checked(index, count, 'kubernetes', from);
  }
  return undefined;
}

/** Whether `id` is this shard's (every id when there is no shard). */
export function inShard(id: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(id, shard.count) === shard.index;
}

/** `0-of-4`: how a shard names its files. */
export const shardTag = (shard: Shard): string => `${shard.index}-of-${shard.count}`;
