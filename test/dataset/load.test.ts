import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadDataJson, DataJsonError, validateDataJson } from '../../src/dataset/load.js';
import { identityFromId, groupFromId, normalizeRecord } from '../../src/dataset/normalize.js';
import { UsageError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

async function write(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('normalizeRecord', () => {
  it('resolves aliases, Face++ nesting and the derived identity', () => {
    const r = normalizeRecord(
      {
        filename: 'Aaron_Ashmore_adult_001.jpg',
        imageUrl: 'https://example.org/a.jpg',
        page_url: 'https://example.org/page',
        faceplusplus: { attributes: { age: { value: 34 }, gender: { value: 'Male' } }, face_rectangle: { top: 10, left: 20, width: 30, height: 40 } },
        extra: 'kept and ignored',
      },
      7,
    );
    expect(r).toEqual({
      ok: true,
      record: {
        index: 7,
        id: 'Aaron_Ashmore_adult_001',
        imageUrl: 'https://example.org/a.jpg',
        sourceUrl: 'https://example.org/page',
        identity: 'Aaron_Ashmore',
        age: 34,
        gender: 'male',
        group: 'adult',
        faceRectangle: { top: 10, left: 20, width: 30, height: 40 },
      },
    });
  });

  it('takes the object key as id and the top-level fields first', () => {
    const r = normalizeRecord({ url: 'http://h/x.png', age: 8, gender: 0, person: 'Jane Doe', attributes: { age: { value: 50 } } }, 0, 'jd_child_3');
    expect(r.ok && r.record).toMatchObject({ id: 'jd_child_3', age: 8, gender: 'female', identity: 'Jane Doe', group: 'child' });
  });

  it('names every broken field', () => {
    const r = normalizeRecord({ id: 'x/../y', image_url: 'file:///etc/passwd', gender: 'robot', age: -3, group: 'teen', face_rectangle: { top: 1 } }, 4);
    expect(r.ok).toBe(false);
    const fields = r.ok ? [] : r.issues.map((i) => i.field);
    expect(fields).toEqual(['id', 'image_url', 'age', 'gender', 'group', 'face_rectangle']);
  });

  it('derives identity and group from ids', () => {
    expect(identityFromId('Aaron_Ashmore_adult_001')).toBe('Aaron_Ashmore');
    expect(identityFromId('Jane_Doe_0003')).toBe('Jane_Doe');
    expect(identityFromId('solo')).toBe('solo');
    expect(groupFromId('Aaron_Ashmore_child_002')).toBe('child');
    expect(groupFromId('childish_adultery')).toBeUndefined();
  });
});

describe('loadDataJson', () => {
  it('reads the array and the object form alike', async () => {
    const a = await write('a.json', JSON.stringify([{ id: 'p_1', url: 'http://h/1.jpg' }, { id: 'p_2', url: 'http://h/2.jpg' }]));
    const o = await write('o.json', JSON.stringify({ p_1: { url: 'http://h/1.jpg' }, p_2: { url: 'http://h/2.jpg' } }, null, 2));
    const fromArray = (await loadDataJson(a)).records.map((r) => [r.id, r.identity]);
    const fromObject = (await loadDataJson(o)).records.map((r) => [r.id, r.identity]);
    expect(fromArray).toEqual([['p_1', 'p'], ['p_2', 'p']]);
    expect(fromObject).toEqual(fromArray);
  });

  it('refuses the whole file on one bad record, naming index, id and field', async () => {
    const f = await write('d.json', JSON.stringify([{ id: 'ok_1', url: 'http://h/1' }, { id: 'ok_1', url: 'http://h/2' }, { id: 'z' }]));
    await expect(loadDataJson(f)).rejects.toThrow(DataJsonError);
    await expect(loadDataJson(f)).rejects.toThrow(/record 1 \(id "ok_1"\): field "id": duplicate id \(first used by record 0\)/);
    await expect(loadDataJson(f)).rejects.toThrow(/record 2 \(id "z"\): field "image_url": missing/);
    const { records, summary } = await loadDataJson(f, { skipInvalid: true });
    expect(records.map((r) => r.id)).toEqual(['ok_1']);
    expect(summary).toMatchObject({ total: 3, valid: 1, invalidCount: 2 });
  });

  it('refuses ids that differ only in case (their files collide on macOS and Windows), naming both records', async () => {
    const f = await write('c.json', JSON.stringify([{ id: 'Ann_Lee_1', url: 'http://h/1' }, { id: 'b_1', url: 'http://h/2' }, { id: 'ann_lee_1', url: 'http://h/3' }]));
    await expect(loadDataJson(f)).rejects.toThrow(
      /record 2 \(id "ann_lee_1"\): field "id": differs only in case from the id "Ann_Lee_1" of record 0 \(their files would collide on macOS and Windows\)/,
    );
    const { records, summary } = await loadDataJson(f, { skipInvalid: true });
    expect(records.map((r) => r.id)).toEqual(['Ann_Lee_1', 'b_1']);
    expect(summary).toMatchObject({ total: 3, valid: 2, invalidCount: 1 });
  });

  it('warns about a file with no records, in either form', async () => {
    for (const text of ['[]', '{ }']) {
      const f = await write('empty.json', text);
      const summary = await validateDataJson(f);
      expect(summary).toMatchObject({ total: 0, invalidCount: 0, warnings: [`${f}: holds no records (an empty array or object): there is nothing to crawl, align or pair`] });
    }
    expect((await validateDataJson(await write('one.json', '[{"id": "a", "url": "http://h/a"}]'))).warnings).toEqual([]);
  });

  it('gives line and column of a syntax error, inside and between records', async () => {
    const inside = await write('i.json', '[\n  {"id": "a", "url": "http://h/a"},\n  {"id": "b", "url": tru}\n]');
    await expect(validateDataJson(inside)).rejects.toThrow(/line 3, column 22/);
    const between = await write('b.json', '[{"id": "a", "url": "http://h/a"}\n {"id": "b"}]');
    await expect(validateDataJson(between)).rejects.toThrow(/line 2, column 2: expected ',' or ']'/);
    const truncated = await write('t.json', '[{"id": "a", "url": "http://h/a"},');
    await expect(validateDataJson(truncated)).rejects.toThrow(/unexpected end of file/);
    await expect(validateDataJson(truncated)).rejects.toBeInstanceOf(UsageError);
  });

  it('streams records that span read chunks', async () => {
    const long = 'x'.repeat(3 << 20); // one field longer than the 1 MB read size
    const f = await write('big.json', JSON.stringify([{ id: 'big_1', url: 'http://h/1', note: long }, 5, { id: 'big_2', url: 'http://h/2' }]));
    const { records, summary } = await loadDataJson(f, { skipInvalid: true });
    expect(records.map((r) => r.id)).toEqual(['big_1', 'big_2']);
    expect(summary.issues).toEqual([{ index: 1, id: undefined, field: '(record)', message: 'must be a JSON object' }]);
  });

  it('says where to put data.json when it is missing', async () => {
    await expect(loadDataJson(path.join(dir, 'none.json'))).rejects.toThrow(/none\.json: expected a records file \(image_data\/data\.json of the dataset root\), found nothing there/);
  });
});

describe('streamTopLevel at read-chunk boundaries', () => {
  const CHUNK = 1 << 20;
  // backslashes and escaped quotes placed across the 1 MB read boundary at every alignment
  it.each([-4, -3, -2, -1, 0, 1, 2, 3])('keeps escapes intact when the boundary falls at %i', async (shift) => {
    const tricky = 'a\\"b\\\\"c\\\\\\"d';
    const head = '[{"id": "pad_1", "url": "http://h/p", "pad": "';
    const padLen = CHUNK + shift - head.length - 3;
    const text = `${head}${'x'.repeat(padLen)}"}, {"id": "t_1", "url": "http://h/t", "note": "${tricky.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"}]`;
    const f = await write(`c${shift}.json`, text);
    const { records, summary } = await loadDataJson(f);
    expect(records.map((r) => r.id)).toEqual(['pad_1', 't_1']);
    expect(summary.total).toBe(2);
    const o = await write(`o${shift}.json`, `{"k\\\\_${'y'.repeat(CHUNK + shift - 8)}\\"": {"url": "http://h/k"}, "t_2": {"url": "http://h/t"}}`);
    await expect(validateDataJson(o)).resolves.toMatchObject({ total: 2 });
  });

  it('places an error after a long record on the right line and column', async () => {
    const f = await write('late.json', `[\n{"id": "a_1", "url": "http://h/a", "pad": "${'é'.repeat(CHUNK)}"},\n  {"id": "b_1" "url": "x"}\n]`);
    await expect(validateDataJson(f)).rejects.toThrow(/line 3, column 16: expected ',' or '}'/);
  });
});
