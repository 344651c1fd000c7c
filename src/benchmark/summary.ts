/** A benchmark run's result (pure): the tally of its images' outcomes and what it wrote (src/cli/summaries/benchmark.ts words it). */
import type { StageResult, Tally } from '../stage.js';
import type { ImageOutcome } from '../models/embed-pipeline.js';
import type { LooReport } from './report/loo.js';
import type { BenchmarkReport } from './report/markdown.js';

/** What became of each image the run was given (src/models/embed-pipeline.ts). */
export type BenchmarkOutcomeCode = ImageOutcome;

export interface BenchmarkResult {
  /** Folder holding report.json, report.md, roc.svg, scores.csv. */
  dir: string;
  report: BenchmarkReport;
}

/** What a run wrote besides the cache: a report per pair file, leave-one-out when asked, and whether the signal stopped it first. */
export interface BenchmarkWritten {
  results: BenchmarkResult[];
  leaveOneOut?: { dir: string; report: LooReport };
  /** The cache folder of this model setting. */
  cacheDir: string;
  /** The signal stopped the embedding or leave-one-out before the end: a rerun goes on. */
  stopped: boolean;
}

/**
 * Everything one `ecaf benchmark` run did, as a stage result (src/stage.ts) over its images: a
 * report per pair file, and leave-one-out identification when asked (none when interrupted
 * first). An embed-only run has the same shape, with no reports.
 */
export interface BenchmarkRun extends StageResult<BenchmarkOutcomeCode> {
  stage: 'benchmark';
  /** Images the run was given (of its shard, for an embed-only run): the sum of the outcomes. */
  images: number;
  results: BenchmarkResult[];
  leaveOneOut?: { dir: string; report: LooReport };
  cacheDir: string;
}

/** The run's result from the tally of its images and what it wrote (pure). */
export function summarizeBenchmark(tally: Tally<BenchmarkOutcomeCode>, written: BenchmarkWritten, interrupted: boolean, seconds: number): BenchmarkRun {
  const c = tally.counts;
  return {
    stage: 'benchmark',
    // a signal that came once every report was written interrupted nothing
    interrupted: interrupted && written.stopped,
    outcomes: { ...c },
    seconds,
    images: c.embedded + c.cached + c.missing + c.dropped,
    results: written.results,
    ...(written.leaveOneOut ? { leaveOneOut: written.leaveOneOut } : {}),
    cacheDir: written.cacheDir,
  };
}
