import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crawl, type CrawlOptions } from '../../src/crawl/index.js';
import { createDispatcher, fetchOnce } from '../../src/crawl/fetch.js';
import { USER_AGENT } from '../../src/version.js';
import { tempDir } from '../helpers/tmp.js';
import { claimedPng, FaultServer, makeImage, serve } from './fault-server.js';
import { lastStates, rawNames, writeData } from './helpers.js';

let server: FaultServer;
let jpeg: Buffer;
let png: Buffer;
let webp: Buffer;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  server = await FaultServer.start();
  [jpeg, png, webp] = await Promise.all([makeImage(1, 'jpeg'), makeImage(2, 'png'), makeImage(3, 'webp')]);
});
afterAll(() => server.close());
beforeEach(async () => ({ dir, cleanup } = await tempDir('ecaf-crawl-')));
afterEach(() => cleanup());

const fast: Partial<CrawlOptions> = { allowPrivate: true, retries: 2, backoffMs: 20, timeoutS: 1.5, progress: false };
const half = (b: Buffer) => b.subarray(0, b.length >> 1);

/** Crawl one URL and return its crawl.jsonl state. */
async function crawlOne(url: string, opts: Partial<CrawlOptions> = {}) {
  await writeData(dir, [['x_1', url]]);
  const summary = await crawl({ root: dir, ...fast, ...opts });
  return { state: (await lastStates(dir)).get('x_1')!, summary, raw: await rawNames(dir) };
}

describe('crawl: each fault ends in the right crawl.jsonl state', () => {
  it('stores a plain JPEG with its format, size and sha256, sending the User-Agent', async () => {
    const { state, raw } = await crawlOne(server.route('/ok.jpg', serve(jpeg)));
    expect(state).toMatchObject({ status: 'ok', http_status: 200, format: 'jpg', width: 64, height: 48, bytes: jpeg.length, attempts: 1 });
    expect(state.sha256).toBe(createHash('sha256').update(jpeg).digest('hex'));
    expect(raw).toEqual(['x_1.jpg']);
    expect(await fs.readFile(path.join(dir, 'image_data/raw/x_1.jpg'))).toEqual(jpeg);
    expect(server.userAgents).toContain(USER_AGENT);
  });

  it('times out slow headers (retried, then failed)', async () => {
    const url = server.route('/slow-headers', (_q, res) => void setTimeout(() => res.writeHead(200).end(jpeg), 4000));
    const { state, raw } = await crawlOne(url, { retries: 1, timeoutS: 0.5 });
    expect(state).toMatchObject({ status: 'failed', error: 'timeout', attempts: 2 });
    expect(raw).toEqual([]);
  });

  it('times out a body that stalls halfway instead of hanging', async () => {
    const url = server.route('/stall', (_q, res) => {
      res.writeHead(200, { 'content-length': jpeg.length });
      res.write(half(jpeg)); // and never the rest
    });
    const t = Date.now();
    const { state } = await crawlOne(url, { retries: 0, timeoutS: 1 });
    expect(state).toMatchObject({ status: 'failed', error: 'timeout', http_status: 200, attempts: 1 });
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('retries a 500 and stores the image of the next 200', async () => {
    const url = server.route('/flaky', (_q, res, hit) => (hit === 1 ? res.writeHead(500).end('oops') : serve(jpeg)(_q, res, hit)));
    const { state } = await crawlOne(url);
    expect(state).toMatchObject({ status: 'ok', attempts: 2, format: 'jpg' });
  });

  it('waits for Retry-After on a 429', async () => {
    const url = server.route('/throttle', (_q, res, hit) => (hit === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : serve(png, 'image/png')(_q, res, hit)));
    const t = Date.now();
    const { state } = await crawlOne(url);
    expect(Date.now() - t).toBeGreaterThanOrEqual(1000);
    expect(state).toMatchObject({ status: 'ok', attempts: 2, format: 'png' });
  });

  it('does not retry a 404', async () => {
    const { state } = await crawlOne(server.url('/missing'));
    expect(state).toMatchObject({ status: 'failed', error: 'http_404', http_status: 404, attempts: 1 });
  });

  it('records a connection reset mid-body as reset', async () => {
    const url = server.route('/reset', (_q, res) => {
      res.writeHead(200, { 'content-length': jpeg.length });
      res.write(half(jpeg), () => setTimeout(() => res.socket?.resetAndDestroy(), 20));
    });
    const { state, raw } = await crawlOne(url, { retries: 1 });
    expect(state).toMatchObject({ status: 'failed', error: 'reset', attempts: 2 });
    expect(server.hits('/reset')).toBe(2);
    expect(raw).toEqual([]);
  });

  it('records a Content-Length longer than the body as truncated', async () => {
    const url = server.route('/short', (_q, res) => {
      res.writeHead(200, { 'content-length': jpeg.length });
      res.write(half(jpeg), () => res.socket?.end());
    });
    const { state, raw } = await crawlOne(url, { retries: 0 });
    expect(state).toMatchObject({ status: 'failed', error: 'truncated', attempts: 1 });
    expect(raw).toEqual([]);
  });

  it('records an image cut short without a Content-Length as truncated', async () => {
    const url = server.route('/cut', (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' }); // chunked: the server ends early but cleanly
      res.end(half(jpeg));
    });
    const { state } = await crawlOne(url);
    expect(state).toMatchObject({ status: 'failed', error: 'truncated', attempts: 1 });
  });

  it('follows a redirect chain and records the final URL', async () => {
    for (let i = 1; i <= 3; i++) server.route(`/r${i}`, (_q, res) => res.writeHead(302, { location: `/r${i + 1}` }).end());
    server.route('/r4', serve(jpeg));
    const { state } = await crawlOne(server.url('/r1'));
    expect(state).toMatchObject({ status: 'ok', http_status: 200, final_url: server.url('/r4') });
  });

  it('detects a redirect loop and a chain over 5 redirects', async () => {
    server.route('/loop-a', (_q, res) => res.writeHead(301, { location: '/loop-b' }).end());
    server.route('/loop-b', (_q, res) => res.writeHead(307, { location: server.url('/loop-a') }).end());
    expect((await crawlOne(server.url('/loop-a'))).state).toMatchObject({ status: 'failed', error: 'redirect_loop', attempts: 1 });
    for (let i = 1; i <= 7; i++) server.route(`/chain${i}`, (_q, res) => res.writeHead(302, { location: `/chain${i + 1}` }).end());
    expect((await crawlOne(server.url('/chain1'))).state).toMatchObject({ status: 'failed', error: 'too_many_redirects' });
    expect(server.hits('/chain7')).toBe(0);
  });

  it('refuses a redirect to a non-http scheme as bad_url', async () => {
    const url = server.route('/to-ftp', (_q, res) => res.writeHead(302, { location: 'ftp://example.org/a.jpg' }).end());
    expect((await crawlOne(url)).state).toMatchObject({ status: 'failed', error: 'bad_url' });
  });

  it('records an HTML page served with 200 as not_image and stores nothing', async () => {
    const url = server.route('/page.jpg', serve(Buffer.from('<!doctype html><html><body>gone</body></html>'), 'text/html'));
    const { state, raw } = await crawlOne(url);
    expect(state).toMatchObject({ status: 'failed', error: 'not_image', http_status: 200 });
    expect(raw).toEqual([]);
  });

  it('records an empty body as not_image', async () => {
    expect((await crawlOne(server.route('/empty', serve(Buffer.alloc(0))))).state).toMatchObject({ status: 'failed', error: 'not_image' });
  });

  it('aborts a body over --max-bytes, declared or not', async () => {
    const big = Buffer.concat([jpeg, Buffer.alloc(200_000)]);
    const declared = server.route('/big-declared', serve(big));
    const streamed = server.route('/big-streamed', (_q, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(big);
    });
    expect((await crawlOne(declared, { maxBytes: 100_000 })).state).toMatchObject({ status: 'failed', error: 'too_large' });
    expect((await crawlOne(streamed, { maxBytes: 100_000 })).state).toMatchObject({ status: 'failed', error: 'too_large' });
  });

  it('stores a WebP served under a .jpg URL as .webp', async () => {
    const { state, raw } = await crawlOne(server.route('/really-webp.jpg', serve(webp, 'image/jpeg')));
    expect(state).toMatchObject({ status: 'ok', format: 'webp' });
    expect(raw).toEqual(['x_1.webp']);
  });

  it('refuses a PNG whose header claims 100000x100000 pixels as too_large', async () => {
    const { state, raw } = await crawlOne(server.route('/huge.png', serve(claimedPng(100000, 100000), 'image/png')));
    expect(state).toMatchObject({ status: 'failed', error: 'too_large' });
    expect(state.detail).toMatch(/100000x100000 is over 60 megapixels/);
    expect(raw).toEqual([]);
  });

  it('records bytes with image magic but a broken header as decode_error', async () => {
    const broken = Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(300, 0x11), Buffer.from([0xff, 0xd9])]);
    expect((await crawlOne(server.route('/broken.jpg', serve(broken)))).state).toMatchObject({ status: 'failed', error: 'decode_error' });
  });

  it('skips images whose X-Robots-Tag says noai, unless --ignore-robots-tag', async () => {
    const url = server.route('/noai.jpg', serve(jpeg, 'image/jpeg', { 'x-robots-tag': 'noindex, noimageai' }));
    expect((await crawlOne(url)).state).toMatchObject({ status: 'skipped', error: 'robots_disallowed' });
    // the rerun with the flag lifts the skip
    const { state, summary } = await crawlOne(url, { ignoreRobotsTag: true });
    expect(state).toMatchObject({ status: 'ok' });
    expect(summary.byStatus.ok).toBe(1);
  });

  it('refuses loopback hosts without --allow-private, by literal address and by name', async () => {
    const url = server.route('/private.jpg', serve(jpeg));
    expect((await crawlOne(url, { allowPrivate: false })).state).toMatchObject({ status: 'skipped', error: 'blocked_address' });
    await cleanup();
    ({ dir, cleanup } = await tempDir('ecaf-crawl-'));
    const byName = url.replace('127.0.0.1', 'localhost');
    expect((await crawlOne(byName, { allowPrivate: false })).state).toMatchObject({ status: 'skipped', error: 'blocked_address' });
    expect(server.hits('/private.jpg')).toBe(0);
  });

  it('checks every redirect hop: a redirect to a private address is refused before any request to it', async () => {
    // the first hop is reached by name through a pool without the DNS guard (a stand-in for a public
    // host: there is no other address here); the redirect targets are literal private addresses
    const dispatcher = createDispatcher({ perHost: 2, timeoutMs: 2000, allowPrivate: true });
    const opts = { dispatcher, timeoutMs: 2000, maxBytes: 1 << 20, allowPrivate: false, ignoreRobotsTag: false };
    server.route('/target.jpg', serve(jpeg));
    const toLoopback = server.route('/to-loopback', (_q, res) => res.writeHead(302, { location: server.url('/target.jpg') }).end());
    const toLan = server.route('/to-lan', (_q, res) => res.writeHead(301, { location: 'http://10.1.2.3/a.jpg' }).end());
    try {
      for (const [url, target] of [[toLoopback, server.url('/target.jpg')], [toLan, 'http://10.1.2.3/a.jpg']] as const) {
        const r = await fetchOnce(url.replace('127.0.0.1', 'localhost'), opts);
        expect(r).toMatchObject({ ok: false, error: 'blocked_address', finalUrl: target });
      }
      expect(server.hits('/to-loopback')).toBe(1);
      expect(server.hits('/target.jpg')).toBe(0);
    } finally {
      await dispatcher.close();
    }
  });

  it('crawls a data.json in the object form (keys are the ids)', async () => {
    const url = server.route('/object-form.jpg', serve(jpeg));
    await fs.mkdir(path.join(dir, 'image_data'), { recursive: true });
    await fs.writeFile(path.join(dir, 'image_data/data.json'), JSON.stringify({ Jane_Doe_adult_001: { url, age: 30 } }));
    const summary = await crawl({ root: dir, ...fast });
    expect(summary.byStatus.ok).toBe(1);
    expect(await rawNames(dir)).toEqual(['Jane_Doe_adult_001.jpg']);
  });

  it('keeps per-host concurrency under --per-host', async () => {
    const url = server.route('/slowish.jpg', (q, res, hit) => void setTimeout(() => serve(jpeg)(q, res, hit), 60));
    const records: [string, string][] = Array.from({ length: 24 }, (_, i) => [`p_${i}`, `${url}?${i}`]);
    await writeData(dir, records);
    server.maxInFlight = 0;
    const summary = await crawl({ root: dir, ...fast, concurrency: 16, perHost: 3 });
    expect(summary.byStatus.ok).toBe(24);
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);
  });
});
