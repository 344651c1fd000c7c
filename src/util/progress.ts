/** Progress for long work: a redrawn line on a TTY, a few plain lines when piped. */
export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit for the rate, e.g. "img" gives "img/s". */
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Force TTY or line mode (tests); default: the stream's isTTY. */
  tty?: boolean;
  /** Extra fields drawn after the standard ones, e.g. "ok 10 failed 2 3.1 MB/s". */
  extra?: () => string;
}

export interface ProgressSnapshot {
  done: number;
  total: number;
  elapsedS: number;
  rate: number;
  etaS: number | null;
}

const TTY_INTERVAL_MS = 200;

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private nextLineFraction = 0.1;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw >= TTY_INTERVAL_MS) {
        this.lastDraw = now;
        this.stream.write(`\r\x1b[K${this.line()}`);
      }
    } else if (this.opts.total > 0 && this.done / this.opts.total >= this.nextLineFraction && this.done < this.opts.total) {
      // piped: one line per tenth of the work, so logs stay short
      while (this.done / this.opts.total >= this.nextLineFraction) this.nextLineFraction += 0.1;
      this.stream.write(`${this.line()}\n`);
    }
  }

  /** Clear the TTY line; the caller prints its own summary. */
  finish(): void {
    if (this.tty) this.stream.write('\r\x1b[K');
  }

  snapshot(): ProgressSnapshot {
    const elapsedS = (Date.now() - this.start) / 1000;
    const rate = elapsedS > 0 ? this.done / elapsedS : 0;
    const left = this.opts.total - this.done;
    return { done: this.done, total: this.opts.total, elapsedS, rate, etaS: rate > 0 ? left / rate : null };
  }

  line(): string {
    const s = this.snapshot();
    const unit = this.opts.unit ?? 'it';
    const pct = s.total > 0 ? ` (${((100 * s.done) / s.total).toFixed(1)}%)` : '';
    const extra = this.opts.extra ? ` ${this.opts.extra()}` : '';
    const eta = s.etaS === null ? '--' : formatDuration(s.etaS);
    return `${this.opts.label} ${s.done}/${s.total}${pct}${extra} ${s.rate.toFixed(1)} ${unit}/s ETA ${eta}`;
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
