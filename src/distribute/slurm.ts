import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../util/atomic.js';
import { UsageError } from '../util/errors.js';

/** The stages `ecaf slurm` submits, in chain order. */
export const SLURM_STAGES = ['crawl', 'align', 'pairs', 'benchmark'] as const;
export type SlurmStage = (typeof SLURM_STAGES)[number];

export interface SbatchSettings {
  /** Dataset root (absolute). */
  root: string;
  /** Array tasks of the sharded steps. */
  tasks: number;
  cpusPerTask?: number;
  /** Slurm time limit, as sbatch takes it (e.g. 2:00:00). */
  time?: string;
  partition?: string;
  /** Further sbatch arguments, each a whole `--name=value`. */
  sbatchArgs: string[];
  /** How a node runs ecaf: the interpreter and the script. */
  ecaf: string[];
}

/** One sbatch script: a job array when `array`, else a single task. */
export interface JobScript {
  /** `crawl`, `align`, `pairs`, `benchmark-embed`, `benchmark`. */
  name: string;
  array: boolean;
  /** The ecaf command line the job runs (after the interpreter). */
  args: string[];
  text: string;
}

const SAFE = /^[\w@%+=:,./-]+$/;
/** A word for bash: as is when safe, else single-quoted. */
export const shellWord = (w: string): string => (SAFE.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** Folder of the scripts and of Slurm's per-task output files. */
export const slurmDir = (root: string): string => path.join(root, 'slurm');

/** The text of one sbatch script (pure). */
export function sbatchScript(s: SbatchSettings, name: string, args: string[], array: boolean): string {
  const out = path.join(slurmDir(s.root), 'logs', array ? `${name}-%A_%a.out` : `${name}-%j.out`);
  const directives = [
    `--job-name=ecaf-${name}`,
    ...(array ? [`--array=0-${s.tasks - 1}`] : []),
    ...(s.cpusPerTask ? [`--cpus-per-task=${s.cpusPerTask}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    `--output=${out}`,
    ...s.sbatchArgs,
  ];
  return [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${d}`),
    `# written by ecaf slurm; ${array ? `each of the ${s.tasks} array tasks runs one shard (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT)` : 'one task'}`,
    '# exec: scancel and the time limit signal ecaf itself, which saves what it did',
    `exec ${[...s.ecaf, ...args].map(shellWord).join(' ')}`,
    '',
  ].join('\n');
}

/**
 * The scripts of a stage (pure): crawl and align as arrays; pairs as one task; benchmark as an
 * array of `--embed-only` shards and one scoring task after it. `stageArgs` go to the stage's
 * ecaf command; align gets `--workers <cpus-per-task>` unless it names its own.
 */
export function stageScripts(s: SbatchSettings, stage: SlurmStage, stageArgs: string[]): JobScript[] {
  const root = ['--root', s.root];
  const make = (name: string, args: string[], array: boolean): JobScript => ({ name, array, args, text: sbatchScript(s, name, args, array) });
  switch (stage) {
    case 'crawl':
      return [make('crawl', ['crawl', ...root, ...stageArgs], true)];
    case 'align': {
      const workers = s.cpusPerTask && !stageArgs.some((a) => a === '--workers' || a.startsWith('--workers=')) ? ['--workers', String(s.cpusPerTask)] : [];
      return [make('align', ['align', ...root, ...workers, ...stageArgs], true)];
    }
    case 'pairs':
      return [make('pairs', ['pairs', ...root, ...stageArgs], false)];
    case 'benchmark':
      return [make('benchmark-embed', ['benchmark', ...root, '--embed-only', ...stageArgs], true), make('benchmark', ['benchmark', ...root, ...stageArgs], false)];
  }
}

/** Write scripts under <root>/slurm/ (atomically), making the folder for Slurm's output files. */
export async function writeScripts(root: string, scripts: JobScript[]): Promise<string[]> {
  await fs.mkdir(path.join(slurmDir(root), 'logs'), { recursive: true });
  const files: string[] = [];
  for (const j of scripts) {
    const file = path.join(slurmDir(root), `${j.name}.sbatch`);
    await writeFileAtomic(file, j.text);
    await fs.chmod(file, 0o755);
    files.push(file);
  }
  return files;
}

const run = promisify(execFile);

/** sbatch a script, after `after` (job ids) succeeded; resolves to the new job id. */
export async function submit(file: string, after: string[] = [], sbatch = 'sbatch'): Promise<string> {
  const dep = after.length ? [`--dependency=afterok:${after.join(':')}`, '--kill-on-invalid-dep=yes'] : [];
  let stdout: string;
  try {
    ({ stdout } = await run(sbatch, ['--parsable', ...dep, file]));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new UsageError(`${sbatch}: not found: submit from a Slurm login node, or run the written script with sbatch yourself (${file})`);
    throw new Error(`sbatch ${file} failed: ${(e.stderr ?? e.message).trim()}`);
  }
  const id = stdout.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`sbatch ${file}: unexpected answer ${JSON.stringify(stdout.trim())}`);
  return id;
}

/** Submit scripts one after the other, each after the one before: the job ids in order. */
export async function submitChain(files: string[], sbatch?: string): Promise<string[]> {
  const ids: string[] = [];
  for (const f of files) ids.push(await submit(f, ids.length ? [ids.at(-1)!] : [], sbatch));
  return ids;
}
