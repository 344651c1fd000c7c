/**
 * The benchmark's image server, run as its own process so it does not share the crawler's
 * event loop: serves every file of a folder from memory at /img/<name>, keep-alive.
 * Usage: node dist-bench/crawl-server.js DIR  (prints "port N" once listening)
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: crawl-server DIR\n');
  process.exit(2);
}
const files = new Map<string, Buffer>();
for (const name of readdirSync(dir)) files.set(`/img/${name}`, readFileSync(path.join(dir, name)));

const server = http.createServer((req, res) => {
  const body = files.get(req.url ?? '');
  if (!body) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
