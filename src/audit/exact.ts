/**
 * Exact duplicates: records whose crawled bytes are identical (crawl.jsonl's sha256). A group
 * photo's faces share their bytes by right: records of one photo are one duplicate only where
 * they show the same face (`sameFace`: their face rectangles or aligned boxes overlap). Pure.
 */
import type { DuplicateFinding } from './findings.js';
import { groupBy } from '../util/group.js';

export function exactDuplicates(sha: ReadonlyMap<string, string>, identityOf: (id: string) => string, sameFace: (a: string, b: string) => boolean = () => true): DuplicateFinding[] {
  const out: DuplicateFinding[] = [];
  for (const pairs of groupBy(sha, ([, h]) => h).values()) {
    const all = pairs.map(([id]) => id);
    if (all.length < 2) continue;
    all.sort();
    // faces of one photo: each joins the first group whose face it shows
    const groups: string[][] = [];
    for (const id of all) {
      const g = groups.find((members) => sameFace(members[0]!, id));
      if (g) g.push(id);
      else groups.push([id]);
    }
    for (const ids of groups) {
      if (ids.length < 2) continue;
      out.push({ ids, kind: 'exact', similarity: 1, identities: [...new Set(ids.map(identityOf))].sort(), confidence: 1 });
    }
  }
  // the largest groups first: a placeholder served for many dead links is the biggest
  return out.sort((a, b) => b.ids.length - a.ids.length || a.ids[0]!.localeCompare(b.ids[0]!));
}
