import { promises as fs } from 'node:fs';
import { rawFile, type DatasetLayout, type RawExtension } from '../dataset/layout.js';
import { writeFileAtomic } from '../util/atomic.js';
import { JsonlAppender } from '../util/jsonl.js';
import type { CrawlLine } from './record.js';

/** Lines wait at most this long before they are appended (one write() per batch). */
const FLUSH_MS = 100;
const FLUSH_LINES = 256;

/**
 * crawl.jsonl, appended in batches. A line is added only after its image is renamed into raw/,
 * so a SIGKILL can lose unrecorded downloads (fetched again next run) but never records a missing file.
 */
export class CrawlLog {
  private pending: CrawlLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  private constructor(private readonly out: JsonlAppender) {}

  static async open(file: string): Promise<CrawlLog> {
    return new CrawlLog(await JsonlAppender.open(file));
  }

  add(line: CrawlLine): void {
    if (this.failure) throw this.failure;
    this.pending.push(line);
    if (this.pending.length >= FLUSH_LINES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.pending;
    this.pending = [];
    this.chain = this.chain.then(() => this.out.append(rows)).catch((err: unknown) => {
      this.failure ??= err;
    });
    return this.chain;
  }

  /** Append what is pending, fsync, close; throws if any append failed. */
  async close(): Promise<void> {
    await this.flush();
    await this.out.close();
    if (this.failure) throw this.failure;
  }
}

/** Store an image atomically as raw/<id>.<format> (temp file + fsync + rename). */
export async function storeImage(layout: DatasetLayout, id: string, format: RawExtension, bytes: Uint8Array): Promise<string> {
  const file = rawFile(layout, id, format);
  await writeFileAtomic(file, bytes);
  return file;
}

/** Remove an earlier download of `id` stored under another format (raw/ holds one file per id). */
export async function removeStale(layout: DatasetLayout, id: string, earlier: RawExtension | undefined, now?: RawExtension): Promise<void> {
  if (earlier && earlier !== now) await fs.rm(rawFile(layout, id, earlier), { force: true });
}
