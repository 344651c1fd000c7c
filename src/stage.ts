/**
 * The shape every stage (crawl, align, pairs, benchmark) has, so that one caller (the CLI, the
 * demo, a distributor running one shard of a Slurm array) drives them all the same way:
 * - `plan` (pure): the stage's inputs, already read, to tasks; each task has the id a
 *   distributor partitions on;
 * - `run` (I/O): the tasks it is given (all of them, or one shard's), stopping early when the
 *   signal aborts, ticking the progress and handing each task's outcome to the sink;
 * - `summarize` (pure): the tally of the outcomes to the stage's result.
 * An interrupt is never an exception: the result says `interrupted`, and what was in flight
 * was either finished and recorded or dropped, so a rerun does it.
 */
export type StageName = 'crawl' | 'align' | 'pairs' | 'benchmark' | 'synthesize' | 'audit';

/** One unit of work; `id` (a record id, an image name, an output file) is what shards split on. */
export interface StageTask {
  readonly id: string;
}

/** What became of one task: a typed code of the stage, and what the tally adds up. */
export interface StageOutcome<C extends string = string> {
  readonly id: string;
  readonly code: C;
  /** A stable error code (`http_404`, `no_face`) when the task failed or was skipped. */
  readonly error?: string;
  /** Bytes written for it. */
  readonly bytes?: number;
  /** It redid the work of an earlier run (a file missing or altered). */
  readonly redone?: boolean;
}

/** Where a run's outcomes go as they come: counted, and handed on (a log writer, a test). */
export type StageSink<O> = (outcome: O) => void;

/** A progress display: Progress (src/util/progress.ts) is one. */
export interface StageProgress {
  tick(n?: number): void;
}

export interface StageRunContext<O> {
  /** Stop taking tasks; finish or drop those in flight. */
  signal?: AbortSignal;
  progress?: StageProgress;
  sink: StageSink<O>;
}

/** Every stage's result has these fields; each adds its own. */
export interface StageResult<C extends string = string> {
  stage: StageName;
  /** Stopped by a signal before every task was done: a rerun goes on. */
  interrupted: boolean;
  /** This run's outcomes by code (every code present, 0 when none). */
  outcomes: Record<C, number>;
  seconds: number;
}

/** The outcomes of a run, added up: what `summarize` is computed from. */
export interface Tally<C extends string> {
  counts: Record<C, number>;
  /** Outcomes by error code. */
  errors: Record<string, number>;
  bytes: number;
  redone: number;
}

export interface Stage<I, T extends StageTask, C extends string, O extends StageOutcome<C>, R extends StageResult<C>> {
  readonly name: StageName;
  /** Every outcome code, in the order summaries list them. */
  readonly codes: readonly C[];
  plan(input: I): Iterable<T> | AsyncIterable<T>;
  run(tasks: Iterable<T> | AsyncIterable<T>, context: StageRunContext<O>): Promise<void>;
  summarize(tally: Tally<C>, interrupted: boolean, seconds: number): R;
}

export function emptyTally<C extends string>(codes: readonly C[]): Tally<C> {
  return { counts: Object.fromEntries(codes.map((c) => [c, 0])) as Record<C, number>, errors: {}, bytes: 0, redone: 0 };
}

/** Add one outcome to a tally (in place: a run can have millions). */
export function addOutcome<C extends string>(t: Tally<C>, o: StageOutcome<C>): Tally<C> {
  t.counts[o.code] = (t.counts[o.code] ?? 0) + 1;
  if (o.error !== undefined) t.errors[o.error] = (t.errors[o.error] ?? 0) + 1;
  t.bytes += o.bytes ?? 0;
  if (o.redone) t.redone++;
  return t;
}

export interface RunStageOptions<T, O> {
  signal?: AbortSignal;
  progress?: StageProgress;
  /** Also receives every outcome (after the tally). */
  sink?: StageSink<O>;
  /** Only these tasks run (a distributor's shard); the others are left for other processes. */
  select?: (task: T) => boolean;
}

async function* only<T>(tasks: Iterable<T> | AsyncIterable<T>, keep: (t: T) => boolean): AsyncGenerator<T> {
  for await (const t of tasks) if (keep(t)) yield t;
}

/** plan, run (on the selected tasks), summarize: how every caller drives a stage. */
export async function runStage<I, T extends StageTask, C extends string, O extends StageOutcome<C>, R extends StageResult<C>>(
  stage: Stage<I, T, C, O, R>,
  input: I,
  options: RunStageOptions<T, O> = {},
): Promise<R> {
  const started = performance.now();
  const tally = emptyTally(stage.codes);
  const planned = stage.plan(input);
  const tasks = options.select ? only(planned, options.select) : planned;
  await stage.run(tasks, {
    signal: options.signal,
    progress: options.progress,
    sink: (o) => {
      addOutcome(tally, o);
      options.sink?.(o);
    },
  });
  return stage.summarize(tally, Boolean(options.signal?.aborted), (performance.now() - started) / 1000);
}
