import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readAlignedIds } from '../../src/pairs/aligned-ids.js';
import { loadPairInputs } from '../../src/pairs/inputs.js';
import { tempDir } from '../helpers/tmp.js';
import { writeDataset } from './dataset.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('readAlignedIds', () => {
  it('keeps ids whose last complete line is ok, in compact and spaced JSON alike', async () => {
    const file = path.join(dir, 'landmarks.jsonl');
    const lines = [
      '{"id":"a","status":"ok","landmarks68":[[1,2]]}',
      '{"id":"b","status":"no_face"}',
      '{ "status": "ok", "id": "c" }', // not the compact form: parsed
      '{"id":"b","status":"ok","points5":[[1,2]]}',
      '{"id":"a","status":"decode_error"}',
      '',
      '{"id":"d","status":"ok","landmarks68":[[1,2],[3', // torn by a kill: not a state
    ];
    await writeFile(file, lines.join('\r\n'));
    expect([...(await readAlignedIds(file))].sort()).toEqual(['b', 'c']);
  });
});

describe('readAlignedIds: linear in the file whatever its JSON spacing', () => {
  // 100,000 lines (4.5 MB): the old reader searched the rest of its 1 MB chunk for every line not in
  // the compact form (about 2 minutes at this size, past the 30 s timeout); a linear one takes well under 1 s
  const N = 100_000;
  const line = (i: number): string => JSON.stringify({ id: `P${i}_0`, source: 'id', status: i % 3 === 0 ? 'no_face' : 'ok', points5: [[1.5, 2]] }).replace(/([:,])/g, '$1 ');
  const expected = Array.from({ length: N }, (_, i) => i)
    .filter((i) => i % 3 !== 0)
    .map((i) => `P${i}_0`)
    .sort();

  it('reads a log of 100,000 lines spaced like Python json.dumps writes them', async () => {
    const file = path.join(dir, 'landmarks.jsonl');
    await writeFile(file, Array.from({ length: N }, (_, i) => line(i)).join('\n') + '\n');
    expect([...(await readAlignedIds(file))].sort()).toEqual(expected);
  }, 30_000);

  it('reads lines longer than a read chunk (1 MB), and spacing around every colon', async () => {
    const file = path.join(dir, 'landmarks.jsonl');
    const long = JSON.stringify({ id: 'long', status: 'ok', landmarks68: Array.from({ length: 300_000 }, (_, i) => [i, i]) });
    await writeFile(file, [long, '{ "id" :\t"x" , "status" : "ok" }', '{"note": "id", "id": "y", "status": "ok"}', long.replace('"ok"', '"no_face"').replace('"long"', '"z"')].join('\n'));
    expect([...(await readAlignedIds(file))].sort()).toEqual(['long', 'x', 'y']);
  });
});

describe('loadPairInputs', () => {
  it('numbers images by identity name, then id, whatever the order of data.json', async () => {
    await writeDataset(
      dir,
      [
        { id: 'z_2', identity: 'Zed', age: 40, gender: 'male' },
        { id: 'a_9', identity: 'Ann', group: 'child' },
        { id: 'z_1', identity: 'Zed', age: 4.5 },
        { id: 'a_10', identity: 'Ann', gender: 'female' },
        { id: 'gone', identity: 'Ann' },
        { id: 'b_1', identity: 'Bob', age: 30 }, // Bob has no aligned photo: no identity either
      ],
      ['gone', 'b_1'],
    );
    const inp = await loadPairInputs(dir);
    expect(inp.identities).toEqual(['Ann', 'Zed']);
    expect(inp.ids).toEqual(['a_10', 'a_9', 'z_1', 'z_2']);
    expect([...inp.start]).toEqual([0, 2, 4]);
    expect([...inp.identity]).toEqual([0, 0, 1, 1]);
    expect([...inp.age]).toEqual([NaN, NaN, 4.5, 40]);
    expect([...inp.gender]).toEqual([2, 0, 0, 1]);
    expect([...inp.group]).toEqual([0, 1, 0, 0]);
    expect([inp.records, inp.aligned]).toEqual([6, 4]);
    expect([...inp.personGender]).toEqual([2, 1]); // Ann: one female photo, one unknown; Zed: one male
  });

  it('refuses invalid records unless skipInvalid', async () => {
    await writeDataset(dir, [{ id: 'ok_1' }, { id: 'bad/1' }]);
    await expect(loadPairInputs(dir)).rejects.toThrow(/record 1 \(id "bad\/1"\): field "id"/);
    expect((await loadPairInputs(dir, { skipInvalid: true })).ids).toEqual(['ok_1']);
  });

  it('reads many records through the worker in batches, keeping file order per identity', async () => {
    const n = 40000; // more than one batch of ids sent to the landmarks worker
    const recs = Array.from({ length: n }, (_, i) => ({ id: `p${String(i % 997).padStart(4, '0')}_${String(i).padStart(6, '0')}` }));
    const failed = recs.filter((_, i) => i % 3 === 0).map((r) => r.id);
    const gone = new Set(failed);
    await writeDataset(dir, recs, failed);
    const inp = await loadPairInputs(dir);
    const expected = recs.map((r) => r.id).filter((id) => !gone.has(id)).sort();
    expect(inp.aligned).toBe(expected.length);
    expect(inp.ids).toEqual(expected);
  });
});
