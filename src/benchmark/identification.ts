export interface IdentificationResult {
  /** Probes scored (child photos whose identity has an adult photo in the gallery). */
  probes: number;
  /** Probes left out because their identity has no gallery photo. */
  probesWithoutMate: number;
  galleryImages: number;
  galleryIdentities: number;
  rank1: number;
  rank5: number;
  /** Share of probes whose identity is within the first k, for k = 1..cmc.length. */
  cmc: number[];
}

/**
 * Closed-set identification: each probe (unit embedding) against every gallery photo; an
 * identity scores its best-matching photo (cosine), identities are ranked by that score, and
 * a tie with the true identity counts against it (rank = 1 + identities scoring >= the mate).
 */
export function closedSetIdentification(
  probes: Float32Array,
  probeIdentity: readonly string[],
  gallery: Float32Array,
  galleryIdentity: readonly string[],
  dim: number,
  maxRank = 10,
): IdentificationResult {
  const ids = new Map<string, number>();
  const galleryId = Int32Array.from(galleryIdentity, (name) => {
    let i = ids.get(name);
    if (i === undefined) ids.set(name, (i = ids.size));
    return i;
  });
  const G = galleryIdentity.length;
  const best = new Float64Array(ids.size);
  const hits = new Float64Array(maxRank);
  let scored = 0;
  let withoutMate = 0;
  for (let q = 0; q < probeIdentity.length; q++) {
    const mate = ids.get(probeIdentity[q]!);
    if (mate === undefined) {
      withoutMate++;
      continue;
    }
    best.fill(Number.NEGATIVE_INFINITY);
    const po = q * dim;
    for (let g = 0; g < G; g++) {
      const go = g * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) s += probes[po + i]! * gallery[go + i]!;
      const id = galleryId[g]!;
      if (s > best[id]!) best[id] = s;
    }
    const target = best[mate]!;
    let rank = 1;
    for (let id = 0; id < best.length; id++) if (id !== mate && best[id]! >= target) rank++;
    scored++;
    for (let r = rank; r <= maxRank; r++) hits[r - 1]!++;
  }
  const cmc = Array.from(hits, (h) => (scored ? h / scored : Number.NaN));
  return {
    probes: scored,
    probesWithoutMate: withoutMate,
    galleryImages: G,
    galleryIdentities: ids.size,
    rank1: cmc[0] ?? Number.NaN,
    rank5: cmc[4] ?? Number.NaN,
    cmc,
  };
}
