import { parentPort, workerData } from 'node:worker_threads';
import { readAlignedIds } from './aligned-ids.js';

/** worker_threads entry of AlignedIdFilter: scan the landmarks logs, then flag each batch of ids sent. */
const aligned = readAlignedIds(workerData as string[]);
parentPort!.on('message', (batch: string) => {
  void aligned.then((ok) => {
    const ids = batch.split('\n');
    const flags = new Uint8Array(ids.length);
    for (let i = 0; i < ids.length; i++) flags[i] = ok.has(ids[i]!) ? 1 : 0;
    parentPort!.postMessage(flags, [flags.buffer]);
  });
});
