import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** bench:crawl's and bench:shard's test files live here (gitignored). */
export const CRAWL_BENCH_CACHE = path.join(ROOT, '.bench', 'crawl');

/** `count` distinct ~50 KB JPEGs (320x240 noise, quality 80), made once and cached under .bench/crawl. */
export async function crawlBenchImages(count: number): Promise<string> {
  const dir = path.join(CRAWL_BENCH_CACHE, `images-${count}`);
  if (existsSync(path.join(dir, `${count - 1}.jpg`))) return dir;
  await fs.mkdir(dir, { recursive: true });
  process.stderr.write(`making ${count} JPEGs in ${dir}\n`);
  const w = 320;
  const h = 240;
  for (let i = 0; i < count; i++) {
    const px = Buffer.alloc(w * h * 3);
    let x = (i + 1) * 2654435761;
    for (let p = 0; p < px.length; p++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      px[p] = x >>> 24;
    }
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 80 }).toFile(path.join(dir, `${i}.jpg`));
  }
  return dir;
}

/** bench/crawl-server.ts serving `dir` on 127.0.0.1, in its own process; resolves once it prints its port. */
export async function startCrawlServer(dir: string): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist-bench', 'crawl-server.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /port (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error('crawl-server exited')));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}
