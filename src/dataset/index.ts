export * from './record.js';
export * from './layout.js';
export * from './normalize.js';
export * from './load.js';
export { streamTopLevel, locateJsonError, JsonSyntaxError, type TopLevelEntry } from './json-stream.js';
export * from './names.js';
export { MAX_PIXELS } from './pixels.js';
