import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { align, chooseFfhqSize, FFHQ_RELEASE_SIZE, ffhqSizesFound, type LandmarksLine } from '../../src/align/index.js';
import { formatAlignSummary } from '../../src/cli/summaries/align.js';
import { tempDir } from '../helpers/tmp.js';
import { makeRoot } from './helpers.js';

const T = '2026-01-01T00:00:00.000Z';
const ok = (id: string, ffhq_size: number): LandmarksLine => ({ id, status: 'ok', source: 'detector', detector: 'mtcnn', points5: [[1, 1], [2, 1], [1.5, 1.5], [1, 2], [2, 2]], ffhq_size, mtcnn_size: 112, time: T });

describe('img_ffhq size: the release default, and a root keeps the size it holds', () => {
  it('chooses the size asked for, else the root majority, else 512', () => {
    expect(FFHQ_RELEASE_SIZE).toBe(512);
    expect(chooseFfhqSize(undefined, {})).toEqual({ size: 512, from: 'default', found: {} });
    expect(chooseFfhqSize(undefined, { 1024: 3 })).toEqual({ size: 1024, from: 'root', found: { 1024: 3 } });
    expect(chooseFfhqSize(undefined, { 1024: 3, 512: 5 }).size).toBe(512);
    expect(chooseFfhqSize(undefined, { 1024: 2, 512: 2 }).size).toBe(1024);
    expect(chooseFfhqSize(256, { 1024: 3 })).toEqual({ size: 256, from: 'option', found: { 1024: 3 } });
    const lines: LandmarksLine[] = [ok('a', 1024), ok('b', 1024), { id: 'c', status: 'no_face', source: 'detector', time: T }, ok('d', 512)];
    expect(ffhqSizesFound(lines)).toEqual({ 1024: 2, 512: 1 });
  });

  it('a rerun without a size on a root aligned at 1024 keeps its files and says so; --ffhq-size 512 redoes them', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await makeRoot(dir, [{ id: 'a', bytes: Buffer.from('x'), crawlStatus: 'ok' }, { id: 'b', bytes: Buffer.from('x'), crawlStatus: 'ok' }]);
      const data = path.join(dir, 'image_data');
      await mkdir(path.join(data, 'img_ffhq'), { recursive: true });
      await mkdir(path.join(data, 'img_mtcnn'), { recursive: true });
      for (const id of ['a', 'b']) {
        await writeFile(path.join(data, 'img_ffhq', `${id}.png`), 'png');
        await writeFile(path.join(data, 'img_mtcnn', `${id}.jpg`), 'jpg');
      }
      await writeFile(path.join(data, 'landmarks.jsonl'), `${JSON.stringify(ok('a', 1024))}\n${JSON.stringify(ok('b', 1024))}\n`);
      const kept = await align({ root: dir, workers: 1, progress: false });
      expect([kept.alreadyDone, kept.processed, kept.ffhq]).toEqual([2, 0, { size: 1024, from: 'root', found: { 1024: 2 } }]);
      expect(formatAlignSummary(kept)).toContain('img_ffhq: kept at 1024x1024, the size of 2 aligned faces this root holds (--ffhq-size 512');
      // asked for explicitly, the size wins and the summary names what it redoes (the photos here are not images)
      const redo = await align({ root: dir, workers: 1, progress: false, ffhqSize: 512 });
      expect([redo.alreadyDone, redo.processed]).toEqual([0, 2]);
      expect(formatAlignSummary(redo)).toContain('img_ffhq: at 512x512 (--ffhq-size 512); its 2 at 1024x1024 (2) are redone at 512x512');
    } finally {
      await cleanup();
    }
  });
});
