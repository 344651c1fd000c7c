import { createHash } from 'node:crypto';
import path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { UsageError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { EmbeddingCache, imageKey, type ComputedSpeed } from './embedding-cache.js';
import type { Embedder, Preprocessing } from './embedder.js';
import { combineEstimates, ESTIMATE_COLUMNS, packEstimate } from './estimates.js';
import { combineViews } from './flip.js';
import { loadFace, tensorLength, writeTensor } from './preprocess.js';

/** An image to embed: its name as pair files and reports give it, and its file. */
export interface ImageToEmbed {
  name: string;
  file: string;
  /** The encoded image itself, for sets held in one file (insightface .bin): `file` then names that file. */
  bytes?: Buffer;
}

export interface EmbedOptions {
  /** Flip test-time augmentation. */
  flip: boolean;
  /** Images per model call (each with its mirror image when flip is on); default 32. */
  batch?: number;
  /** Progress lines on stderr (default true). */
  progress?: boolean;
  signal?: AbortSignal;
  /** The root's embedding cache folder; cache keys are image paths relative to its parent (the root). */
  cacheRoot: string;
  /** Names this process's cache chunks (a shard's: `shard-K-of-N`), see EmbeddingCache.open. */
  cacheTag?: string;
  /** Also keep the model's age / gender estimates, when it has such heads (default true). */
  estimates?: boolean;
  /** Told what became of each image (by its position in the request) as soon as it is known. */
  onOutcome?: (at: number, outcome: ImageOutcome) => void;
}

/** What became of one image: `embedded` now, read from the cache (`cached`), its file `missing`, or `dropped` by an interrupt. */
export type ImageOutcome = 'embedded' | 'cached' | 'missing' | 'dropped';
export const IMAGE_OUTCOMES: readonly ImageOutcome[] = ['embedded', 'cached', 'missing', 'dropped'];

export interface EmbedStats {
  /** Images this run embedded; the rest came from the cache. */
  embedded: number;
  fromCache: number;
  /** Image files not found (the pairs naming them are skipped). */
  missing: number;
  /** Images left to embed when the signal stopped the run (the next run embeds them). */
  dropped: number;
  seconds: number;
  /** Of `seconds`, the time spent waiting for the model. */
  modelSeconds: number;
  /** When every embedding came from the cache: the speed of the run that computed them, if recorded. */
  computedBy?: ComputedSpeed;
}

/**
 * Per-image outputs, a struct of arrays aligned with `images` (the request): a further
 * per-image output sits beside `vectors` as one more array of the same length.
 */
export interface Embeddings {
  images: readonly ImageToEmbed[];
  /** Position of each image name in `images`. */
  index: ReadonlyMap<string, number>;
  dim: number;
  /** Unit embedding of each image; undefined where its file is missing (or, interrupted, not embedded). */
  vectors: (Float32Array | undefined)[];
  /** The model's estimates of each image (estimates.ts rows), when it estimates and they were asked for. */
  estimates?: (Float32Array | undefined)[];
  stats: EmbedStats;
  /** The cache folder of this model setting (absent for embeddings made without a cache). */
  cacheDir?: string;
  /** Stopped by the signal before every image was embedded: what was done is cached. */
  interrupted: boolean;
}

const DEFAULT_BATCH = 32;
/** Cached embeddings are written in chunks of at least this many images. */
const CACHE_FLUSH_IMAGES = 512;
/** Images decoded at once (sharp works on libuv's thread pool). */
const DECODE_CONCURRENCY = 4;
/** fs.stat calls in flight at once while keying the images. */
const STAT_CONCURRENCY = 64;

/** The unit embedding of image `name`, if it was found. */
export function embeddingOf(e: Embeddings, name: string): Float32Array | undefined {
  const i = e.index.get(name);
  return i === undefined ? undefined : e.vectors[i];
}

/**
 * Unit embeddings of `images`: cached ones read back, the rest decoded and preprocessed once,
 * run in batches (the next batch decodes while the model runs), combined with their mirror
 * images, and cached as they finish; `onOutcome` hears of each image as it is settled. Stopped
 * by `signal`, it says `interrupted` (what is done stays cached, the rest is `dropped`);
 * UsageError for an image that does not decode.
 */
export async function embedImages(embedder: Embedder, images: readonly ImageToEmbed[], o: EmbedOptions): Promise<Embeddings> {
  const cache = await EmbeddingCache.open(o.cacheRoot, {
    weightsKey: embedder.info.weightsKey,
    precision: embedder.info.precision,
    preprocessing: embedder.preprocessing,
    flip: o.flip,
    flipRule: embedder.info.flipRule,
    dim: embedder.dim,
  }, o.cacheTag);
  const heads = o.estimates === false || !embedder.embedAndEstimate ? undefined : embedder.estimates;
  // the estimates are cached apart, under the weights behind them, one row per image
  const estimateCache = heads
    ? await EmbeddingCache.open(o.cacheRoot, { weightsKey: `${heads.weightsKey}#estimates`, precision: embedder.info.precision, preprocessing: embedder.preprocessing, flip: o.flip, flipRule: embedder.info.flipRule, dim: ESTIMATE_COLUMNS }, o.cacheTag)
    : undefined;
  // keyed by the path under the root, so MTCNN and FFHQ crops of one id never share an entry
  const keys = await imageKeys(images, path.dirname(o.cacheRoot));
  const vectors = new Array<Float32Array | undefined>(images.length).fill(undefined);
  const estimates = estimateCache ? new Array<Float32Array | undefined>(images.length).fill(undefined) : undefined;
  const todo: Todo[] = [];
  let fromCache = 0;
  let missing = 0;
  const told = o.onOutcome;
  keys.forEach((key, at) => {
    if (key === undefined) {
      missing++; // the pairs using it are skipped and counted
      return told?.(at, 'missing');
    }
    const hit = cache.get(key);
    const estimate = estimateCache?.get(key);
    if (hit) vectors[at] = hit;
    if (estimates && estimate) estimates[at] = estimate;
    if (hit && (!estimates || estimate)) {
      fromCache++;
      told?.(at, 'cached');
    } else todo.push({ at, key });
  });
  const start = performance.now();
  const run = await runBatches(embedder, images, todo, { vectors, estimates }, { cache, estimateCache }, o);
  if (told) for (let k = run.done; k < todo.length; k++) told(todo[k]!.at, 'dropped');
  return {
    images,
    index: new Map(images.map((im, i) => [im.name, i])),
    dim: embedder.dim,
    vectors,
    ...(estimates ? { estimates } : {}),
    stats: { ...(await speedStats(cache, run.done, fromCache, (performance.now() - start) / 1000, run.modelSeconds)), missing, dropped: todo.length - run.done },
    cacheDir: cache.dir,
    interrupted: run.done < todo.length,
  };
}

/** This run's speed; recorded in the cache when it computed images, read back from it when it computed none. */
async function speedStats(cache: EmbeddingCache, embedded: number, fromCache: number, seconds: number, modelSeconds: number): Promise<Omit<EmbedStats, 'missing' | 'dropped'>> {
  if (embedded > 0) {
    await cache.recordSpeed({ embedded, seconds, modelSeconds, imagesPerSecond: embedded / seconds, date: new Date().toISOString() });
    return { embedded, fromCache, seconds, modelSeconds };
  }
  const computedBy = fromCache > 0 ? await cache.computedBy() : undefined;
  return { embedded, fromCache, seconds, modelSeconds, ...(computedBy ? { computedBy } : {}) };
}

/** An image to compute: its position in the request and its cache key. */
interface Todo {
  at: number;
  key: string;
}

/** Cache key of each image (undefined: no such file), with a bounded number of stat calls in flight. */
function imageKeys(images: readonly ImageToEmbed[], root: string): Promise<(string | undefined)[]> {
  const limit = pLimit(STAT_CONCURRENCY);
  // an image inside a set file (.bin) is keyed by its content: the same bytes embed the same
  return Promise.all(images.map((im) => (im.bytes ? Promise.resolve(`sha1:${createHash('sha1').update(im.bytes).digest('hex')}`) : limit(() => imageKey(im.file, path.relative(root, im.file))))));
}

/**
 * Embed `todo` batch by batch into `vectors`, decoding the next batch while the model runs,
 * until done or `o.signal` aborts; resolves to how many were done.
 */
async function runBatches(
  embedder: Embedder,
  images: readonly ImageToEmbed[],
  todo: readonly Todo[],
  out: { vectors: (Float32Array | undefined)[]; estimates?: (Float32Array | undefined)[] },
  caches: { cache: EmbeddingCache; estimateCache?: EmbeddingCache },
  o: EmbedOptions,
): Promise<{ done: number; modelSeconds: number }> {
  const batch = o.batch ?? DEFAULT_BATCH;
  const views = o.flip ? 2 : 1;
  const limit = pLimit(DECODE_CONCURRENCY);
  const decode = (items: readonly Todo[]) => decodeBatch(items.map((t) => images[t.at]!), embedder.preprocessing, views, limit);
  const { vectors, estimates } = out;
  const pending = new PendingRows(caches.cache, embedder.dim);
  const pendingEstimates = caches.estimateCache ? new PendingRows(caches.estimateCache, ESTIMATE_COLUMNS) : undefined;
  const progress = o.progress === false || todo.length === 0 ? undefined : new Progress({ label: `embed ${embedder.info.model}`, total: todo.length, unit: 'img' });
  let done = 0;
  let modelMs = 0;
  try {
    let next = todo.length ? decodeAhead(decode(todo.slice(0, batch))) : undefined;
    for (let i = 0; next; i += batch) {
      const input = await next;
      const items = todo.slice(i, i + batch);
      const j = i + batch;
      next = j < todo.length && !o.signal?.aborted ? decodeAhead(decode(todo.slice(j, j + batch))) : undefined;
      const t0 = performance.now();
      const got = estimates ? await embedder.embedAndEstimate!(input, views * items.length, items.length) : { embeddings: await embedder.embed(input, views * items.length) };
      modelMs += performance.now() - t0;
      const unit = combineViews(got.embeddings, items.length, embedder.dim, o.flip, embedder.info.flipRule);
      const est = 'estimates' in got ? combineEstimates(got.estimates, items.length, o.flip) : undefined;
      items.forEach((it, k) => {
        const v = unit.subarray(k * embedder.dim, (k + 1) * embedder.dim);
        // an image whose embedding was cached came back for its estimates only
        if (!vectors[it.at]) pending.push(it.key, v);
        vectors[it.at] = v;
        if (est && estimates) {
          estimates[it.at] = packEstimate(est, k);
          pendingEstimates!.push(it.key, estimates[it.at]!);
        }
        o.onOutcome?.(it.at, 'embedded');
      });
      done += items.length;
      progress?.tick(items.length);
      if (pending.size >= CACHE_FLUSH_IMAGES) await pending.flush();
      if (pendingEstimates && pendingEstimates.size >= CACHE_FLUSH_IMAGES) await pendingEstimates.flush();
    }
  } finally {
    progress?.finish();
    await pending.flush();
    await pendingEstimates?.flush();
  }
  return { done, modelSeconds: modelMs / 1000 };
}

/** A batch decoding ahead: its failure is handled when it is awaited. */
function decodeAhead(p: Promise<Float32Array>): Promise<Float32Array> {
  p.catch(() => undefined);
  return p;
}

/** The model input of `images`: each image, then (flip) each mirror image, decoded `limit` at a time. */
async function decodeBatch(images: readonly ImageToEmbed[], pre: Preprocessing, views: number, limit: LimitFunction): Promise<Float32Array> {
  const n = images.length;
  const per = tensorLength(pre);
  const input = new Float32Array(views * n * per);
  await Promise.all(
    images.map((im, k) =>
      limit(async () => {
        let img;
        try {
          img = await loadFace(im.bytes ?? im.file, pre.size);
        } catch (err) {
          if (im.bytes) throw new UsageError(`${im.file}: image ${im.name} cannot be decoded (${(err as Error).message})`);
          throw new UsageError(`${im.file}: cannot decode this aligned image (${(err as Error).message}); re-align it or remove it`);
        }
        writeTensor(img, pre, input, k * per, false);
        if (views === 2) writeTensor(img, pre, input, (n + k) * per, true);
      }),
    ),
  );
  return input;
}

/** Embeddings waiting to be written to the cache as one chunk. */
class PendingRows {
  private keys: string[] = [];
  private rows: Float32Array[] = [];
  constructor(
    private readonly cache: EmbeddingCache,
    private readonly dim: number,
  ) {}

  get size(): number {
    return this.keys.length;
  }

  push(key: string, row: Float32Array): void {
    this.keys.push(key);
    this.rows.push(row);
  }

  async flush(): Promise<void> {
    const data = new Float32Array(this.rows.length * this.dim);
    this.rows.forEach((r, i) => data.set(r, i * this.dim));
    await this.cache.add(this.keys, data);
    this.keys = [];
    this.rows = [];
  }
}
