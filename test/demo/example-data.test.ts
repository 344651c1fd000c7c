import { readFile } from 'node:fs/promises';
import { loadDataJson } from '../../src/dataset/load.js';
import { packageFile } from '../../src/util/paths.js';

/** Every field name docs/formats.md's data.json table accepts, as a dotted path into a record. */
const ACCEPTED = [
  'id', 'name', 'filename',
  'image_url', 'imageUrl', 'img_url', 'url',
  'source_url', 'sourceUrl', 'page_url',
  'identity', 'person', 'celebrity',
  'age', 'attributes.age.value', 'faceplusplus.attributes.age.value',
  'gender', 'attributes.gender.value', 'faceplusplus.attributes.gender.value',
  'group',
  'face_rectangle', 'faceplusplus.face_rectangle', 'attributes.face_rectangle',
];

function paths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [prefix + k, ...paths(v, `${prefix}${k}.`)]);
}

describe('data/example-data.json', () => {
  it('loads, and shows every accepted field name and every gender spelling', async () => {
    const file = packageFile('data/example-data.json');
    const { records } = await loadDataJson(file);
    expect(records).toHaveLength(6);
    const raw = JSON.parse(await readFile(file, 'utf8')) as unknown[];
    const used = new Set(raw.flatMap((r) => paths(r)));
    expect(ACCEPTED.filter((p) => !used.has(p))).toEqual([]);
    const genders = new Set(raw.map((r) => JSON.stringify((r as { gender?: unknown }).gender)));
    for (const g of ['"f"', '1', '"male"', '0']) expect(genders).toContain(g);
    // the id token and the group both classify; a top-level age wins over Face++'s
    expect(records.find((r) => r.id === 'John_Doe_adult_001')).toMatchObject({ age: 45, identity: 'John_Doe', group: 'adult' });
    expect(records.find((r) => r.id === 'Jane_Roe_adult_002')).toMatchObject({ identity: 'Jane_Roe', gender: 'female' });
    expect(records.find((r) => r.id === 'Mary_Major_2')).toMatchObject({ identity: 'Mary_Major', gender: 'female', age: 27.5 });
  });

  it('has an object-form twin that reads to the same records', async () => {
    const { records } = await loadDataJson(packageFile('data/example-data-object-form.json'));
    const { records: arrayForm } = await loadDataJson(packageFile('data/example-data.json'));
    expect(records[0]).toEqual(arrayForm[0]);
    expect(records.map((r) => r.id)).toEqual(['Jane_Roe_child_001', 'Jane_Roe_adult_001', 'John_Doe_child_001']);
    expect(records[2]).toMatchObject({ gender: 'male', group: 'child' });
  });
});
