import { createReadStream, promises as fs } from 'node:fs';
import { datasetLayout } from '../dataset/layout.js';
import { DataJsonError, emptySummary, iterateDataJson, type DataJsonSummary } from '../dataset/load.js';
import { UsageError } from '../util/errors.js';
import { Progress } from '../util/progress.js';

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
  summary: DataJsonSummary;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Where a line's id or status string starts, in the compact form JSON.stringify writes; -1 otherwise. */
function fieldStart(text: string, key: string, from: number, to: number): number {
  const i = text.indexOf(key, from);
  return i >= 0 && i < to ? i + key.length : -1;
}

/**
 * Ids whose last landmarks.jsonl line says `ok`. A real line holds 68 landmark pairs: parsing a
 * million of them would dominate the run, so the id and status of a compact line (as align
 * writes it: `{"id":"...","status":"...",...}`) are cut out directly; other lines are parsed.
 * A line counts only when complete (ends with `}`): a killed writer can leave a torn last line.
 */
export async function readAlignedIds(file: string): Promise<Set<string>> {
  try {
    await fs.access(file);
  } catch {
    throw new UsageError(`${file}: not found: pairs name aligned images only (run \`ecaf align\` first)`);
  }
  const ok = new Set<string>(); // adds and deletes in file order: the last line of an id decides
  const state = (id: string, isOk: boolean): void => {
    if (isOk) ok.add(id);
    else ok.delete(id);
  };
  const onLine = (text: string, from: number, to: number): void => {
    let end = to;
    while (end > from && text.charCodeAt(end - 1) <= 0x20) end--;
    if (end === from || text.charCodeAt(end - 1) !== 0x7d) return;
    const i = fieldStart(text, '"id":"', from, end);
    const j = i < 0 ? -1 : text.indexOf('"', i);
    const s = fieldStart(text, '"status":"', from, end);
    const id = j < 0 ? '' : text.slice(i, j);
    if (i >= 0 && s >= 0 && !id.includes('\\')) {
      state(id, text.startsWith('ok"', s));
      return;
    }
    try {
      const row = JSON.parse(text.slice(from, end)) as { id?: unknown; status?: unknown };
      if (typeof row.id === 'string') state(row.id, row.status === 'ok');
    } catch {
      // a torn or foreign line: not a state
    }
  };
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      onLine(text, from, nl);
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  onLine(rest, 0, rest.length);
  return ok;
}

/** Records of `<root>/image_data/data.json` restricted to aligned ids; DataJsonError (exit 2) on invalid records unless skipInvalid. */
export async function loadPairInputs(root: string, opts: { skipInvalid?: boolean; progress?: boolean } = {}): Promise<PairInputs> {
  const layout = datasetLayout(root);
  const aligned = await readAlignedIds(layout.landmarksLog);
  const progress = opts.progress ? new Progress({ label: 'reading the aligned records of data.json', total: aligned.size, unit: 'rec' }) : undefined;
  const summary = emptySummary(layout.dataJson);
  const identityIndex = new Map<string, number>();
  const identityNames: string[] = [];
  const ids: string[] = [];
  const ident: number[] = [];
  const ages: number[] = [];
  const genders: number[] = [];
  const groups: number[] = [];
  let lastIdentity = '';
  let lastK = -1;
  for await (const r of iterateDataJson(layout.dataJson, summary)) {
    if (!aligned.has(r.id)) continue;
    // an identity's photos are usually listed together: skip the map lookup then
    let k = r.identity === lastIdentity ? lastK : identityIndex.get(r.identity);
    lastIdentity = r.identity;
    if (k === undefined) {
      k = identityNames.length;
      identityIndex.set(r.identity, k);
      identityNames.push(r.identity);
    }
    lastK = k;
    progress?.tick();
    ids.push(r.id);
    ident.push(k);
    ages.push(r.age ?? NaN);
    genders.push(r.gender === 'male' ? GENDER_MALE : r.gender === 'female' ? GENDER_FEMALE : GENDER_UNKNOWN);
    groups.push(r.group === 'child' ? GROUP_CHILD : r.group === 'adult' ? GROUP_ADULT : GROUP_NONE);
  }
  progress?.finish();
  if (summary.invalidCount > 0 && !opts.skipInvalid) throw new DataJsonError(summary);

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
    aligned: n,
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
