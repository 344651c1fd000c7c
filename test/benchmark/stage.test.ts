import { promises as fs } from 'node:fs';
import path from 'node:path';
import { formatBenchmarkRun, formatEmbedOnly } from '../../src/cli/summaries/benchmark.js';
import { benchmarkStage, summarizeBenchmark, type BenchmarkInput, type BenchmarkOutcomeCode } from '../../src/benchmark/index.js';
import type { EcafRecord } from '../../src/dataset/record.js';
import { inShard, parseShard } from '../../src/distribute/shard.js';
import type { PairList } from '../../src/pairs/pair-list.js';
import { emptyTally, runStage, type StageOutcome } from '../../src/stage.js';
import { FACE_API_DEMO_DIR } from '../../src/util/faceapi.js';
import { tempDir } from '../helpers/tmp.js';

const rec = (id: string, age: number, identity: string): EcafRecord => ({ index: 0, id, imageUrl: `http://example.org/${id}.jpg`, identity, age });
const list = (file: string, pairs: [string, string][]): PairList => ({
  file,
  format: 'ecaf',
  folds: 1,
  pairs: pairs.map(([a, b], k) => ({ a, b, same: k % 2 === 0, fold: 0, line: k + 1 })),
});

/** Two pair files (one naming an image in a subfolder), a .bin set of two images, and data.json's records. */
function input(): BenchmarkInput {
  const records = new Map([rec('P0_c', 5, 'P0'), rec('P0_a', 30, 'P0'), rec('P1_a', 40, 'P1')].map((r) => [r.id, r]));
  const bin: PairList = { file: '/sets/agedb.bin', format: 'insightface-bin', folds: 1, pairs: [{ a: 'agedb#0', b: 'agedb#1', same: true, fold: 0, line: 1 }] };
  return {
    pairs: [
      { list: list('/r/image_pairs/a.txt', [['P0_c.jpg', 'P0_a.jpg'], ['P0_c.jpg', 'sub/x.jpeg']]), sidecar: undefined },
      { list: list('/r/image_pairs/b.txt', [['P0_a.jpg', 'P0_c.jpg']]), sidecar: { protocol: 'cross-age' } },
    ],
    binSets: [{ list: bin, images: [{ name: 'agedb#0', bytes: Buffer.from('zero') }, { name: 'agedb#1', bytes: Buffer.from('one') }] }],
    records,
  };
}

describe('benchmark as a stage: plan (pure)', () => {
  it('one task per image to embed, each once, pair files first, then .bin images, then leave-one-out; ids are record ids', () => {
    const plain = benchmarkStage({ root: '/r', model: 'builtin' });
    const tasks = [...(plain.plan(input()) as Iterable<{ id: string; image: { name: string; file: string; bytes?: Buffer } }>)];
    expect(tasks.map((t) => [t.id, t.image.name, t.image.file])).toEqual([
      ['P0_c', 'P0_c.jpg', '/r/image_data/img_mtcnn/P0_c.jpg'],
      ['P0_a', 'P0_a.jpg', '/r/image_data/img_mtcnn/P0_a.jpg'],
      // a shard is chosen by the id, the base name without its extension (docs/cluster.md)
      ['x', 'sub/x.jpeg', '/r/image_data/img_mtcnn/sub/x.jpeg'],
      ['agedb#0', 'agedb#0', '/sets/agedb.bin'],
      ['agedb#1', 'agedb#1', '/sets/agedb.bin'],
    ]);
    expect(tasks[4]!.image.bytes!.toString()).toBe('one');

    const loo = benchmarkStage({ root: '/r', model: 'builtin', identification: 'loo', images: 'ffhq' });
    const withLoo = [...(loo.plan(input()) as Iterable<{ id: string; image: { name: string; file: string } }>)];
    expect(withLoo.map((t) => t.image.file)).toEqual([
      '/r/image_data/img_ffhq/P0_c.png',
      '/r/image_data/img_ffhq/P0_a.png',
      '/r/image_data/img_ffhq/sub/x.png',
      '/sets/agedb.bin',
      '/sets/agedb.bin',
      // leave-one-out adds the records' images the pair files did not name
      '/r/image_data/img_ffhq/P1_a.png',
    ]);
    // the same input plans the same tasks
    expect([...(loo.plan(input()) as Iterable<unknown>)]).toEqual(withLoo);
  });

  it('refuses bad options when the stage is made, before anything is read', () => {
    expect(() => benchmarkStage({ root: '/r', model: 'builtin', batch: 0 })).toThrow(/option "batch"/);
  });
});

describe('benchmark as a stage: summarize (pure)', () => {
  const tally = (counts: Record<BenchmarkOutcomeCode, number>) => ({ ...emptyTally<BenchmarkOutcomeCode>(['embedded', 'cached', 'missing', 'dropped']), counts });
  const written = { results: [], cacheDir: '/r/.ecaf-cache/m', stopped: false };

  it('counts the images by outcome; interrupted only when the signal stopped work that was left', () => {
    const done = summarizeBenchmark(tally({ embedded: 3, cached: 2, missing: 1, dropped: 0 }), written, false, 1.5);
    expect(done).toEqual({ stage: 'benchmark', interrupted: false, outcomes: { embedded: 3, cached: 2, missing: 1, dropped: 0 }, seconds: 1.5, images: 6, results: [], cacheDir: '/r/.ecaf-cache/m' });
    expect(formatEmbedOnly(done)).toBe('embed-only: 6 images: 3 embedded now, 2 already cached, 1 missing on disk (1.5 s); cache /r/.ecaf-cache/m');
    // a signal that came once everything was written
    expect(summarizeBenchmark(tally({ embedded: 3, cached: 0, missing: 0, dropped: 0 }), written, true, 1).interrupted).toBe(false);

    const stopped = summarizeBenchmark(tally({ embedded: 4, cached: 0, missing: 0, dropped: 6 }), { ...written, stopped: true }, true, 2);
    expect(stopped).toMatchObject({ interrupted: true, images: 10 });
    expect(formatEmbedOnly(stopped)).toBe('embed-only interrupted: 10 images: 4 embedded now, 0 already cached, 0 missing on disk (2.0 s); cache /r/.ecaf-cache/m; rerun to go on');
    expect(formatBenchmarkRun(stopped)).toBe('benchmark interrupted after 4 of 10 images; their embeddings are cached, rerun to go on (no report written)\n');
  });
});

describe('benchmark as a stage: run (builtin model)', () => {
  it('an embed-only shard tells the sink what became of each of its images; a scoring run of all of them finds them cached; an interrupt in leave-one-out or in the embedding is a result', async () => {
    const { dir, cleanup } = await tempDir('ecaf-bench-stage-');
    try {
      const mtcnn = path.join(dir, 'image_data', 'img_mtcnn');
      await fs.mkdir(mtcnn, { recursive: true });
      for (let i = 1; i <= 6; i++) await fs.symlink(path.join(FACE_API_DEMO_DIR, `sample${i}.jpg`), path.join(mtcnn, `f${i}.jpg`));
      const pairs = list(path.join(dir, 'p.txt'), [['f1.jpg', 'f2.jpg'], ['f3.jpg', 'f4.jpg'], ['f5.jpg', 'f6.jpg'], ['f1.jpg', 'gone.jpg']]);
      // the report records the list's sha256
      await fs.writeFile(pairs.file, pairs.pairs.map((p) => `${p.a} ${p.b} ${p.same ? 1 : -1}`).join('\n') + '\n');
      const inp: BenchmarkInput = { pairs: [{ list: pairs, sidecar: undefined }], binSets: [], records: new Map() };
      const options = { root: dir, model: 'builtin', progress: false, age: false, log: () => undefined };

      const seen: StageOutcome<BenchmarkOutcomeCode>[] = [];
      const shard = parseShard('0/2');
      const part = await runStage(benchmarkStage(options, { shard }), inp, { select: (t) => inShard(t.id, shard), sink: (o) => seen.push(o) });
      const mine = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'gone'].filter((id) => inShard(id, shard));
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.length).toBeLessThan(7);
      expect(seen.map((o) => o.id).sort()).toEqual(mine);
      for (const o of seen) expect(o.code).toBe(o.id === 'gone' ? 'missing' : 'embedded');
      expect(part).toMatchObject({ stage: 'benchmark', interrupted: false, images: mine.length, results: [] });
      expect((await fs.readdir(part.cacheDir)).filter((n) => n.startsWith('shard-0-of-2.')).length).toBeGreaterThan(0);

      // a scoring run given a share of the images would score the rest as missing
      await expect(runStage(benchmarkStage(options), inp, { select: (t) => inShard(t.id, shard) })).rejects.toThrow(/a scoring benchmark run is given every planned image \(7\)/);

      const all = await runStage(benchmarkStage(options), inp);
      expect(all.outcomes).toEqual({ embedded: 6 - mine.filter((id) => id !== 'gone').length, cached: mine.filter((id) => id !== 'gone').length, missing: 1, dropped: 0 });
      expect(all.results).toHaveLength(1);
      expect(all.results[0]!.report.pairs).toMatchObject({ total: 4, scored: 3 });

      // stopped once every image is settled: the pair file is scored, leave-one-out is not, and that is a result
      const people = new Map([1, 2, 3, 4, 5, 6].map((i) => [`f${i}`, rec(`f${i}`, 20 + i, i <= 3 ? 'A' : 'B')]));
      const late = new AbortController();
      let settled = 0;
      const loo = await runStage(benchmarkStage({ ...options, identification: 'loo' }), { ...inp, records: people }, { signal: late.signal, sink: () => void (++settled === 7 && late.abort()) });
      expect(loo).toMatchObject({ interrupted: true, outcomes: { cached: 6, missing: 1, dropped: 0 } });
      expect(loo.results).toHaveLength(1);
      expect(loo.leaveOneOut).toBeUndefined();
      expect(formatBenchmarkRun(loo)).toMatch(/\nbenchmark interrupted while scoring; the embeddings are cached, rerun to go on \(no further report written\)\n$/);
      await expect(fs.access(path.join(dir, 'reports', 'builtin', 'leave-one-out'))).rejects.toThrow();

      const stop = new AbortController();
      stop.abort();
      const stopped = await runStage(benchmarkStage({ ...options, flip: false, batch: 2 }), inp, { signal: stop.signal });
      // one batch is in flight when the signal is seen; the rest are dropped and nothing is scored
      expect(stopped).toMatchObject({ interrupted: true, results: [] });
      expect(stopped.outcomes.dropped).toBeGreaterThan(0);
    } finally {
      await cleanup();
    }
  }, 60_000);
});
