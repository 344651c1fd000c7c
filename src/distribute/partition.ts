/**
 * The shard partition (docs/cluster.md): record `id` belongs to shard `H(id) mod N`, where H is
 * FNV-1a 64 of the id's UTF-8 bytes followed by MurmurHash3's 64-bit finalizer (fmix64). Both
 * are published and fixed: the partition depends on the id and N only, never on record order
 * or on the version of ecaf, and any language recomputes it. The finalizer matters: FNV-1a's
 * low bits follow the low bits of the characters alone (ids of digits fell 50/20/0/30 % into
 * 4 shards); SHA-256 mixes as well but cost 1.3 s per 100,000 ids here.
 */

const TWO32 = 4294967296;
const M64 = 0xffffffffffffffffn;

/** Largest shard count accepted (far beyond any array a scheduler runs). */
export const MAX_SHARDS = 1_000_000;

/** FNV-1a 64 of a byte string, as [high, low] 32-bit halves (exact, without BigInt in the byte loop). */
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

/** MurmurHash3's fmix64: every input bit moves every output bit. */
export function fmix64(h: bigint): bigint {
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & M64;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & M64;
  return h ^ (h >> 33n);
}

/** The UTF-8 bytes of an id (ids are ASCII by the data.json rules; other text is encoded). */
function utf8(id: string): ArrayLike<number> {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0x7f) return Buffer.from(id, 'utf8');
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}

/** H(id): fmix64(FNV-1a 64(UTF-8 bytes of id)). */
export function idHash64(id: string): bigint {
  const [hi, lo] = fnv1a64(utf8(id));
  return fmix64((BigInt(hi) << 32n) | BigInt(lo));
}

/** The shard (0-based) of record `id` among `count` shards. */
export function shardOf(id: string, count: number): number {
  return Number(idHash64(id) % BigInt(count));
}

/** Which of `ids` belong to shard `index` of `count`. */
export function partition<T extends string>(ids: Iterable<T>, index: number, count: number): T[] {
  const out: T[] = [];
  for (const id of ids) if (shardOf(id, count) === index) out.push(id);
  return out;
}
