import type { EcafRecord } from '../dataset/record.js';

export interface AgeClassOptions {
  /** Ages up to and including this are `child`. */
  childMaxAge: number;
  /** Ages from this on are `adult`. */
  adultMinAge: number;
}

export const DEFAULT_CHILD_MAX_AGE = 12;
export const DEFAULT_ADULT_MIN_AGE = 18;

/**
 * Child or adult photo for the missing-children protocol: a known age always decides (ages
 * between the two bounds are neither); without an age, the record's `group` (given, or the
 * `child`/`adult` token of its id).
 */
export function ageClass(record: Pick<EcafRecord, 'age' | 'group'>, opts: AgeClassOptions): 'child' | 'adult' | undefined {
  if (record.age !== undefined) {
    if (record.age <= opts.childMaxAge) return 'child';
    if (record.age >= opts.adultMinAge) return 'adult';
    return undefined;
  }
  return record.group;
}
