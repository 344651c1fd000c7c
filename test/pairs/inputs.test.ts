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
