import { createHash } from 'node:crypto';

/**
 * The shard partition (docs/cluster.md): record `id` belongs to shard
 * `uint64(first 8 bytes of SHA-256(UTF-8 bytes of id), big-endian) mod N`. A published, fixed
 * function: the partition depends on the id and N only, never on record order or on the version
 * of ecaf, and any language recomputes it. (FNV-1a was tried: its low bits follow the low bits
 * of the characters, so ids of digits fell 50/20/0/30 % into 4 shards.)
 */

const TWO32 = 4294967296;

/** Largest shard count: keeps (hi mod N) * (2^32 mod N) exact in a double. */
export const MAX_SHARDS = 1_000_000;

/** The first 8 bytes of SHA-256 of the id's UTF-8 bytes, as [high, low] 32-bit halves. */
export function idHash64(id: string): [number, number] {
  const d = createHash('sha256').update(id, 'utf8').digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

/** The shard (0-based) of record `id` among `count` shards. */
export function shardOf(id: string, count: number): number {
  const [hi, lo] = idHash64(id);
  return ((hi % count) * (TWO32 % count) + (lo % count)) % count;
}

/** Which of `ids` belong to shard `index` of `count`. */
export function partition<T extends string>(ids: Iterable<T>, index: number, count: number): T[] {
  const out: T[] = [];
  for (const id of ids) if (shardOf(id, count) === index) out.push(id);
  return out;
}
