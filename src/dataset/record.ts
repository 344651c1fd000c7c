/** What data.json says about one image, after field aliases and Face++ nesting are resolved. */
export interface FaceRectangle {
  top: number;
  left: number;
  width: number;
  height: number;
}

export type Gender = 'male' | 'female';
export type AgeGroup = 'child' | 'adult';

export interface EcafRecord {
  /** Position in data.json (array index, or order of the object's keys). */
  index: number;
  /** File stem of every output: `[A-Za-z0-9][A-Za-z0-9._-]*`, no `..`. */
  id: string;
  imageUrl: string;
  sourceUrl?: string;
  /** Given, or derived from the id by removing `_<group>_<digits>` or `_<digits>`. */
  identity: string;
  age?: number;
  gender?: Gender;
  /** Given as `group` or found as a `child`/`adult` token in the id. */
  group?: AgeGroup;
  faceRectangle?: FaceRectangle;
}

/** One broken rule of one record: enough to find and fix it by hand. */
export interface RecordIssue {
  index: number;
  id?: string;
  field: string;
  message: string;
}

/** One issue as a line under its file's headline (src/dataset/load.ts `describeInvalid`). */
export function formatIssue(issue: RecordIssue): string {
  const who = issue.id !== undefined ? `record ${issue.index} (id "${issue.id}")` : `record ${issue.index}`;
  return `${who}: field "${issue.field}": ${issue.message}`;
}
