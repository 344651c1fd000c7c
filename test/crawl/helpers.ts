import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readJsonl } from '../../src/util/jsonl.js';
import type { CrawlLine } from '../../src/crawl/record.js';

/** Write <root>/image_data/data.json from [id, url] pairs. */
export async function writeData(root: string, records: [string, string][]): Promise<void> {
  await fs.mkdir(path.join(root, 'image_data'), { recursive: true });
  await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(records.map(([id, url]) => ({ id, image_url: url }))));
}

/** Every line of crawl.jsonl. */
export async function crawlLines(root: string): Promise<CrawlLine[]> {
  const lines: CrawlLine[] = [];
  for await (const l of readJsonl<CrawlLine>(path.join(root, 'image_data', 'crawl.jsonl'))) lines.push(l);
  return lines;
}

/** The last line of each id. */
export async function lastStates(root: string): Promise<Map<string, CrawlLine>> {
  return new Map((await crawlLines(root)).map((l) => [l.id, l]));
}

export async function rawNames(root: string): Promise<string[]> {
  try {
    return (await fs.readdir(path.join(root, 'image_data', 'raw'))).sort();
  } catch {
    return [];
  }
}
