import type { RawExtension } from '../dataset/layout.js';

/** Stable error codes of crawl.jsonl (docs/formats.md); `http_<status>` covers every other HTTP status. */
export type CrawlErrorCode =
  | 'timeout'
  | 'connect'
  | 'reset'
  | `http_${number}`
  | 'not_image'
  | 'too_large'
  | 'truncated'
  | 'redirect_loop'
  | 'too_many_redirects'
  | 'bad_url'
  | 'blocked_address'
  | 'robots_disallowed'
  | 'decode_error';

export type CrawlStatus = 'ok' | 'failed' | 'skipped';

/** One line of image_data/crawl.jsonl: the last line of an id is its state. */
export interface CrawlLine {
  id: string;
  url: string;
  status: CrawlStatus;
  error?: CrawlErrorCode;
  /** Human-readable cause of a failure (added field: the code stays the stable part). */
  detail?: string;
  /** Status of the last HTTP response (after redirects). */
  http_status?: number;
  /** Where the image came from after redirects, when it differs from `url`. */
  final_url?: string;
  bytes?: number;
  /** Of the bytes stored in raw/<id>.<format>. */
  sha256?: string;
  format?: RawExtension;
  width?: number;
  height?: number;
  /** Requests made for this id in this run (retries included). */
  attempts: number;
  /** When the line was written, ISO 8601 UTC. */
  time: string;
}

/** Codes that mean "policy said no" rather than "it failed": such ids are `skipped`. */
export const POLICY_ERRORS: ReadonlySet<CrawlErrorCode> = new Set(['blocked_address', 'robots_disallowed']);
