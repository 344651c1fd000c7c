import { RAW_EXTENSIONS, type RawExtension } from '../dataset/layout.js';
import { fileSha256 } from '../util/hash.js';
import { readMergedJsonl } from '../distribute/logs.js';
import { type CrawlErrorCode, type CrawlLine, type CrawlStatus } from './record.js';

/** What a rerun needs of an id's last crawl.jsonl line. */
export interface PriorState {
  status: CrawlStatus;
  error?: CrawlErrorCode;
  format?: RawExtension;
  sha256?: string;
  /** urlKey() of the URL it was fetched from: a changed URL in data.json means fetch again. */
  url: number;
}

/** A 32-bit FNV-1a hash of a URL (or an id): enough to notice data.json pointing an id elsewhere. */
export function urlKey(url: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) h = Math.imul(h ^ url.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const STATUSES: readonly CrawlStatus[] = ['ok', 'failed', 'skipped'];

/** A second, independent 32-bit hash (multiply-rotate): with urlKey's FNV-1a it names an id in 64 bits. */
function idHash2(id: string): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < id.length; i++) {
    h = Math.imul(h ^ id.charCodeAt(i), 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
  }
  return h >>> 0;
}

/**
 * Open-addressing table of id -> slot keyed by a 64-bit hash of the id, in typed arrays: no
 * string is kept, so a million ids cost about 24 MB outside the JS heap. Two different ids
 * share a 64-bit hash with odds of about 1 in 10^7 for a million ids.
 */
class IdTable {
  private a = new Uint32Array(2048);
  private b = new Uint32Array(2048);
  private slot = new Int32Array(2048).fill(-1);
  count = 0;

  /**
   * The slot of `id`; with `insert`, a new one (`count`) when it is not there; else -1. Ids that
   * differ only in case share a slot: they name the same files on macOS and Windows.
   */
  find(id: string, insert: boolean): number {
    const folded = id.toLowerCase();
    const h1 = urlKey(folded);
    const h2 = idHash2(folded);
    let mask = this.slot.length - 1;
    if (insert && (this.count + 1) * 2 > this.slot.length) mask = this.rehash();
    for (let i = h1 & mask; ; i = (i + 1) & mask) {
      const s = this.slot[i]!;
      if (s < 0) {
        if (!insert) return -1;
        this.a[i] = h1;
        this.b[i] = h2;
        this.slot[i] = this.count;
        return this.count++;
      }
      if (this.a[i] === h1 && this.b[i] === h2) return s;
    }
  }

  private rehash(): number {
    const [a, b, slot] = [this.a, this.b, this.slot];
    const n = slot.length * 2;
    this.a = new Uint32Array(n);
    this.b = new Uint32Array(n);
    this.slot = new Int32Array(n).fill(-1);
    const mask = n - 1;
    for (let j = 0; j < slot.length; j++) {
      if (slot[j]! < 0) continue;
      let i = a[j]! & mask;
      while (this.slot[i]! >= 0) i = (i + 1) & mask;
      this.a[i] = a[j]!;
      this.b[i] = b[j]!;
      this.slot[i] = slot[j]!;
    }
    return mask;
  }
}

/**
 * The last state of each id, packed in typed arrays: about 70 bytes a record in all and none
 * of it on the JS heap, so resuming a million-record crawl stays far under the memory goal.
 */
export class CrawlStates {
  private readonly ids = new IdTable();
  private status = new Uint8Array(1024); // index in STATUSES + 1; 0: no line yet
  private seen = new Uint8Array(1024); // met in this run's pass over data.json
  private error = new Uint8Array(1024); // index in this.codes + 1
  private format = new Uint8Array(1024); // index in RAW_EXTENSIONS + 1
  private url = new Uint32Array(1024);
  private sha = new Uint8Array(1024 * 32);
  private readonly codes: CrawlErrorCode[] = [];

  private slotOf(id: string): number {
    const slot = this.ids.find(id, true);
    if (slot === this.url.length) this.grow();
    return slot;
  }

  set(id: string, line: CrawlLine): void {
    const slot = this.slotOf(id);
    this.status[slot] = STATUSES.indexOf(line.status) + 1;
    this.url[slot] = urlKey(line.url);
    let code = 0;
    if (line.error) {
      code = this.codes.indexOf(line.error) + 1;
      if (code === 0 && this.codes.length < 255) code = this.codes.push(line.error);
    }
    this.error[slot] = code;
    const ok = line.status === 'ok' && typeof line.sha256 === 'string' && /^[0-9a-f]{64}$/.test(line.sha256);
    this.format[slot] = ok && line.format ? RAW_EXTENSIONS.indexOf(line.format) + 1 : 0;
    if (ok) this.sha.set(Buffer.from(line.sha256!, 'hex'), slot * 32);
  }

  /**
   * Mark `id` as met in data.json: false when it, or an id differing only in case, was met before
   * (a duplicate id). This table is also the pass's duplicate check, so no second set of every
   * id is needed.
   */
  visit(id: string): boolean {
    const slot = this.slotOf(id);
    if (this.seen[slot]) return false;
    this.seen[slot] = 1;
    return true;
  }

  get(id: string): PriorState | undefined {
    const slot = this.ids.find(id, false);
    if (slot < 0 || this.status[slot] === 0) return undefined;
    const state: PriorState = { status: STATUSES[this.status[slot]! - 1] ?? 'failed', url: this.url[slot]! };
    const code = this.codes[this.error[slot]! - 1];
    if (code) state.error = code;
    const format = RAW_EXTENSIONS[this.format[slot]! - 1];
    if (format) {
      state.format = format;
      state.sha256 = Buffer.from(this.sha.subarray(slot * 32, slot * 32 + 32)).toString('hex');
    }
    return state;
  }

  private grow(): void {
    const n = this.url.length * 2;
    const widen = <T extends Uint8Array | Uint32Array>(a: T, make: (n: number) => T, per = 1): T => {
      const b = make(n * per);
      b.set(a);
      return b;
    };
    this.status = widen(this.status, (k) => new Uint8Array(k));
    this.seen = widen(this.seen, (k) => new Uint8Array(k));
    this.error = widen(this.error, (k) => new Uint8Array(k));
    this.format = widen(this.format, (k) => new Uint8Array(k));
    this.url = widen(this.url, (k) => new Uint32Array(k));
    this.sha = widen(this.sha, (k) => new Uint8Array(k), 32);
  }
}

/** The last state of each id over crawl logs merged by time (torn lines of a killed run are skipped). */
export async function readCrawlStates(files: string | readonly string[]): Promise<CrawlStates> {
  const states = new CrawlStates();
  for await (const line of readMergedJsonl<CrawlLine>(typeof files === 'string' ? [files] : files)) {
    if (line && typeof line.id === 'string' && typeof line.url === 'string' && STATUSES.includes(line.status)) states.set(line.id, line);
  }
  return states;
}

export interface ResumePolicy {
  retryFailed: boolean;
  allowPrivate: boolean;
  ignoreRobotsTag: boolean;
}

/**
 * What a run does with an id: `fetch` it, `verify` an earlier download (fetch again only if the
 * file is missing or altered), or `keep` an earlier failure or skip as it is.
 */
export function resumeAction(prior: PriorState | undefined, url: string, policy: ResumePolicy): 'fetch' | 'verify' | 'keep' {
  if (!prior || prior.url !== urlKey(url)) return 'fetch';
  if (prior.status === 'ok') return prior.format && prior.sha256 ? 'verify' : 'fetch';
  if (prior.status === 'failed') return policy.retryFailed ? 'fetch' : 'keep';
  // skipped by a policy: fetch once that policy is lifted
  if (prior.error === 'blocked_address' && policy.allowPrivate) return 'fetch';
  if (prior.error === 'robots_disallowed' && policy.ignoreRobotsTag) return 'fetch';
  return 'keep';
}

/** sha256 of a file, or undefined when it does not exist. */
export async function existingFileSha256(file: string): Promise<string | undefined> {
  try {
    return await fileSha256(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
