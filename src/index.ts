/** ecaf's public API: every stage as a function over a dataset root. */
export * from './dataset/index.js';
export { writeFileAtomic, cleanTempFiles } from './util/atomic.js';
export { fileSha256 } from './util/hash.js';
export { readJsonl, readLastStates, JsonlAppender } from './util/jsonl.js';
export { UsageError, InterruptedError } from './util/errors.js';
export { VERSION, USER_AGENT } from './version.js';
export * from './pairs/index.js';
export * from './crawl/index.js';
export { openTorchEmbedder, TORCH_PREPROCESSING, type TorchEmbedderOptions, type TorchDevice } from './benchmark/torch-embedder.js';
export { exportOnnx, type ExportOnnxOptions, type ExportOnnxResult } from './benchmark/export-onnx.js';
export * from './align/index.js';
export { runBenchmark, formatBenchmarkResult, formatLooSummary, writeComparison, openEmbedder, type BenchmarkOptions, type BenchmarkResult, type BenchmarkRun, type BenchmarkReport, type LooReport } from './benchmark/index.js';
export { drawContactSheet, formatSheetSummary, type ContactSheetOptions, type ContactSheetResult } from './sheet/index.js';
export { runDemo, DEFAULT_DEMO_OUT, type DemoOptions, type DemoResult } from './demo/index.js';
