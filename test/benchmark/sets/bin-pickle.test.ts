import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BinFormatError, parseBinSet } from '../../../src/benchmark/sets/bin-pickle.js';
import { describeWithPython } from '../../helpers/python.js';
import { tempDir } from '../../helpers/tmp.js';
import { writeBinVariants } from './bin-fixtures.js';

// Python writes the .bin files
const withPython = describeWithPython(['pickle', 'struct', 'json']);

withPython('parseBinSet on .bin files written by Python (pickle protocols 1, 2, 4, 5 and a Python 2 str pickle)', () => {
  // byte strings of every length class: short (< 256: SHORT_BINSTRING / SHORT_BINBYTES), long, and
  // one over 64 KiB (written outside protocol 4's frames); all bytes 0..255 so latin1 text is exercised
  const images = [randomBytes(100), randomBytes(3000), randomBytes(70_000), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(255), randomBytes(256)];
  for (let i = 0; i < 2400; i++) images.push(randomBytes(20 + (i % 50)));
  const labels = Array.from({ length: images.length / 2 }, (_, k) => k % 3 !== 0);
  let dir: string;
  let cleanup: () => Promise<void>;
  let files: Awaited<ReturnType<typeof writeBinVariants>>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    files = await writeBinVariants(dir, images, labels);
  });
  afterAll(() => cleanup());

  for (const variant of ['protocol1', 'protocol2', 'protocol4', 'protocol5', 'python2']) {
    it(`${variant}: every image byte for byte and every label`, async () => {
      const set = parseBinSet(await readFile(files[variant]!), files[variant]!);
      expect(set.same).toEqual(labels);
      expect(set.images.length).toBe(images.length);
      set.images.forEach((b, i) => expect(b.equals(images[i]!)).toBe(true));
    });
  }

  const refusals: [string, RegExp][] = [
    ['global', /refused global (posix|os)\.system/],
    ['dict', /opcode 0x7d/],
    ['odd', /3 images for 1 labels/],
    ['labels', /issame_list\[0\] is not a boolean/],
    ['truncated', /ends inside an opcode|stack is empty|no MARK/],
    ['text', /does not start like a pickle/],
  ];
  for (const [name, why] of refusals) {
    it(`refuses ${name} with a BinFormatError naming the file`, async () => {
      const file = files.refuse[name]!;
      let err: unknown;
      try {
        parseBinSet(await readFile(file), file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BinFormatError);
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toMatch(why);
    });
  }
});
