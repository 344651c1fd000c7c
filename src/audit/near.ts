/**
 * Near duplicates: the same photo re-encoded, resized or cropped, under one id and another.
 * A pair is one when its aligned faces' perceptual hashes are within NEAR_HASH_BITS of each
 * other AND their embeddings' cosine is at least NEAR_COSINE (docs/audit.md says how both were
 * chosen); candidates are each image's nearest neighbours by cosine. Pure.
 */
import type { DuplicateFinding } from './findings.js';
import type { Neighbours } from './neighbours.js';
import { hashDistance } from './phash.js';

/** Of 64 bits (docs/audit.md: planted re-encodes, scales and crops of real photos). */
export const NEAR_HASH_BITS = 10;
export const NEAR_COSINE = 0.8;

export interface NearInput {
  ids: readonly string[];
  identity: readonly string[];
  /** 2 uint32 per image (phash.ts); an image without a hash has 0xffffffff in both words and is never a candidate. */
  hashes: Uint32Array;
  /** Per image: a hash was made. */
  hashed: Uint8Array;
  neighbours: Neighbours;
  /** Pairs already known as exact duplicates (not reported twice). */
  sameBytes?: (i: number, j: number) => boolean;
  hashBits?: number;
  cosine?: number;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function nearDuplicates(s: NearInput): DuplicateFinding[] {
  const n = s.ids.length;
  const bits = s.hashBits ?? NEAR_HASH_BITS;
  const minCos = s.cosine ?? NEAR_COSINE;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const edges: { i: number; j: number; cos: number; bits: number }[] = [];
  const { k, index, score } = s.neighbours;
  for (let i = 0; i < n; i++) {
    if (!s.hashed[i]) continue;
    for (let m = 0; m < k; m++) {
      const j = index[i * k + m]!;
      const c = score[i * k + m]!;
      if (j < 0 || c < minCos) break;
      if (j < i && index.subarray(j * k, (j + 1) * k).includes(i)) continue; // seen from j
      if (!s.hashed[j] || s.sameBytes?.(i, j)) continue;
      const d = hashDistance(s.hashes, i, j);
      if (d > bits) continue;
      edges.push({ i, j, cos: c, bits: d });
      parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, { members: Set<number>; cos: number; bits: number }>();
  for (const e of edges) {
    const r = find(e.i);
    const g = groups.get(r) ?? { members: new Set<number>(), cos: 1, bits: 0 };
    g.members.add(e.i).add(e.j);
    g.cos = Math.min(g.cos, e.cos);
    g.bits = Math.max(g.bits, e.bits);
    groups.set(r, g);
  }
  return [...groups.values()]
    .map((g) => {
      const members = [...g.members].sort((a, b) => byCodeUnit(s.ids[a]!, s.ids[b]!));
      // identical hashes and embeddings are surest; each bit and each 0.01 of cosine lost costs some
      const confidence = Math.max(0, Math.min(1, 1 - g.bits / (2 * (bits + 1)) - (1 - g.cos)));
      return { ids: members.map((m) => s.ids[m]!), kind: 'near' as const, similarity: g.cos, identities: [...new Set(members.map((m) => s.identity[m]!))].sort(), hashDistance: g.bits, confidence };
    })
    .sort((a, b) => b.confidence - a.confidence || byCodeUnit(a.ids[0]!, b.ids[0]!));
}
