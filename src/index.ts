/** ecaf's public API: every stage as a function over a dataset root. */
export * from './dataset/index.js';
export { writeFileAtomic, cleanTempFiles } from './util/atomic.js';
export { readJsonl, readLastStates, JsonlAppender } from './util/jsonl.js';
export { UsageError, InterruptedError } from './util/errors.js';
export { VERSION, USER_AGENT } from './version.js';
export * from './pairs/index.js';
export * from './crawl/index.js';
