import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the demo server answers for one path. */
export interface DemoRoute {
  status: number;
  type: string;
  body: Buffer;
  headers?: Record<string, string>;
}

export interface DemoServer {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  port: number;
  /** Requests answered so far (a resumed crawl asks for nothing it already has). */
  requests(): number;
  close(): Promise<void>;
}

/**
 * The demo's stand-in for the web: an HTTP server on 127.0.0.1 only, answering the routes it
 * is given and 404 for anything else. `port` is tried first (a rerun keeps data.json's URLs),
 * then any free port.
 */
export async function startDemoServer(routes: ReadonlyMap<string, DemoRoute>, port = 0): Promise<DemoServer> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const route = req.method === 'GET' || req.method === 'HEAD' ? routes.get(new URL(req.url ?? '/', 'http://x').pathname) : undefined;
    if (!route) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(route.status, { 'Content-Type': route.type, 'Content-Length': route.body.length, ...route.headers });
    res.end(req.method === 'HEAD' ? undefined : route.body);
  });
  let bound: number;
  try {
    bound = await listen(server, port);
  } catch (err) {
    if (port === 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    bound = await listen(server, 0);
  }
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
