import { promises as fs } from 'node:fs';
import { datasetLayout } from '../dataset/layout.js';
import { DataJsonError, emptySummary, iterateDataJson, type DataJsonSummary } from '../dataset/load.js';
import { Progress } from '../util/progress.js';
import { stageLogFiles } from '../distribute/logs.js';
import { AlignedIdFilter } from './aligned-ids.js';

export const GENDER_UNKNOWN = 0;
export const GENDER_MALE = 1;
export const GENDER_FEMALE = 2;
export const GROUP_NONE = 0;
export const GROUP_CHILD = 1;
export const GROUP_ADULT = 2;

/**
 * The images pairs may name: data.json records whose last landmarks.jsonl state is `ok`,
 * held column-wise (a million records fit in tens of MB). Images are numbered in a fixed
 * order that depends only on the data, never on the order of data.json: identities sorted
 * by name (code-unit order), then ids sorted within each identity.
 */
export interface PairInputs {
  /** Record id of each image. */
  ids: string[];
  /** Index into `identities` of each image. */
  identity: Int32Array;
  /** Age in years, NaN when unknown. */
  age: Float64Array;
  /** GENDER_UNKNOWN / GENDER_MALE / GENDER_FEMALE. */
  gender: Uint8Array;
  /** GROUP_NONE / GROUP_CHILD / GROUP_ADULT (the record's `group`). */
  group: Uint8Array;
  /** Identity names, sorted. */
  identities: string[];
  /**
   * Gender of each identity: the majority of its photos' known genders (Face++ labels single
   * photos and errs most on children); unknown on a tie or when no photo has one.
   */
  personGender: Uint8Array;
  /** Images of identity k are start[k] .. start[k + 1] - 1. */
  start: Int32Array;
  /** Records in data.json (valid ones) and how many of them aligned. */
  records: number;
  aligned: number;
  /** Aligned records left out because `exclude` named them. */
  excluded: number;
  summary: DataJsonSummary;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Records of `<root>/image_data/data.json` restricted to aligned ids; DataJsonError (exit 2) on
 * invalid records unless skipInvalid; rejects with the signal's reason (an AbortError) when it aborts the reading.
 */
export async function loadPairInputs(root: string, opts: { skipInvalid?: boolean; progress?: boolean; signal?: AbortSignal; exclude?: ReadonlySet<string> } = {}): Promise<PairInputs> {
  const layout = datasetLayout(root);
  // landmarks.jsonl is scanned on the other core while this thread streams data.json
  const aligned = await AlignedIdFilter.open(await stageLogFiles(layout, 'landmarks'), layout.landmarksLog);
  const MB = 1 << 20;
  const fileMb = Math.ceil((await fs.stat(layout.dataJson).catch(() => ({ size: 0 }))).size / MB);
  const progress = opts.progress ? new Progress({ label: 'reading data.json', total: fileMb, unit: 'MB' }) : undefined;
  const summary = emptySummary(layout.dataJson);
  const all: { ids: string[]; ident: number[]; ages: number[]; genders: number[]; groups: number[] } = { ids: [], ident: [], ages: [], genders: [], groups: [] };
  const identityIndex = new Map<string, number>();
  const allIdentities: string[] = [];
  let lastIdentity = '';
  let lastK = -1;
  let mbRead = 0;
  try {
    for await (const r of iterateDataJson(layout.dataJson, summary)) {
      if (opts.signal?.aborted) break;
      // an identity's photos are usually listed together: skip the map lookup then
      let k = r.identity === lastIdentity ? lastK : identityIndex.get(r.identity);
      if (k === undefined) {
        k = allIdentities.length;
        identityIndex.set(r.identity, k);
        allIdentities.push(r.identity);
      }
      lastIdentity = r.identity;
      lastK = k;
      if (progress && Math.floor(summary.bytesRead / MB) > mbRead) {
        progress.tick(Math.floor(summary.bytesRead / MB) - mbRead);
        mbRead = Math.floor(summary.bytesRead / MB);
      }
      aligned.add(r.id);
      all.ids.push(r.id);
      all.ident.push(k);
      all.ages.push(r.age ?? NaN);
      all.genders.push(r.gender === 'male' ? GENDER_MALE : r.gender === 'female' ? GENDER_FEMALE : GENDER_UNKNOWN);
      all.groups.push(r.group === 'child' ? GROUP_CHILD : r.group === 'adult' ? GROUP_ADULT : GROUP_NONE);
    }
    progress?.finish();
    opts.signal?.throwIfAborted();
    if (summary.invalidCount > 0 && !opts.skipInvalid) throw new DataJsonError(summary);
  } catch (err) {
    await aligned.close();
    throw err;
  }
  const keep = await aligned.flags();
  // keep the aligned records, and only the identities that still have one (renumbered)
  const newK = new Int32Array(allIdentities.length).fill(-1);
  const identityNames: string[] = [];
  const [ids, ident, ages, genders, groups]: [string[], number[], number[], number[], number[]] = [[], [], [], [], []];
  let excluded = 0;
  for (let i = 0; i < all.ids.length; i++) {
    if (!keep[i]) continue;
    if (opts.exclude?.has(all.ids[i]!)) {
      excluded++;
      continue;
    }
    const k = all.ident[i]!;
    if (newK[k] === -1) newK[k] = identityNames.push(allIdentities[k]!) - 1;
    ids.push(all.ids[i]!);
    ident.push(newK[k]!);
    ages.push(all.ages[i]!);
    genders.push(all.genders[i]!);
    groups.push(all.groups[i]!);
  }

  // identities by name, images by id within each: a fixed order whatever data.json's order
  const order = identityNames.map((_, k) => k).sort((x, y) => byCodeUnit(identityNames[x]!, identityNames[y]!));
  const rank = new Int32Array(order.length);
  order.forEach((k, r) => (rank[k] = r));
  const counts = new Int32Array(order.length + 1);
  for (const k of ident) counts[rank[k]! + 1]!++;
  const start = new Int32Array(order.length + 1);
  for (let r = 0; r < order.length; r++) start[r + 1] = start[r]! + counts[r + 1]!;
  const fill = start.slice(0, order.length);
  // perm[s] = the record that goes to slot s: a stable counting sort by identity rank, then ids within each
  const n = ids.length;
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[fill[rank[ident[i]!]!]!++] = i;
  for (let r = 0; r < order.length; r++) sortById(perm.subarray(start[r]!, start[r + 1]!), ids);
  const out: PairInputs = {
    ids: [],
    identity: new Int32Array(n),
    age: new Float64Array(n),
    gender: new Uint8Array(n),
    group: new Uint8Array(n),
    identities: order.map((k) => identityNames[k]!),
    personGender: new Uint8Array(order.length),
    start,
    records: summary.valid,
    aligned: n + excluded,
    excluded,
    summary,
  };
  for (let s = 0; s < n; s++) {
    const i = perm[s]!;
    out.ids.push(ids[i]!); // push, not new Array(n): V8 keeps a large preallocated array in slow mode
    out.identity[s] = rank[ident[i]!]!;
    out.age[s] = ages[i]!;
    out.gender[s] = genders[i]!;
    out.group[s] = groups[i]!;
  }
  for (let r = 0; r < order.length; r++) {
    let vote = 0;
    for (let i = start[r]!; i < start[r + 1]!; i++) vote += out.gender[i] === GENDER_MALE ? 1 : out.gender[i] === GENDER_FEMALE ? -1 : 0;
    out.personGender[r] = vote > 0 ? GENDER_MALE : vote < 0 ? GENDER_FEMALE : GENDER_UNKNOWN;
  }
  return out;
}

/** Sort one identity's records (indices into `ids`) by id, in place. */
function sortById(range: Int32Array, ids: readonly string[]): void {
  let sorted = true;
  for (let j = 1; j < range.length && sorted; j++) sorted = ids[range[j - 1]!]! < ids[range[j]!]!;
  if (!sorted) range.sort((x, y) => byCodeUnit(ids[x]!, ids[y]!)); // data.json usually lists them in order already
}
