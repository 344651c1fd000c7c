/** What an audit finds (audit.json's shape, docs/formats.md): each finding with its evidence and a confidence in 0..1. */

export interface DuplicateFinding {
  ids: string[];
  kind: 'exact' | 'near';
  /** 1 for identical bytes; for near duplicates the lowest embedding cosine within the group. */
  similarity: number;
  /** The identities the group spans: more than one means a re-used photo or a placeholder. */
  identities: string[];
  /** Near duplicates: the largest perceptual-hash distance (of 64 bits) within the group. */
  hashDistance?: number;
  confidence: number;
}

export interface OutlierFinding {
  id: string;
  identity: string;
  /** The identity its nearest images belong to, when that is another one. */
  suspected: string | null;
  /** How much closer it is to `suspected` than to its own identity (cosine difference; higher is surer). */
  score: number;
  /** Cosine to its own identity's other images (the mean), and to the suspected identity's nearest. */
  ownSimilarity: number;
  suspectedSimilarity: number | null;
  /** Compared with the identity's images of nearby ages only (within the window), or all of them. */
  comparedWith: 'nearby-ages' | 'all-ages';
  confidence: number;
}

export type InconsistencyProblem = 'face-elsewhere' | 'face-moved' | 'gender' | 'no-face';

export interface InconsistencyFinding {
  id: string;
  problem: InconsistencyProblem;
  /** IoU of the aligned face's box with data.json's face_rectangle (null without one). */
  iou: number | null;
  detail: string;
  confidence: number;
}

export interface PairFinding {
  file: string;
  line: number;
  problem: string;
  ids: string[];
}

/** A pair file's accuracy with and without the flagged pairs, from its report's scores (when a report exists). */
export interface PairFileEffect {
  file: string;
  pairs: number;
  flagged: number;
  /** `clean` is null when every scored pair is flagged. */
  accuracy?: { all: number; clean: number | null; report: string };
}

export interface AuditFindings {
  duplicates: DuplicateFinding[];
  outliers: OutlierFinding[];
  inconsistent: InconsistencyFinding[];
  pairs: PairFinding[];
  pairFiles: PairFileEffect[];
}

/** Every id a finding puts in doubt, with why (the first reason wins): what pairs leaves out when told to exclude an audit. */
export function flaggedIds(f: Pick<AuditFindings, 'duplicates' | 'outliers' | 'inconsistent'>): Map<string, string> {
  const out = new Map<string, string>();
  const add = (id: string, why: string) => out.has(id) || out.set(id, why);
  for (const d of f.duplicates) d.ids.slice(1).forEach((id) => add(id, `${d.kind}-duplicate of ${d.ids[0]}`));
  // a duplicate spanning identities leaves none of its copies trustworthy
  for (const d of f.duplicates) if (d.identities.length > 1) add(d.ids[0]!, `${d.kind}-duplicate across identities`);
  for (const o of f.outliers) add(o.id, `outlier of ${o.identity}${o.suspected ? ` (looks like ${o.suspected})` : ''}`);
  for (const i of f.inconsistent) if (i.problem !== 'gender') add(i.id, i.problem);
  return out;
}
