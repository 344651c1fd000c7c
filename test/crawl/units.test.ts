import { blockedAddressReason } from '../../src/crawl/address.js';
import { parseRetryAfter } from '../../src/crawl/fetch.js';
import { robotsDisallow } from '../../src/crawl/robots.js';
import { HostScheduler } from '../../src/crawl/scheduler.js';
import { checkImage, looksComplete, sniffFormat } from '../../src/crawl/sniff.js';
import { CrawlStates, resumeAction, urlKey, type PriorState } from '../../src/crawl/state.js';
import { formatCrawlSummary } from '../../src/cli/summaries/crawl.js';
import { CRAWL_OUTCOMES, summarizeCrawl } from '../../src/crawl/summary.js';
import { addOutcome, emptyTally } from '../../src/stage.js';
import { claimedPng, makeImage } from './fault-server.js';

describe('blockedAddressReason', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::192.168.0.1'])(
    'blocks %s',
    (ip) => expect(blockedAddressReason(ip)).toBeDefined(),
  );
  it.each(['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2001:db8::1'])('allows %s', (ip) =>
    expect(blockedAddressReason(ip)).toBeUndefined(),
  );
});

describe('robotsDisallow', () => {
  it('finds noai / noimageai, for ecaf or every agent only', () => {
    expect(robotsDisallow('noai')).toBe('noai');
    expect(robotsDisallow(['noindex', 'NoImageAI'])).toBe('noimageai');
    expect(robotsDisallow('noindex, nofollow')).toBeUndefined();
    expect(robotsDisallow('otherbot: noai')).toBeUndefined();
    expect(robotsDisallow('ecaf: noai')).toBe('noai');
    expect(robotsDisallow('*: noimageai')).toBe('noimageai');
    expect(robotsDisallow(undefined)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('sniffing', () => {
  it('tells formats by magic bytes and notices cut-off data', async () => {
    for (const [fmt, ext] of [['jpeg', 'jpg'], ['png', 'png'], ['webp', 'webp']] as const) {
      const img = await makeImage(7, fmt);
      expect(sniffFormat(img)).toBe(ext);
      expect(looksComplete(ext, img)).toBe(true);
      expect(looksComplete(ext, img.subarray(0, img.length - 20))).toBe(false);
    }
    expect(sniffFormat(Buffer.from('GIF89a......'))).toBe('gif');
    expect(sniffFormat(Buffer.from('<html>'))).toBeUndefined();
  });

  it('checks dimensions through sharp and refuses over 60 megapixels, the limit align decodes up to', async () => {
    expect(await checkImage(await makeImage(8, 'png', 30, 20))).toEqual({ ok: true, format: 'png', width: 30, height: 20 });
    expect(await checkImage(claimedPng(8000, 7501))).toEqual({ ok: false, error: 'too_large', detail: '8000x7501 is over 60 megapixels' });
    expect(await checkImage(claimedPng(8000, 7500))).toMatchObject({ ok: true, width: 8000, height: 7500 });
  });
});

describe('resumeAction', () => {
  const url = 'http://h/a.jpg';
  const policy = { retryFailed: false, allowPrivate: false, ignoreRobotsTag: false };
  const state = (s: Partial<PriorState>): PriorState => ({ status: 'ok', url: urlKey(url), ...s });
  it('verifies ok ids, keeps failures unless asked, fetches changed URLs and lifted skips', () => {
    expect(resumeAction(undefined, url, policy)).toBe('fetch');
    expect(resumeAction(state({ format: 'jpg', sha256: 'ab' }), url, policy)).toBe('verify');
    expect(resumeAction(state({ format: 'jpg', sha256: 'ab' }), 'http://h/b.jpg', policy)).toBe('fetch');
    expect(resumeAction(state({ status: 'failed', error: 'timeout' }), url, policy)).toBe('keep');
    expect(resumeAction(state({ status: 'failed', error: 'timeout' }), url, { ...policy, retryFailed: true })).toBe('fetch');
    expect(resumeAction(state({ status: 'skipped', error: 'blocked_address' }), url, { ...policy, retryFailed: true })).toBe('keep');
    expect(resumeAction(state({ status: 'skipped', error: 'blocked_address' }), url, { ...policy, allowPrivate: true })).toBe('fetch');
    expect(resumeAction(state({ status: 'skipped', error: 'robots_disallowed' }), url, { ...policy, ignoreRobotsTag: true })).toBe('fetch');
  });
});

describe('CrawlStates', () => {
  it('keeps the last line of each id, packed, past its first growth', () => {
    const states = new CrawlStates();
    const sha = 'ab'.repeat(32);
    for (let i = 0; i < 3000; i++) states.set(`id_${i}`, { id: `id_${i}`, url: `http://h/${i}`, status: 'failed', error: 'http_404', attempts: 1, time: '' });
    states.set('id_7', { id: 'id_7', url: 'http://h/7b', status: 'ok', sha256: sha, format: 'webp', attempts: 1, time: '' });
    states.set('id_9', { id: 'id_9', url: 'http://h/9', status: 'skipped', error: 'robots_disallowed', attempts: 1, time: '' });
    expect(states.get('id_2999')).toEqual({ status: 'failed', error: 'http_404', url: urlKey('http://h/2999') });
    expect(states.get('id_7')).toEqual({ status: 'ok', format: 'webp', sha256: sha, url: urlKey('http://h/7b') });
    expect(states.get('id_9')).toEqual({ status: 'skipped', error: 'robots_disallowed', url: urlKey('http://h/9') });
    expect(states.get('nope')).toBeUndefined();
  });

  it('tells a duplicate id in the pass over data.json', () => {
    const states = new CrawlStates();
    states.set('a_1', { id: 'a_1', url: 'http://h/a', status: 'failed', error: 'timeout', attempts: 1, time: '' });
    expect([states.visit('a_1'), states.visit('b_1'), states.visit('a_1'), states.visit('b_1')]).toEqual([true, true, false, false]);
    expect(states.get('b_1')).toBeUndefined(); // met, but no line yet
    expect(states.visit('A_1')).toBe(false); // differs only in case: the same files on macOS and Windows
  });
});

describe('HostScheduler', () => {
  it('holds the global and per-host limits and never blocks a free host behind a busy one', async () => {
    const s = new HostScheduler(4, 2);
    const running = new Map<string, number>();
    let maxGlobal = 0;
    const maxHost = new Map<string, number>();
    const order: string[] = [];
    const task = (host: string) => async () => {
      running.set(host, (running.get(host) ?? 0) + 1);
      maxHost.set(host, Math.max(maxHost.get(host) ?? 0, running.get(host)!));
      maxGlobal = Math.max(maxGlobal, [...running.values()].reduce((a, b) => a + b, 0));
      order.push(host);
      await new Promise((r) => setTimeout(r, 5));
      running.set(host, running.get(host)! - 1);
    };
    for (let i = 0; i < 10; i++) s.push('a', task('a'));
    s.push('b', task('b'));
    await s.waitBelow(1);
    expect(maxGlobal).toBeLessThanOrEqual(4);
    expect(maxHost.get('a')).toBe(2);
    expect(order.indexOf('b')).toBeLessThan(3); // b started with the first wave, not after a's queue
  });

  it('keeps the first error a task throws', async () => {
    const s = new HostScheduler(2, 2);
    s.push('a', async () => {
      throw new Error('disk full');
    });
    await s.waitBelow(1);
    expect((s.error as Error).message).toBe('disk full');
  });
});

describe('formatCrawlSummary', () => {
  it('gives counts by status and code, success rate, bytes and time', () => {
    const t = emptyTally(CRAWL_OUTCOMES);
    for (let i = 0; i < 6; i++) addOutcome(t, { id: `ok_${i}`, code: 'ok', bytes: (3 * 1024 * 1024) / 6, redone: i === 0 });
    addOutcome(t, { id: 'f_1', code: 'failed', error: 'timeout' });
    addOutcome(t, { id: 'f_2', code: 'failed', error: 'http_404' });
    addOutcome(t, { id: 'a_1', code: 'already_ok' });
    addOutcome(t, { id: 'a_2', code: 'already_ok' });
    addOutcome(t, { id: 'd_1', code: 'dropped' });
    const s = summarizeCrawl(t, { dataFile: '/d/data.json', records: 10, invalid: 0 }, true, 2);
    expect(s).toMatchObject({ stage: 'crawl', interrupted: true, attempted: 8, alreadyOk: 2, refetched: 1, imagesInRaw: 8, successRate: 0.75, imagesPerSecond: 3 });
    expect(s.outcomes).toEqual({ ok: 6, failed: 2, skipped: 0, already_ok: 2, kept_failed: 0, kept_skipped: 0, dropped: 1 });
    const text = formatCrawlSummary(s);
    expect(text).toContain('crawl interrupted: 10 records in /d/data.json');
    expect(text).toContain('1 in flight dropped: the next run fetches them');
    expect(text).toContain('this run: 8 requested: 6 ok, 2 failed, 0 skipped (success rate 75.0%)');
    expect(text).toContain('errors: http_404 1, timeout 1');
    expect(text).toContain('2 already downloaded (sha256 checked)');
    expect(text).toContain('3.0 MB in 2s (3.0 img/s, 1.5 MB/s)');
    expect(text).toContain('raw/ now holds 8 of 10 images (80.0%)');
  });
});
