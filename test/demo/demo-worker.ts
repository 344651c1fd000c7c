import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DemoResult } from '../../src/demo/index.js';
import { distFile } from '../../src/util/paths.js';

/** The worker: runDemo of dist/, and what the CLI says of each event (src/cli/summaries/demo.ts). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { runDemo } = await import(workerData.demo);
  const { sayDemo } = await import(workerData.say);
  const said = [];
  const result = await runDemo({ out: workerData.out, progress: false, on: (e) => said.push(...sayDemo(e)) });
  parentPort.postMessage({ result, said });
})().catch((err) => parentPort.postMessage({ error: String((err && err.stack) || err) }));
`;

/**
 * `runDemo` in a worker thread, from the compiled dist/ that `ecaf demo` runs (the global setup
 * builds it): the same code, at the speed it has outside jest, whose vm context slows every
 * global lookup of in-process JavaScript (the demo took 65 s of CPU in-process, about 48 s as
 * the CLI). Resolves to its result and the lines the CLI prints of its events.
 */
export function runDemoInWorker(out: string): Promise<{ result: DemoResult; said: string[] }> {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { out, demo: pathToFileURL(distFile('demo/index.js')).href, say: pathToFileURL(distFile('cli/summaries/demo.js')).href },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { result: DemoResult; said: string[] } | { error: string }) => {
      void worker.terminate();
      if ('error' in m) reject(new Error(`runDemo in a worker: ${m.error}`));
      else resolve(m);
    });
    worker.once('error', reject);
  });
}
