import { createHash } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { USER_AGENT } from '../version.js';
import { BLOCKED_ADDRESS, blockedAddressReason, guardedLookup } from './address.js';
import type { CrawlErrorCode } from './record.js';
import { robotsDisallow } from './robots.js';

export const MAX_REDIRECTS = 5;
/** Longest `Retry-After` honoured; a server asking for more gets its failure recorded instead. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** Connect, headers and each body read must progress within this (or the whole-request deadline when shorter). */
export const STALL_MS = 10_000;

export interface FetchOptions {
  dispatcher: Dispatcher;
  /** Whole-request deadline of one attempt, redirects included. */
  timeoutMs: number;
  maxBytes: number;
  allowPrivate: boolean;
  ignoreRobotsTag: boolean;
  /** Interrupt (SIGINT, SIGTERM): aborts what is in flight. */
  signal?: AbortSignal;
}

export interface RetryOptions {
  retries: number;
  /** First backoff; doubles each retry, with jitter of x0.5..x1.5. */
  backoffMs: number;
}

export type FetchResult =
  | { ok: true; body: Buffer; sha256: string; httpStatus: number; finalUrl: string; attempts: number }
  | { ok: false; error: CrawlErrorCode; detail: string; httpStatus?: number; finalUrl: string; attempts: number };

type Attempt =
  | { ok: true; body: Buffer; sha256: string; httpStatus: number; finalUrl: string }
  | { ok: false; error: CrawlErrorCode; detail: string; httpStatus?: number; finalUrl: string; retryable: boolean; retryAfterMs?: number };

/** The connection pool: `perHost` sockets per origin, blocked addresses refused at connect time. */
export function createDispatcher(opts: { perHost: number; timeoutMs: number; allowPrivate: boolean }): Agent {
  const stall = Math.min(STALL_MS, opts.timeoutMs);
  return new Agent({
    connections: opts.perHost,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    headersTimeout: stall,
    bodyTimeout: stall,
    connect: { timeout: stall, ...(opts.allowPrivate ? {} : { lookup: guardedLookup }) },
  });
}

/** Download one URL: retries with exponential backoff and jitter on transient failures. */
export async function fetchWithRetries(url: string, opts: FetchOptions & RetryOptions): Promise<FetchResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await fetchOnce(url, opts);
    if (r.ok) return { ...r, attempts: attempt };
    if (!r.retryable || attempt > opts.retries || opts.signal?.aborted) {
      const { retryable: _r, retryAfterMs: _a, ...failure } = r;
      return { ...failure, attempts: attempt };
    }
    const backoff = opts.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random());
    try {
      await sleep(Math.max(backoff, r.retryAfterMs ?? 0), undefined, { signal: opts.signal });
    } catch {
      const { retryable: _r, retryAfterMs: _a, ...failure } = r;
      return { ...failure, attempts: attempt }; // interrupted while waiting
    }
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One attempt: follows redirects (max 5, loops detected), reads the body under every cap. */
export async function fetchOnce(url: string, opts: FetchOptions): Promise<Attempt> {
  // one controller per attempt, not AbortSignal.any: its listeners on the run's signal are removed below
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), opts.timeoutMs);
  const onInterrupt = () => controller.abort();
  opts.signal?.addEventListener('abort', onInterrupt, { once: true });
  try {
    return await attempt(url, opts, controller.signal);
  } finally {
    clearTimeout(deadline);
    opts.signal?.removeEventListener('abort', onInterrupt);
  }
}

async function attempt(url: string, opts: FetchOptions, signal: AbortSignal): Promise<Attempt> {
  const visited = new Set<string>();
  let current = url;
  const fail = (error: CrawlErrorCode, detail: string, extra: Partial<Attempt> = {}): Attempt =>
    ({ ok: false, error, detail, finalUrl: current, retryable: false, ...extra }) as Attempt;

  for (let hop = 0; ; hop++) {
    visited.add(current);
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      return fail('bad_url', `not a valid URL: ${current}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return fail('bad_url', `scheme ${parsed.protocol} is not crawled: ${current}`);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (!opts.allowPrivate && net.isIP(host)) {
      const reason = blockedAddressReason(host);
      if (reason) return fail('blocked_address', reason);
    }

    let res: Dispatcher.ResponseData;
    try {
      res = await request(current, {
        dispatcher: opts.dispatcher,
        method: 'GET',
        signal,
        headers: { 'user-agent': USER_AGENT, accept: 'image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8,*/*;q=0.5' },
      });
    } catch (err) {
      return networkFailure(err, signal, opts, current, false);
    }
    const status = res.statusCode;
    const location = headerValue(res.headers.location);

    if (REDIRECTS.has(status) && location !== undefined) {
      res.body.dump().catch(() => undefined);
      let next: string;
      try {
        next = new URL(location, current).href;
      } catch {
        return fail('bad_url', `redirect to an invalid URL: ${location}`, { httpStatus: status });
      }
      if (visited.has(next)) return fail('redirect_loop', `redirect loop back to ${next}`, { httpStatus: status });
      if (hop + 1 > MAX_REDIRECTS) return fail('too_many_redirects', `more than ${MAX_REDIRECTS} redirects`, { httpStatus: status });
      current = next;
      continue;
    }
    if (status < 200 || status >= 300) {
      res.body.dump().catch(() => undefined);
      const retryable = status >= 500 || status === 408 || status === 429;
      const retryAfterMs = parseRetryAfter(headerValue(res.headers['retry-after']));
      if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) {
        return fail(`http_${status}`, `HTTP ${status}, Retry-After ${Math.round(retryAfterMs / 1000)} s is over ${MAX_RETRY_AFTER_MS / 1000} s`, { httpStatus: status });
      }
      return fail(`http_${status}`, `HTTP ${status}`, { httpStatus: status, retryable, retryAfterMs });
    }
    if (!opts.ignoreRobotsTag) {
      const directive = robotsDisallow(res.headers['x-robots-tag']);
      if (directive) {
        discard(res.body);
        return fail('robots_disallowed', `X-Robots-Tag: ${directive}`, { httpStatus: status });
      }
    }
    const declared = Number(headerValue(res.headers['content-length']) ?? NaN);
    if (declared > opts.maxBytes) {
      discard(res.body);
      return fail('too_large', `Content-Length ${declared} is over the limit of ${opts.maxBytes} bytes`, { httpStatus: status });
    }

    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > opts.maxBytes) {
          discard(res.body);
          return fail('too_large', `body passed the limit of ${opts.maxBytes} bytes`, { httpStatus: status });
        }
        hash.update(chunk);
        chunks.push(chunk);
      }
    } catch (err) {
      const r = networkFailure(err, signal, opts, current, true);
      if (!r.ok && (r.error === 'reset' || r.error === 'connect') && Number.isFinite(declared) && received < declared && !isReset(err)) {
        return fail('truncated', `connection closed after ${received} of ${declared} bytes`, { httpStatus: status, retryable: true });
      }
      return { ...r, httpStatus: status } as Attempt;
    }
    if (Number.isFinite(declared) && received < declared) {
      return fail('truncated', `body ended after ${received} of ${declared} bytes`, { httpStatus: status, retryable: true });
    }
    return { ok: true, body: Buffer.concat(chunks, received), sha256: hash.digest('hex'), httpStatus: status, finalUrl: current };
  }
}

/** Drop a response body unread: the socket is closed rather than drained. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `Retry-After` as seconds or an HTTP date, in ms from now. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (v === undefined) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || typeof e !== 'object' || depth > 4) return;
    const x = e as { code?: unknown; cause?: unknown; errors?: unknown[]; name?: unknown };
    if (typeof x.code === 'string') codes.push(x.code);
    if (x.name === 'AbortError' || x.name === 'TimeoutError') codes.push(String(x.name));
    visit(x.cause, depth + 1);
    for (const inner of x.errors ?? []) visit(inner, depth + 1);
  };
  visit(err, 0);
  return codes;
}

function isReset(err: unknown): boolean {
  return errorCodes(err).some((c) => c === 'ECONNRESET' || c === 'EPIPE');
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Map a thrown network error to its crawl.jsonl code; timeouts, resets and cut bodies are retryable. */
function networkFailure(err: unknown, aborted: AbortSignal, opts: FetchOptions, url: string, inBody: boolean): Attempt {
  const codes = errorCodes(err);
  const message = (err as Error)?.message ?? String(err);
  const out = (error: CrawlErrorCode, detail: string, retryable: boolean): Attempt => ({ ok: false, error, detail, finalUrl: url, retryable });
  if (codes.includes(BLOCKED_ADDRESS)) return out('blocked_address', message, false);
  if (opts.signal?.aborted) return out('timeout', 'interrupted', false);
  if (aborted.aborted) return out('timeout', `no complete response within ${opts.timeoutMs / 1000} s`, true);
  const timeoutCode = codes.find((c) => TIMEOUT_CODES.has(c));
  if (timeoutCode) return out('timeout', `${timeoutCode}: ${message}`, true);
  if (codes.includes('ECONNRESET') || codes.includes('EPIPE') || codes.includes('UND_ERR_SOCKET')) return out('reset', `${inBody ? 'connection lost mid-body' : 'connection lost'}: ${message}`, true);
  if (codes.includes('UND_ERR_RES_CONTENT_LENGTH_MISMATCH')) return out('truncated', message, true);
  if (codes.some((c) => CONNECT_CODES.has(c))) return out('connect', message, false);
  if (codes.includes('UND_ERR_INVALID_ARG') || err instanceof TypeError) return out('bad_url', message, false);
  return out('connect', `${codes[0] ?? 'error'}: ${message}`, false);
}
