import { MAX_AGE } from '../dataset/normalize.js';
import type { PairInputs } from './inputs.js';
import type { Prng } from './prng.js';
import type { FoldPairs, ProtocolPlan } from './protocol.js';
import { AnchorCycle, findPartner, lowerBound, roundRobin, take, type PairIdx, type PairState } from './select.js';

export const DEFAULT_MIN_AGE_GAP = 10;
/** Width of the age-gap bins whose histogram negatives match. */
export const GAP_BIN_YEARS = 5;

export const gapBin = (gap: number): number => Math.floor(gap / GAP_BIN_YEARS);

/** Images (indices) sorted by age, then index, with their ages beside them for binary search. */
interface AgePool {
  idx: Int32Array;
  ages: Float64Array;
}

/** `images` in increasing index order -> sorted by (age, index): a counting sort on whole years, then fractions. */
function agePool(inp: PairInputs, images: readonly number[]): AgePool {
  const { age } = inp;
  const years = new Int32Array(MAX_AGE + 2);
  for (const i of images) years[Math.floor(age[i]!) + 1]!++;
  for (let y = 1; y < years.length; y++) years[y]! += years[y - 1]!;
  const start = years.slice();
  const idx = new Int32Array(images.length);
  for (const i of images) idx[years[Math.floor(age[i]!)]!++] = i; // stable: ties stay in index order
  for (let y = 0; y + 1 < start.length; y++) {
    const [from, to] = [start[y]!, start[y + 1]!];
    let whole = true;
    for (let j = from; j < to && whole; j++) whole = Number.isInteger(age[idx[j]!]!);
    if (!whole) idx.subarray(from, to).sort((x, y2) => age[x]! - age[y2]! || x - y2);
  }
  return { idx, ages: Float64Array.from(idx, (i) => age[i]!) };
}

/**
 * Cross-age protocol. Positive: two photos of one person whose ages differ by >= minAgeGap,
 * the younger first. Negative: two photos of different people of the same gender (personGender;
 * or both unknown), the younger first, drawn so that in every fold the negatives' age gaps fill
 * the same 5-year bins as the positives' (equal counts per bin). Photos without an age are
 * not used.
 */
export function crossAgePlan(inp: PairInputs, minAgeGap: number, cap: number): ProtocolPlan {
  const k = inp.identities.length;
  const usable = new Int32Array(k);
  const capacity = new Float64Array(k);
  for (let id = 0; id < k; id++) {
    const ages: number[] = [];
    for (let i = inp.start[id]!; i < inp.start[id + 1]!; i++) if (!Number.isNaN(inp.age[i]!)) ages.push(inp.age[i]!);
    ages.sort((a, b) => a - b);
    usable[id] = ages.length;
    // pairs with gap >= minAgeGap (two pointers), and how many images have a partner at all
    let pairs = 0;
    let withPartner = 0;
    let j = 0;
    for (let i = 0; i < ages.length; i++) {
      while (j < ages.length && ages[j]! < ages[i]! + minAgeGap) j++;
      pairs += ages.length - Math.max(j, i + 1);
      const younger = ages[0]! <= ages[i]! - minAgeGap;
      if (younger || ages[ages.length - 1]! >= ages[i]! + minAgeGap) withPartner++;
    }
    capacity[id] = Math.min(pairs, Math.floor((cap * withPartner) / 2));
  }

  const fold = (members: readonly number[], prng: Prng, state: PairState, perFold: number): FoldPairs => {
    const { age, identity, personGender } = inp;
    const order = prng.shuffle(members.slice());
    const perIdentity = new Map<number, { pool: AgePool; cycle: AnchorCycle }>();
    const positives = roundRobin(order, perFold, (id) => {
      let s = perIdentity.get(id);
      if (!s) {
        const images: number[] = [];
        for (let i = inp.start[id]!; i < inp.start[id + 1]!; i++) if (!Number.isNaN(age[i]!)) images.push(i);
        const pool = agePool(inp, images);
        s = { pool, cycle: new AnchorCycle(prng.shuffle(Int32Array.from(images))) };
        perIdentity.set(id, s);
      }
      const { pool } = s;
      return s.cycle.next((x) => {
        if (state.posUse[x]! >= state.cap) return null;
        const lo = lowerBound(pool.ages, age[x]! + minAgeGap);
        const y = findPartner(pool.idx, lo, pool.idx.length, prng, (y) => y !== x && state.posUse[y]! < state.cap && !state.has(x, y));
        if (y < 0) return null;
        state.take(x, y, true);
        return [x, y];
      });
    });

    // negatives: same gender, per fold the same count in each 5-year gap bin as the positives
    const need = new Map<number, number>();
    for (const [a, b] of positives) {
      const bin = gapBin(Math.abs(age[b]! - age[a]!));
      need.set(bin, (need.get(bin) ?? 0) + 1);
    }
    const byGender: number[][] = [[], [], []];
    for (const id of [...members].sort((a, b) => a - b)) {
      for (let i = inp.start[id]!; i < inp.start[id + 1]!; i++) if (!Number.isNaN(age[i]!)) byGender[personGender[id]!]!.push(i);
    }
    const anchors = Int32Array.from(byGender.flat());
    const pools = byGender.map((images) => agePool(inp, images));
    const cycle = new AnchorCycle(prng.shuffle(anchors));
    const negatives: PairIdx[] = [];
    for (const bin of [...need.keys()].sort((a, b) => b - a)) {
      const lo = bin * GAP_BIN_YEARS;
      take(
        cycle,
        need.get(bin)!,
        (x) => {
          if (state.negUse[x]! >= state.cap) return null;
          const pool = pools[personGender[identity[x]!]!]!;
          const from = lowerBound(pool.ages, age[x]! + lo);
          const to = lowerBound(pool.ages, age[x]! + lo + GAP_BIN_YEARS, from);
          const y = findPartner(pool.idx, from, to, prng, (y) =>
            identity[y] !== identity[x] && state.negUse[y]! < state.cap && gapBin(age[y]! - age[x]!) === bin && !state.has(x, y),
          );
          if (y < 0) return null;
          state.take(x, y, false);
          return [x, y];
        },
        negatives,
      );
    }
    return { positives, negatives };
  };
  return { usable, capacity, fold };
}
