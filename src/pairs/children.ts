import { ageClass, type AgeClassOptions } from './age-class.js';
import { GROUP_ADULT, GROUP_CHILD, type PairInputs } from './inputs.js';
import type { Prng } from './prng.js';
import type { FoldPairs, ProtocolPlan } from './protocol.js';
import { AnchorCycle, findPartner, roundRobin, take, type PairState } from './select.js';

const CHILD = 1;
const ADULT = 2;

/** Child (1), adult (2) or neither (0) for every image, by ageClass. */
export function imageClasses(inp: PairInputs, opts: AgeClassOptions): Uint8Array {
  const out = new Uint8Array(inp.ids.length);
  for (let i = 0; i < out.length; i++) {
    const age = inp.age[i]!;
    const g = inp.group[i];
    const cls = ageClass(
      { age: Number.isNaN(age) ? undefined : age, group: g === GROUP_CHILD ? 'child' : g === GROUP_ADULT ? 'adult' : undefined },
      opts,
    );
    out[i] = cls === 'child' ? CHILD : cls === 'adult' ? ADULT : 0;
  }
  return out;
}

/**
 * Missing-children protocol. Positive: a child photo and an adult photo of one person, the
 * child photo first. Negative: a child photo of one person and an adult photo of another of
 * the same gender (personGender; or both unknown), the child photo first. Photos that are neither
 * child nor adult (ageClass) are not used.
 */
export function childrenPlan(inp: PairInputs, opts: AgeClassOptions, cap: number): ProtocolPlan {
  const cls = imageClasses(inp, opts);
  const k = inp.identities.length;
  const usable = new Int32Array(k);
  const capacity = new Float64Array(k);
  for (let id = 0; id < k; id++) {
    let c = 0;
    let a = 0;
    for (let i = inp.start[id]!; i < inp.start[id + 1]!; i++) {
      if (cls[i] === CHILD) c++;
      else if (cls[i] === ADULT) a++;
    }
    usable[id] = c + a;
    capacity[id] = Math.min(c * a, cap * c, cap * a);
  }
  const imagesOf = (id: number, want: number): number[] => {
    const out: number[] = [];
    for (let i = inp.start[id]!; i < inp.start[id + 1]!; i++) if (cls[i] === want) out.push(i);
    return out;
  };

  const fold = (members: readonly number[], prng: Prng, state: PairState, perFold: number): FoldPairs => {
    const { identity, personGender } = inp;
    const order = prng.shuffle(members.slice());
    const perIdentity = new Map<number, { adults: Int32Array; cycle: AnchorCycle }>();
    const positives = roundRobin(order, perFold, (id) => {
      let s = perIdentity.get(id);
      if (!s) {
        s = { adults: Int32Array.from(imagesOf(id, ADULT)), cycle: new AnchorCycle(prng.shuffle(Int32Array.from(imagesOf(id, CHILD)))) };
        perIdentity.set(id, s);
      }
      const { adults } = s;
      return s.cycle.next((x) => {
        if (state.posUse[x]! >= state.cap) return null;
        const y = findPartner(adults, 0, adults.length, prng, (y) => state.posUse[y]! < state.cap && !state.has(x, y));
        if (y < 0) return null;
        state.take(x, y, true);
        return [x, y];
      });
    });

    // negatives: a child of one person with an adult of another, same gender, as many as positives
    const sorted = [...members].sort((a, b) => a - b);
    const children = Int32Array.from(sorted.flatMap((id) => imagesOf(id, CHILD)));
    const adultsByGender: number[][] = [[], [], []];
    for (const id of sorted) for (const i of imagesOf(id, ADULT)) adultsByGender[personGender[id]!]!.push(i);
    const pools = adultsByGender.map((a) => Int32Array.from(a));
    const negatives = take(new AnchorCycle(prng.shuffle(children)), positives.length, (x) => {
      if (state.negUse[x]! >= state.cap) return null;
      const pool = pools[personGender[identity[x]!]!]!;
      const y = findPartner(pool, 0, pool.length, prng, (y) => identity[y] !== identity[x] && state.negUse[y]! < state.cap && !state.has(x, y));
      if (y < 0) return null;
      state.take(x, y, false);
      return [x, y];
    });
    return { positives, negatives };
  };
  return { usable, capacity, fold };
}
