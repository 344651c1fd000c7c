/**
 * The shard partition (docs/cluster.md): record `id` belongs to shard `H(id) mod N`, where H is
 * FNV-1a 64 of the id's UTF-8 bytes followed by MurmurHash3's 64-bit finalizer (fmix64). Both
 * are published and fixed: the partition depends on the id and N only, never on record order
 * or on the version of ecaf, and any language recomputes it. The finalizer matters: FNV-1a's
 * low bits follow the low bits of the characters alone (ids of digits fell 50/20/0/30 % into
 * 4 shards); SHA-256 mixes as well but cost 1.3 s per 100,000 ids here.
 */

const TWO32 = 4294967296;
// bound once: a global lookup per call costs 40x more inside a vm context (the tests run in one)
const imul = Math.imul;

/** Largest shard count accepted (far beyond any array a scheduler runs). */
export const MAX_SHARDS = 1_000_000;

/** FNV-1a 64 of a byte string, as [high, low] 32-bit halves (exact, without BigInt in the byte loop). */
export function fnv1a64(bytes: ArrayLike<number>): [number, number] {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    // h * 0x100000001b3 mod 2^64 = h * 0x1b3 + (h << 40); every term is an exact integer
    // below 2^53, so `>>> 0` is the mod 2^32 (and the floor), with no Math call in the byte loop
    const l = lo * 0x1b3;
    hi = (hi * 0x1b3 + (l / TWO32 >>> 0) + (lo << 8)) >>> 0;
    lo = l >>> 0;
  }
  return [hi, lo];
}

/** (ahi:alo) * (bhi:blo) mod 2^64 in 32-bit halves (16-bit limbs keep every partial product exact). */
function mul64(ahi: number, alo: number, bhi: number, blo: number): [number, number] {
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  return [(carry + imul(ahi, blo) + imul(alo, bhi)) >>> 0, lo];
}

/** MurmurHash3's fmix64 on [high, low] halves: every input bit moves every output bit. */
export function fmix64(hi: number, lo: number): [number, number] {
  lo = (lo ^ (hi >>> 1)) >>> 0; // h ^= h >> 33
  [hi, lo] = mul64(hi, lo, 0xff51afd7, 0xed558ccd);
  lo = (lo ^ (hi >>> 1)) >>> 0;
  [hi, lo] = mul64(hi, lo, 0xc4ceb9fe, 0x1a85ec53);
  return [hi, (lo ^ (hi >>> 1)) >>> 0];
}

/** The UTF-8 bytes of an id (ids are ASCII by the data.json rules; other text is encoded). */
function utf8(id: string): ArrayLike<number> {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0x7f) return Buffer.from(id, 'utf8');
  const out = new Uint8Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = id.charCodeAt(i);
  return out;
}

/** H(id): fmix64(FNV-1a 64(UTF-8 bytes of id)), as [high, low] halves. */
export function idHash64(id: string): [number, number] {
  const [hi, lo] = fnv1a64(utf8(id));
  return fmix64(hi, lo);
}

/** The shard (0-based) of record `id` among `count` shards (exact: count <= MAX_SHARDS). */
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
