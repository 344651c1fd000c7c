import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkerPool, WorkerTaskError } from '../../src/align/pool.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** A worker speaking the pool's protocol: doubles numbers, throws on 'bad', dies on 'die'. */
const WORKER = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', ({ seq, task }) => {
  if (task === 'die') process.exit(3);
  if (task === 'bad') return parentPort.postMessage({ type: 'error', seq, message: 'bad task' });
  parentPort.postMessage({ type: 'result', seq, result: task * 2 });
});
parentPort.postMessage({ type: 'ready' });
`;

describe('WorkerPool', () => {
  it('runs tasks, fails only the task whose worker died, and replaces the worker', async () => {
    const script = path.join(dir, 'worker.mjs');
    await writeFile(script, WORKER);
    const pool = new WorkerPool<number | string, number>(script, 2);
    try {
      await pool.ready();
      expect(await Promise.all([1, 2, 3, 4].map((n) => pool.run(n)))).toEqual([2, 4, 6, 8]);
      await expect(pool.run('bad')).rejects.toThrow(new WorkerTaskError('bad task'));
      await expect(pool.run('die')).rejects.toThrow(/worker stopped while on this image: exit code 3/);
      expect(await Promise.all([5, 6, 7].map((n) => pool.run(n)))).toEqual([10, 12, 14]);
    } finally {
      await pool.close();
    }
  });

  it('fails ready() when a worker cannot start', async () => {
    const script = path.join(dir, 'broken.mjs');
    await writeFile(script, `import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ type: 'init_error', message: 'no models' });\n`);
    const pool = new WorkerPool<number, number>(script, 1);
    await expect(pool.ready()).rejects.toThrow('align worker could not start: no models');
    await pool.close();
  });
});
