import type { AgeGroup, EcafRecord, FaceRectangle, Gender, RecordIssue } from './record.js';

/** Accepted names of each field, first match wins (docs/formats.md, data.json). */
const ID_FIELDS = ['id', 'name', 'filename'] as const;
const IMAGE_URL_FIELDS = ['image_url', 'imageUrl', 'img_url', 'url'] as const;
const SOURCE_URL_FIELDS = ['source_url', 'sourceUrl', 'page_url'] as const;
const IDENTITY_FIELDS = ['identity', 'person', 'celebrity'] as const;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Ids become file names with an extension: stay well under the usual 255-byte limit. */
export const MAX_ID_LENGTH = 200;
export const MAX_AGE = 150;

type Json = Record<string, unknown>;
type Normalized = { ok: true; record: EcafRecord } | { ok: false; issues: RecordIssue[] };

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function firstField(rec: Json, names: readonly string[]): { name: string; value: unknown } | undefined {
  for (const name of names) {
    if (rec[name] !== undefined && rec[name] !== null) return { name, value: rec[name] };
  }
  return undefined;
}

/** Why `id` cannot be a file stem, or undefined when it can. */
export function idProblem(id: string): string | undefined {
  if (id.length === 0) return 'is empty';
  if (id.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  if (id.includes('..')) return `"${id}" contains ".." (ids are file names: no path parts)`;
  if (!ID_PATTERN.test(id)) return `"${id}" must match [A-Za-z0-9][A-Za-z0-9._-]* (ids are file names)`;
  return undefined;
}

/** `Aaron_Ashmore_adult_001` -> `Aaron_Ashmore`; `Jane_Doe_0003` -> `Jane_Doe`. */
export function identityFromId(id: string): string {
  const withGroup = /^(.+?)_(child|adult)_\d+$/i.exec(id);
  if (withGroup) return withGroup[1]!;
  const withIndex = /^(.+?)_\d+$/.exec(id);
  return withIndex ? withIndex[1]! : id;
}

/** `child` / `adult` as a whole token between `_`, `.` or `-` (a regex: no split per record). */
const CHILD_TOKEN = /(?:^|[_.-])child(?=$|[_.-])/i;
const ADULT_TOKEN = /(?:^|[_.-])adult(?=$|[_.-])/i;

/** The `child` / `adult` token of an id, if it has exactly one kind. */
export function groupFromId(id: string): AgeGroup | undefined {
  const child = CHILD_TOKEN.test(id);
  const adult = ADULT_TOKEN.test(id);
  if (child === adult) return undefined;
  return child ? 'child' : 'adult';
}

function parseGender(v: unknown): Gender | undefined | null {
  if (v === 1 || v === '1') return 'male';
  if (v === 0 || v === '0') return 'female';
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'male' || s === 'm') return 'male';
    if (s === 'female' || s === 'f') return 'female';
  }
  return null; // present but not understood
}

function parseAge(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > MAX_AGE) return null;
  return n;
}

function parseRectangle(v: unknown): FaceRectangle | null {
  if (!isObject(v)) return null;
  const out: Partial<FaceRectangle> = {};
  for (const k of ['top', 'left', 'width', 'height'] as const) {
    const n = v[k];
    if (typeof n !== 'number' || !Number.isFinite(n)) return null;
    out[k] = n;
  }
  if (out.width! <= 0 || out.height! <= 0) return null;
  return out as FaceRectangle;
}

/** The Face++ attribute object of a record, wherever it sits. */
function facePlusPlus(rec: Json): { attributes?: Json; rectangle?: { path: string; value: unknown } } {
  const fpp = isObject(rec.faceplusplus) ? rec.faceplusplus : undefined;
  const attributes = isObject(rec.attributes) ? rec.attributes : fpp && isObject(fpp.attributes) ? fpp.attributes : undefined;
  const candidates: [string, unknown][] = [
    ['face_rectangle', rec.face_rectangle],
    ['faceplusplus.face_rectangle', fpp?.face_rectangle],
    ['attributes.face_rectangle', isObject(rec.attributes) ? rec.attributes.face_rectangle : undefined],
    ['faceplusplus.attributes.face_rectangle', fpp && isObject(fpp.attributes) ? fpp.attributes.face_rectangle : undefined],
  ];
  const found = candidates.find(([, v]) => v !== undefined && v !== null);
  return { attributes, rectangle: found ? { path: found[0], value: found[1] } : undefined };
}

function nested(obj: Json | undefined, key: string): unknown {
  const v = obj?.[key];
  return isObject(v) ? v.value : undefined;
}

/**
 * Resolve aliases and Face++ nesting of one data.json entry into an EcafRecord, or list every
 * rule it breaks. `key` is the object-form key, which is the id.
 */
export function normalizeRecord(raw: unknown, index: number, key?: string): Normalized {
  const issues: RecordIssue[] = [];
  if (!isObject(raw)) {
    return { ok: false, issues: [{ index, id: key, field: '(record)', message: 'must be a JSON object' }] };
  }
  let id: string | undefined;
  let idField = 'id';
  if (key !== undefined) {
    id = key;
    idField = '(key)';
  } else {
    const f = firstField(raw, ID_FIELDS);
    if (!f) {
      issues.push({ index, field: 'id', message: 'missing (give "id", "name" or "filename")' });
    } else if (typeof f.value !== 'string') {
      issues.push({ index, field: f.name, message: 'must be a string' });
    } else {
      idField = f.name;
      id = f.name === 'filename' ? f.value.replace(/\.[A-Za-z0-9]+$/, '') : f.value;
    }
  }
  if (id !== undefined) {
    const problem = idProblem(id);
    if (problem) issues.push({ index, id, field: idField, message: problem });
  }

  let imageUrl: string | undefined;
  const urlField = firstField(raw, IMAGE_URL_FIELDS);
  if (!urlField) {
    issues.push({ index, id, field: 'image_url', message: 'missing (give "image_url", "imageUrl", "img_url" or "url")' });
  } else if (typeof urlField.value !== 'string') {
    issues.push({ index, id, field: urlField.name, message: 'must be a string' });
  } else {
    const problem = urlProblem(urlField.value);
    if (problem) issues.push({ index, id, field: urlField.name, message: problem });
    else imageUrl = urlField.value;
  }

  const sourceField = firstField(raw, SOURCE_URL_FIELDS);
  let sourceUrl: string | undefined;
  if (sourceField) {
    if (typeof sourceField.value !== 'string') issues.push({ index, id, field: sourceField.name, message: 'must be a string' });
    else sourceUrl = sourceField.value;
  }

  let identity: string | undefined;
  const identityField = firstField(raw, IDENTITY_FIELDS);
  if (identityField) {
    if (typeof identityField.value !== 'string' || identityField.value.trim() === '') {
      issues.push({ index, id, field: identityField.name, message: 'must be a non-empty string' });
    } else identity = identityField.value.trim();
  }

  const fpp = facePlusPlus(raw);
  let age: number | undefined;
  const ageSource: [string, unknown] | undefined =
    raw.age !== undefined && raw.age !== null
      ? ['age', raw.age]
      : nested(fpp.attributes, 'age') !== undefined
        ? [isObject(raw.attributes) ? 'attributes.age.value' : 'faceplusplus.attributes.age.value', nested(fpp.attributes, 'age')]
        : undefined;
  if (ageSource) {
    const a = parseAge(ageSource[1]);
    if (a === null) issues.push({ index, id, field: ageSource[0], message: `must be a number of years in 0..${MAX_AGE}, got ${JSON.stringify(ageSource[1])}` });
    else age = a;
  }

  let gender: Gender | undefined;
  const genderSource: [string, unknown] | undefined =
    raw.gender !== undefined && raw.gender !== null
      ? ['gender', raw.gender]
      : nested(fpp.attributes, 'gender') !== undefined
        ? [isObject(raw.attributes) ? 'attributes.gender.value' : 'faceplusplus.attributes.gender.value', nested(fpp.attributes, 'gender')]
        : undefined;
  if (genderSource) {
    const g = parseGender(genderSource[1]);
    if (g === null) issues.push({ index, id, field: genderSource[0], message: `must be male/female/m/f/1/0 (1 = male), got ${JSON.stringify(genderSource[1])}` });
    else gender = g;
  }

  let group: AgeGroup | undefined;
  if (raw.group !== undefined && raw.group !== null) {
    const g = typeof raw.group === 'string' ? raw.group.trim().toLowerCase() : '';
    if (g === 'child' || g === 'adult') group = g;
    else issues.push({ index, id, field: 'group', message: `must be "child" or "adult", got ${JSON.stringify(raw.group)}` });
  } else if (id !== undefined) {
    group = groupFromId(id);
  }

  let faceRectangle: FaceRectangle | undefined;
  if (fpp.rectangle) {
    const r = parseRectangle(fpp.rectangle.value);
    if (r === null) issues.push({ index, id, field: fpp.rectangle.path, message: 'must be {top, left, width, height} with numbers, width and height > 0' });
    else faceRectangle = r;
  }

  if (issues.length > 0 || id === undefined || imageUrl === undefined) return { ok: false, issues };
  const record: EcafRecord = { index, id, imageUrl, identity: identity ?? identityFromId(id) };
  if (sourceUrl !== undefined) record.sourceUrl = sourceUrl;
  if (age !== undefined) record.age = age;
  if (gender !== undefined) record.gender = gender;
  if (group !== undefined) record.group = group;
  if (faceRectangle !== undefined) record.faceRectangle = faceRectangle;
  return { ok: true, record };
}

/** Why `url` cannot be crawled, or undefined. */
export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a valid URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `scheme "${parsed.protocol.replace(/:$/, '')}" is not allowed: only http and https URLs are crawled`;
  }
  return undefined;
}
