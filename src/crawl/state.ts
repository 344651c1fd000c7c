import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { RawExtension } from '../dataset/layout.js';
import { readJsonl } from '../util/jsonl.js';
import { type CrawlErrorCode, type CrawlLine, type CrawlStatus } from './record.js';

/** What a rerun needs of an id's last crawl.jsonl line: kept small, a dataset may have a million ids. */
export interface PriorState {
  status: CrawlStatus;
  error?: CrawlErrorCode;
  format?: RawExtension;
  sha256?: string;
  /** urlKey() of the URL it was fetched from: a changed URL in data.json means fetch again. */
  url: number;
}

/** A 32-bit FNV-1a hash of a URL: enough to notice data.json pointing an id elsewhere. */
export function urlKey(url: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < url.length; i++) h = Math.imul(h ^ url.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The last state of each id in crawl.jsonl (torn lines of a killed run are skipped). */
export async function readCrawlStates(file: string): Promise<Map<string, PriorState>> {
  const states = new Map<string, PriorState>();
  for await (const line of readJsonl<CrawlLine>(file)) {
    if (!line || typeof line.id !== 'string' || typeof line.url !== 'string') continue;
    const s: PriorState = { status: line.status, url: urlKey(line.url) };
    if (line.error) s.error = line.error;
    if (line.status === 'ok') {
      s.format = line.format;
      s.sha256 = line.sha256;
    }
    states.set(line.id, s);
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
export async function fileSha256(file: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return hash.digest('hex');
}
