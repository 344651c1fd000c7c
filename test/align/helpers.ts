import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface RawPhoto {
  id: string;
  /** Bytes stored in raw/ (none: the record has no raw file). */
  bytes?: Buffer;
  ext?: string;
  crawlStatus?: 'ok' | 'failed';
  record?: Record<string, unknown>;
}

/** A dataset root as crawl leaves it: data.json, raw/<id>.<ext> and crawl.jsonl lines. */
export async function makeRoot(root: string, photos: readonly RawPhoto[]): Promise<void> {
  const imageData = path.join(root, 'image_data');
  await mkdir(path.join(imageData, 'raw'), { recursive: true });
  const records = photos.map((p) => ({ id: p.id, image_url: `http://127.0.0.1/${p.id}.jpg`, ...p.record }));
  await writeFile(path.join(imageData, 'data.json'), JSON.stringify(records, null, 1));
  const crawl: string[] = [];
  for (const p of photos) {
    const ext = p.ext ?? 'jpg';
    if (p.bytes) await writeFile(path.join(imageData, 'raw', `${p.id}.${ext}`), p.bytes);
    if (p.crawlStatus) {
      crawl.push(JSON.stringify({ id: p.id, url: `http://127.0.0.1/${p.id}.jpg`, status: p.crawlStatus, ...(p.crawlStatus === 'ok' ? { format: ext } : { error: 'http_404' }), attempts: 1, time: new Date().toISOString() }));
    }
  }
  await writeFile(path.join(imageData, 'crawl.jsonl'), crawl.join('\n') + '\n');
}
