/**
 * The shard partition (docs/cluster.md): record `id` belongs to shard
 * `FNV-1a-64(UTF-8 bytes of id) mod N`. FNV-1a 64 (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3) is a published, fixed function: the partition depends on the id and N only,
 * never on record order or on the version of ecaf, and any language can recompute it.
 */

const TWO32 = 4294967296;

/** FNV-1a 64 of a byte string, as [high, low] 32-bit halves (exact: no BigInt in the hot loop). */
export function fnv1a64(bytes: ArrayLike<number>): [number, number] {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    // h * 0x100000001b3 mod 2^64 = h * 0x1b3 + (h << 40)
    const l = lo * 0x1b3;
    hi = (Math.imul(hi, 0x1b3) + Math.floor(l / TWO32) + (lo << 8)) >>> 0;
    lo = l >>> 0;
  }
  return [hi, lo];
}

/** The UTF-8 bytes of an id (ids are ASCII by the data.json rules; other text is encoded). */
function utf8(id: string): ArrayLike<number> {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0x7f) return Buffer.from(id, 'utf8');
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}

/** Largest shard count: keeps (hi mod N) * (2^32 mod N) exact in a double. */
export const MAX_SHARDS = 1_000_000;

/** The shard (0-based) of record `id` among `count` shards. */
export function shardOf(id: string, count: number): number {
  const [hi, lo] = fnv1a64(utf8(id));
  return ((hi % count) * (TWO32 % count) + (lo % count)) % count;
}

/** Which of `ids` belong to shard `index` of `count`. */
export function partition<T extends string>(ids: Iterable<T>, index: number, count: number): T[] {
  const out: T[] = [];
  for (const id of ids) if (shardOf(id, count) === index) out.push(id);
  return out;
}
