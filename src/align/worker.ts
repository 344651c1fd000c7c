import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../util/errors.js';
import { alignImage, type AlignImageResult, type AlignImageTask } from './align-image.js';
import { FaceDetector, type WorkerSetup } from './detect.js';
import { useSimd } from './simd/kernels.js';
import type { FromWorker, ToWorker } from './pool.js';

/** worker_threads entry: one detector and face-api model copy, one photo at a time. */
const port = parentPort!;
const post = (msg: FromWorker<AlignImageResult>) => port.postMessage(msg);

try {
  useSimd((workerData as WorkerSetup).kernels !== 'js');
  const detector = await FaceDetector.create(workerData as WorkerSetup);
  port.on('message', ({ seq, task }: ToWorker<AlignImageTask>) => {
    alignImage(task, detector).then(
      (result) => post({ type: 'result', seq, result }),
      (err: Error) => post({ type: 'error', seq, message: err.message }),
    );
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'init_error', message: (err as Error).message, badInput: err instanceof UsageError });
}
