import { planSynthesis, renderedFileName, type SynthesisSettings } from '../../src/synthesis/plan.js';

const settings: SynthesisSettings = { checkpointSha256: 'abc', noise: 'stored', precision: 'fp32' };
const faces = [{ id: 'a', file: '/r/a.jpg' }, { id: 'b', file: '/r/b.jpg' }];

describe('synthesis plan', () => {
  it('renders only the groups a face lacks, and keeps a finished one', () => {
    const done = new Set([renderedFileName('a', 0), renderedFileName('a', 6), renderedFileName('b', 0)]);
    const tasks = planSynthesis({ faces, groups: [0, 6], settings, previous: settings, done });
    expect(tasks.map((t) => [t.id, t.render, t.redone])).toEqual([['a', [], false], ['b', [6], false]]);
  });

  it('renders everything again when the folder was made with other settings (checkpoint, noise, seed or precision)', () => {
    const done = new Set([renderedFileName('a', 0), renderedFileName('b', 0)]);
    for (const previous of [{ ...settings, checkpointSha256: 'other' }, { ...settings, noise: 'random' as const, seed: 1 }, { ...settings, precision: 'fp16' as const }]) {
      expect(planSynthesis({ faces, groups: [0], settings, previous, done }).map((t) => [t.render, t.redone])).toEqual([[[0], true], [[0], true]]);
    }
    const seeded = { ...settings, noise: 'random' as const, seed: 1 };
    expect(planSynthesis({ faces, groups: [0], settings: seeded, previous: { ...seeded, seed: 2 }, done })[0]!.redone).toBe(true);
    expect(planSynthesis({ faces, groups: [0], settings: seeded, previous: seeded, done })[0]!.render).toEqual([]);
  });
});
