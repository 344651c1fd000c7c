import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runSynthesis, type SynthesisOptions } from '../../src/synthesis/index.js';
import { makeRoot } from '../benchmark/fixtures.js';
import { runEcaf } from '../helpers/cli.js';
import { synthesisCheckpoint } from '../torch/synthesis-helpers.js';
import { makeCheckpoint, withTorch } from '../torch/torch-helpers.js';

// the narrow checkpoint of test/torch/synthesis.test.ts (every key of the released one, made once per run) renders fast on 2 cores;
// the same request giving the same bytes twice is test/torch/synthesis.test.ts's
withTorch('ecaf synthesize with a random-weight checkpoint', () => {
  let dir: string;
  let root: string;
  let ckpt: string;
  let recognitionOnly: string;
  const base = (): SynthesisOptions => ({ root, model: ckpt, ids: path.join(root, 'ids.txt'), groups: [0, 3, 6], device: 'cpu', progress: false, log: () => undefined });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-synth-'));
    root = path.join(dir, 'root');
    await makeRoot(root);
    await fs.writeFile(path.join(root, 'ids.txt'), '# three of the sixteen\nP0_child_1\nP1_adult_2.jpg\n\nP2_adult_1\n');
    ckpt = synthesisCheckpoint(dir);
    recognitionOnly = await makeCheckpoint(path.join(dir, 'recognition.pth'), ['--age-head']);
  }, 120_000);
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('renders each face at each group as a 112x112 PNG, scores it, and a rerun keeps every byte', async () => {
    const run = await runSynthesis({ ...base(), selfJudge: false });
    expect(run.outcomes).toEqual({ rendered: 3, kept: 0, missing: 0, dropped: 0 });
    const faces = path.join(run.dir, 'faces');
    const names = (await fs.readdir(faces)).filter((n) => n.endsWith('.png')).sort();
    expect(names).toEqual(['P0_child_1_g0.png', 'P0_child_1_g3.png', 'P0_child_1_g6.png', 'P1_adult_2_g0.png', 'P1_adult_2_g3.png', 'P1_adult_2_g6.png', 'P2_adult_1_g0.png', 'P2_adult_1_g3.png', 'P2_adult_1_g6.png']);
    const meta = await sharp(path.join(faces, names[0]!)).metadata();
    expect([meta.width, meta.height, meta.channels, meta.format]).toEqual([112, 112, 3, 'png']);
    const report = JSON.parse(await fs.readFile(path.join(run.dir, 'synthesis.json'), 'utf8'));
    expect(report.faces).toBe(3);
    expect(report.settings).toMatchObject({ noise: 'stored', groups: [0, 3, 6], precision: 'fp32' });
    expect(report.judges.map((j: { model: string; self: boolean }) => [j.model, j.self])).toEqual([['builtin', false]]);
    expect(report.judges[0].scores.groups).toHaveLength(3);
    expect(report.judges[0].scores.threshold.impostorPairs).toBe(3);
    const md = await fs.readFile(path.join(run.dir, 'synthesis.md'), 'utf8');
    expect(md).toContain('| 61+ |');
    const sheet = await sharp(path.join(run.dir, 'sheet.png')).metadata();
    expect(sheet.height).toBeGreaterThan(3 * 112);

    const before = await Promise.all(names.map((n) => fs.readFile(path.join(faces, n))));
    await Promise.all(names.slice(0, 2).map((n) => fs.rm(path.join(faces, n))));
    const again = await runSynthesis({ ...base(), selfJudge: false });
    // two PNGs of the first face were removed: it is rendered again (alone, in a batch of its own), the others kept
    expect(again.outcomes).toEqual({ rendered: 1, kept: 2, missing: 0, dropped: 0 });
    const after = await Promise.all(names.map((n) => fs.readFile(path.join(faces, n))));
    after.slice(2).forEach((b, i) => expect(b.equals(before[i + 2]!)).toBe(true));
    // stored noise: the same pixels, up to the last bit of PyTorch's batch-dependent summation order
    for (let i = 0; i < 2; i++) {
      const [x, y] = await Promise.all([before[i]!, after[i]!].map((b) => sharp(b).raw().toBuffer()));
      let worst = 0;
      for (let p = 0; p < x!.length; p++) worst = Math.max(worst, Math.abs(x![p]! - y![p]!));
      expect(worst).toBeLessThanOrEqual(1);
    }
  }, 180_000);

  it('random noise: another seed renders every face again, differently', async () => {
    const out = path.join(dir, 'random');
    const ids = path.join(dir, 'one.txt');
    await fs.writeFile(ids, 'P0_child_1\n');
    const first = await runSynthesis({ ...base(), ids, out, groups: [6], noise: 'random', seed: 1, selfJudge: false });
    expect(first.outcomes.rendered).toBe(1);
    const a = await fs.readFile(path.join(out, 'faces', 'P0_child_1_g6.png'));
    const second = await runSynthesis({ ...base(), ids, out, groups: [6], noise: 'random', seed: 2, selfJudge: false });
    expect(second.outcomes).toMatchObject({ rendered: 1, kept: 0 });
    expect((await fs.readFile(path.join(out, 'faces', 'P0_child_1_g6.png'))).equals(a)).toBe(false);
  }, 180_000);

  it('the CLI refuses a checkpoint without the synthesis parts (exit 2, naming what is missing)', async () => {
    const r = await runEcaf('synthesize', '--root', root, '--model', recognitionOnly, '--ids', path.join(root, 'ids.txt'), '--device', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/decoder\./);
  }, 120_000);
});
