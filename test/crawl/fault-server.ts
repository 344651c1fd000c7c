import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { crc32 } from 'node:zlib';

/** A route answers one request; `hit` counts the requests this path has had, from 1. */
export type Route = (req: http.IncomingMessage, res: http.ServerResponse, hit: number) => unknown; // handlers often end with `res.end()`, whose value is ignored

/**
 * A real HTTP server on 127.0.0.1 whose routes misbehave on purpose (stalls, resets, short
 * bodies, redirect loops...), counting hits and the concurrency it sees.
 */
export class FaultServer {
  private readonly routes = new Map<string, Route>();
  private readonly hitCounts = new Map<string, number>();
  readonly userAgents = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;

  private constructor(
    private readonly server: http.Server,
    readonly base: string,
  ) {}

  static async start(): Promise<FaultServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fs = new FaultServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => fs.handle(req, res));
    return fs;
  }

  route(path: string, handler: Route): string {
    this.routes.set(path, handler);
    return this.url(path);
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  hits(path: string): number {
    return this.hitCounts.get(path) ?? 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const hit = (this.hitCounts.get(path) ?? 0) + 1;
    this.hitCounts.set(path, hit);
    this.userAgents.add(String(req.headers['user-agent']));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    const route = this.routes.get(path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    await route(req, res, hit);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Serve `body` whole, with its Content-Length. */
export const serve =
  (body: Buffer, type = 'image/jpeg', headers: Record<string, string> = {}): Route =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, ...headers }).end(body);
  };

/** A distinct small image per seed (noise, so JPEG sizes are realistic). */
export async function makeImage(seed: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg', width = 64, height = 48): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < px.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    px[i] = x >>> 24;
  }
  return sharp(px, { raw: { width, height, channels: 3 } }).toFormat(format).toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A well-formed PNG whose header claims `width` x `height` pixels (its data is a few bytes). */
export function claimedPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
