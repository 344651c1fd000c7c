import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanTempFiles, writeFileAtomic } from '../util/atomic.js';
import type { FlipRule, Preprocessing } from './embedder.js';

/** What makes two embeddings of one image interchangeable: the weights, the input and the flip setting. */
export interface CacheSetting {
  weightsKey: string;
  precision: 'fp32' | 'fp16';
  preprocessing: Preprocessing;
  flip: boolean;
  flipRule: FlipRule;
  dim: number;
}

/** How fast the run that computed cached embeddings went, so a report of a cached rerun keeps it. */
export interface ComputedSpeed {
  embedded: number;
  seconds: number;
  modelSeconds: number;
  imagesPerSecond: number | null;
  date: string;
}

const SPEED_FILE = 'speed.json';

/** Identity of one image file: its name (path under the dataset root), size and modification time. */
export async function imageKey(file: string, name: string): Promise<string | undefined> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? `${name}\t${st.size}\t${Math.round(st.mtimeMs)}` : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Unit embeddings already computed, under `<cache>/embeddings/<setting hash>/`: one binary
 * chunk per written batch (uint32 header length, JSON header {dim, keys}, float32 rows), each
 * written atomically, so a killed run keeps every finished batch and a rerun or a second pair
 * file reads them back instead of recomputing.
 */
export class EmbeddingCache {
  private constructor(
    readonly dir: string,
    readonly dim: number,
    private readonly rows: Map<string, Float32Array>,
    private readonly tag: string,
  ) {}

  static settingHash(s: CacheSetting): string {
    return createHash('sha256').update(JSON.stringify([s.weightsKey, s.precision, s.preprocessing, s.flip, s.flipRule, s.dim])).digest('hex').slice(0, 20);
  }

  /**
   * `tag` (e.g. `shard-0-of-4`) starts the name of every chunk this process writes, and limits
   * its sweep of temp files to those names: shards of one setting share the folder, never a file.
   */
  static async open(cacheRoot: string, setting: CacheSetting, tag = ''): Promise<EmbeddingCache> {
    const dir = path.join(cacheRoot, 'embeddings', EmbeddingCache.settingHash(setting));
    await fs.mkdir(dir, { recursive: true });
    await cleanTempFiles(dir, (name) => name.startsWith(tag));
    const meta = path.join(dir, 'setting.json');
    await writeFileAtomic(meta, JSON.stringify(setting, null, 2) + '\n');
    const rows = new Map<string, Float32Array>();
    for (const name of (await fs.readdir(dir)).filter((n) => n.endsWith('.bin')).sort()) {
      const buf = await fs.readFile(path.join(dir, name));
      const chunk = parseChunk(buf, setting.dim);
      if (!chunk) continue; // a chunk from another format version: recomputed, then superseded
      chunk.keys.forEach((k, i) => rows.set(k, chunk.data.subarray(i * setting.dim, (i + 1) * setting.dim)));
    }
    return new EmbeddingCache(dir, setting.dim, rows, tag ? `${tag}.` : '');
  }

  /** The speed of the run that computed most of these embeddings (speed.json), when one was recorded. */
  async computedBy(): Promise<ComputedSpeed | undefined> {
    try {
      const j = JSON.parse(await fs.readFile(path.join(this.dir, SPEED_FILE), 'utf8')) as ComputedSpeed;
      return typeof j.embedded === 'number' && typeof j.seconds === 'number' ? j : undefined;
    } catch {
      return undefined;
    }
  }

  /** Record a run's speed, unless an earlier run computed more images. */
  async recordSpeed(s: ComputedSpeed): Promise<void> {
    const old = await this.computedBy();
    if (old && old.embedded > s.embedded) return;
    await writeFileAtomic(path.join(this.dir, SPEED_FILE), JSON.stringify(s) + '\n');
  }

  get size(): number {
    return this.rows.size;
  }

  get(key: string): Float32Array | undefined {
    return this.rows.get(key);
  }

  /** Store `keys.length` rows of `data` as one chunk file. */
  async add(keys: string[], data: Float32Array): Promise<void> {
    if (keys.length === 0) return;
    const header = Buffer.from(JSON.stringify({ dim: this.dim, keys }));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const rows = Buffer.from(data.buffer, data.byteOffset, keys.length * this.dim * 4);
    const name = `${this.tag}${Date.now().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}.bin`;
    await writeFileAtomic(path.join(this.dir, name), Buffer.concat([len, header, rows]));
    keys.forEach((k, i) => this.rows.set(k, data.slice(i * this.dim, (i + 1) * this.dim)));
  }
}

function parseChunk(buf: Buffer, dim: number): { keys: string[]; data: Float32Array } | undefined {
  if (buf.length < 4) return undefined;
  const hlen = buf.readUInt32LE(0);
  if (4 + hlen > buf.length) return undefined;
  let header: { dim?: unknown; keys?: unknown };
  try {
    header = JSON.parse(buf.subarray(4, 4 + hlen).toString('utf8')) as typeof header;
  } catch {
    return undefined;
  }
  if (header.dim !== dim || !Array.isArray(header.keys)) return undefined;
  const keys = header.keys as string[];
  const bytes = buf.subarray(4 + hlen);
  if (bytes.length !== keys.length * dim * 4) return undefined;
  // copy into an aligned buffer: the rows start at an arbitrary byte offset
  const data = new Float32Array(keys.length * dim);
  new Uint8Array(data.buffer).set(bytes);
  return { keys, data };
}
