import { Worker } from 'node:worker_threads';
import { UsageError } from '../util/errors.js';

/** Messages between the pool and a worker script (see worker.ts). */
export type ToWorker<T> = { seq: number; task: T };
export type FromWorker<R> = { type: 'ready' } | { type: 'init_error'; message: string; badInput?: boolean } | { type: 'result'; seq: number; result: R } | { type: 'error'; seq: number; message: string };

/** A worker died or threw while on a task: the task's own failure, not the pool's. */
export class WorkerTaskError extends Error {
  override name = 'WorkerTaskError';
}

interface Slot<T, R> {
  worker: Worker;
  ready: Promise<void>;
  current?: { seq: number; resolve: (r: R) => void; reject: (e: Error) => void };
}

/**
 * A fixed set of worker_threads, one task each at a time. A worker that crashes fails its
 * task with WorkerTaskError and is replaced; one that cannot start fails the whole pool.
 */
export class WorkerPool<T, R> {
  private readonly slots: Slot<T, R>[] = [];
  private readonly idle: Slot<T, R>[] = [];
  private readonly waiting: ((slot: Slot<T, R>) => void)[] = [];
  private seq = 0;
  private closed = false;
  /** Set when a replacement worker cannot start: every later task fails with it. */
  private broken?: Error;

  constructor(
    private readonly script: string,
    size: number,
    /** Handed to every worker as its workerData. */
    private readonly setup?: unknown,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Resolves when every worker has loaded (rejects with the first start-up failure). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  private spawn(): Slot<T, R> {
    const worker = new Worker(this.script, { workerData: this.setup });
    const slot: Slot<T, R> = { worker, ready: Promise.resolve() };
    slot.ready = new Promise<void>((resolve, reject) => {
      let started = false;
      let gone = false;
      worker.on('message', (msg: FromWorker<R>) => {
        if (msg.type === 'ready') {
          started = true;
          resolve();
          this.release(slot);
        } else if (msg.type === 'init_error') {
          // bad input (a missing model file) stays a UsageError: the CLI exits 2 with its message
          reject(msg.badInput ? new UsageError(msg.message) : new Error(`align worker could not start: ${msg.message}`));
        } else if (slot.current && msg.seq === slot.current.seq) {
          const job = slot.current;
          slot.current = undefined;
          if (msg.type === 'result') job.resolve(msg.result);
          else job.reject(new WorkerTaskError(msg.message));
          this.release(slot);
        }
      });
      const died = (err: Error) => {
        if (gone) return; // 'error' is followed by 'exit': one death, one replacement
        gone = true;
        if (!started) return reject(err);
        const job = slot.current;
        slot.current = undefined;
        job?.reject(new WorkerTaskError(`worker stopped while on this image: ${err.message}`));
        if (!this.closed) this.replace(slot);
      };
      worker.on('error', died);
      worker.on('exit', (code) => {
        if (!this.closed && code !== 0) died(new Error(`exit code ${code}`));
      });
    });
    slot.ready.catch(() => undefined); // observed through ready()
    return slot;
  }

  private replace(dead: Slot<T, R>): void {
    const i = this.slots.indexOf(dead);
    const fresh = this.spawn();
    if (i >= 0) this.slots[i] = fresh;
    fresh.ready.catch((err: Error) => {
      this.broken = err;
      for (const w of this.waiting.splice(0)) w(fresh); // run() sees `broken` and rejects
    });
  }

  private release(slot: Slot<T, R>): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  /** Run one task on the next free worker. */
  async run(task: T): Promise<R> {
    const slot = this.idle.pop() ?? (await new Promise<Slot<T, R>>((resolve) => this.waiting.push(resolve)));
    if (this.broken) throw this.broken;
    return new Promise<R>((resolve, reject) => {
      const seq = ++this.seq;
      slot.current = { seq, resolve, reject };
      slot.worker.postMessage({ seq, task } satisfies ToWorker<T>);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
