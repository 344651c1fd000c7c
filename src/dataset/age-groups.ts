/** MTLFace's 7 age groups (upper bounds, inclusive): <=10, 11-20, ..., 51-60, >60 (docs/reference.md): the age head's classes, the age report's bins, the synthesis targets. */
export const AGE_GROUPS = [
  { label: '0-10', max: 10 },
  { label: '11-20', max: 20 },
  { label: '21-30', max: 30 },
  { label: '31-40', max: 40 },
  { label: '41-50', max: 50 },
  { label: '51-60', max: 60 },
  { label: '61+', max: Number.POSITIVE_INFINITY },
] as const;

/** Logits per image of a model's age-group head (MTLFace's). */
export const AGE_GROUP_COUNT = AGE_GROUPS.length;

/** Index into AGE_GROUPS of an age in years (a fractional estimate: 10.5 is in 11-20). */
export function ageGroupOf(age: number): number {
  return AGE_GROUPS.findIndex((g) => age <= g.max);
}
