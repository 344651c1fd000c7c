/**
 * ecaf's public API: the stages (each a function over a dataset root returning one result
 * shape, src/stage.ts), the readers of the files they write, the verification metrics, and the
 * types. Everything else is internal and may change.
 */
// the stages, and the contract a distributor drives them by
export { crawl, type CrawlOptions, type CrawlResult } from './crawl/index.js';
export { align, type AlignOptions, type AlignSummary } from './align/index.js';
export { makePairs, checkPairFile, type PairsOptions, type PairsResult } from './pairs/index.js';
export { runBenchmark, type BenchmarkOptions, type BenchmarkRun } from './benchmark/index.js';
export { runSynthesis, type SynthesisOptions, type SynthesisRun } from './synthesis/index.js';
export { runAudit, type AuditOptions, type AuditRun } from './audit/index.js';
export { runStage, type StageResult } from './stage.js';
// readers: data.json, pair files, jsonl logs (crawl.jsonl, landmarks.jsonl)
export { loadDataJson, type EcafRecord } from './dataset/index.js';
export { readPairFile, type PairList } from './pairs/index.js';
export { readJsonl, readLastStates } from './util/jsonl.js';
export type { CrawlLine } from './crawl/index.js';
export type { LandmarksLine } from './align/index.js';
// metrics (insightface's verification protocol) over scored pairs
export { kFoldAccuracy, tarAtFars, rocCurve, rocAuc, equalErrorRate, type ScoredPairs } from './benchmark/metrics.js';
// refusals: every bad input is an InputError naming file, record, field or option
export { InputError } from './util/errors.js';
export { VERSION } from './version.js';
