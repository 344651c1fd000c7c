/**
 * Runs tasks under a global concurrency limit and a per-host one. Tasks wait in per-host queues,
 * so a host at its cap never blocks the others (no head-of-line blocking within the window).
 */
export class HostScheduler {
  private active = 0;
  private queued = 0;
  private readonly hosts = new Map<string, { active: number; queue: (() => Promise<void>)[] }>();
  /** Hosts with queued work and a free slot. */
  private readonly ready = new Set<string>();
  private waiters: { below: number; resolve: () => void }[] = [];
  private failure: unknown;

  constructor(
    private readonly global: number,
    private readonly perHost: number,
  ) {}

  /** Tasks running or waiting. */
  get pending(): number {
    return this.active + this.queued;
  }

  /** The first error a task threw (the run stops taking work after it). */
  get error(): unknown {
    return this.failure;
  }

  push(host: string, task: () => Promise<void>): void {
    let h = this.hosts.get(host);
    if (!h) this.hosts.set(host, (h = { active: 0, queue: [] }));
    h.queue.push(task);
    this.queued++;
    if (h.active < this.perHost) this.ready.add(host);
    this.pump();
  }

  /** Resolves once fewer than `n` tasks are running or waiting. */
  waitBelow(n: number): Promise<void> {
    if (this.pending < n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ below: n, resolve }));
  }

  private pump(): void {
    while (this.active < this.global && this.ready.size > 0) {
      for (const host of this.ready) {
        if (this.active >= this.global) break;
        const h = this.hosts.get(host)!;
        const task = h.queue.shift()!;
        this.queued--;
        this.active++;
        h.active++;
        if (h.queue.length === 0 || h.active >= this.perHost) this.ready.delete(host);
        void task()
          .catch((err: unknown) => {
            this.failure ??= err;
          })
          .finally(() => this.done(host));
      }
    }
  }

  private done(host: string): void {
    this.active--;
    const h = this.hosts.get(host)!;
    h.active--;
    if (h.queue.length > 0) this.ready.add(host);
    else if (h.active === 0) this.hosts.delete(host);
    this.pump();
    if (this.waiters.length > 0) {
      const still: typeof this.waiters = [];
      for (const w of this.waiters) (this.pending < w.below ? w.resolve : () => still.push(w))();
      this.waiters = still;
    }
  }
}
