/** synthesis.json and synthesis.md: the settings, the checkpoint, and each judge's FAS scores with what they mean (pure, then one writer). */
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { SynthesisSettings } from './plan.js';
import type { SynthesisScores } from './scores.js';

export interface JudgeReport {
  /** builtin, the ONNX file, or the checkpoint itself. */
  model: string;
  /** The generator's own recogniser and age head judging its faces: not independent. */
  self: boolean;
  scores: SynthesisScores;
}

export interface SynthesisReport {
  tool: 'ecaf';
  version: string;
  date: string;
  model: { file: string; sha256: string; device: string; precision: string; details: Record<string, string | number> };
  settings: SynthesisSettings & { groups: number[] };
  faces: number;
  /** Faces whose input could not be read (missing or undecodable). */
  missing: string[];
  judges: JudgeReport[];
}

const f1 = (v: number | undefined | null) => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(1));
const f3 = (v: number | undefined | null) => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(3));
const pct = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(1)}%`);

function judgeSection(j: JudgeReport): string[] {
  const s = j.scores;
  const who = j.self ? `${j.model} (the model judging itself: its own embedding and age head, not an independent judge)` : `${j.model} (independent of the generator)`;
  const t = s.threshold;
  const lines = [
    `## Judge: ${who}`,
    '',
    '| group | rendered age (judge) | real faces of the group (judge) | cosine to input: mean (q1 / median / q3) | verified |',
    '|---|---|---|---|---|',
    ...s.groups.map((g) =>
      `| ${g.label} | ${g.rendered ? `${f1(g.rendered.mean)} ± ${f1(g.rendered.std)} (n=${g.rendered.n})` : '-'} | ${g.real ? `${f1(g.real.mean)} ± ${f1(g.real.std)} (n=${g.real.n})` : '-'} | ${g.cosine ? `${f3(g.cosine.mean)} (${f3(g.cosine.q1)} / ${f3(g.cosine.median)} / ${f3(g.cosine.q3)})` : '-'} | ${pct(g.verificationRate)} |`,
    ),
    '',
    t
      ? `Verified: cosine to the input above ${f3(t.value)}, the threshold at which ${t.impostorPairs} impostor pairs of the real inputs (different identities) pass at FAR ${t.far.toExponential(1)} (target ${t.farTarget.toExponential(0)}${t.far === 0 && t.impostorPairs < 1 / t.farTarget ? `; with fewer than ${Math.round(1 / t.farTarget)} impostor pairs the threshold is the highest impostor score, stricter than the target` : ''}).`
      : 'Verified: no threshold (fewer than two identities among the inputs, so no impostor pairs).',
    s.smoothness
      ? `Age smoothness: ${pct(s.smoothness.monotone)} of ${s.smoothness.faces} faces are judged older at every older group; mean Spearman rho of judged age against group ${f3(s.smoothness.spearman)}.`
      : 'Age smoothness: needs a judged age at two or more groups.',
    '',
  ];
  return lines;
}

export function synthesisMarkdown(r: SynthesisReport): string {
  const noise = r.settings.noise === 'stored' ? 'stored (the checkpoint\'s noise maps: the same pixels on every run and machine)' : `random, seed ${r.settings.seed} (reproducible per seed and face)`;
  return [
    `# Face age synthesis: ${r.model.file}`,
    '',
    `Checkpoint sha256 \`${r.model.sha256}\`; ${r.model.device}, ${r.model.precision}; noise ${noise}. ${r.faces} faces at groups ${r.settings.groups.join(', ')}${r.missing.length ? `; ${r.missing.length} inputs unreadable (${r.missing.slice(0, 5).join(', ')}${r.missing.length > 5 ? ', ...' : ''})` : ''}. Written by ecaf ${r.version} on ${r.date}.`,
    '',
    'What the scores mean, as the MTLFace paper scores face age synthesis (with Face++, a web API whose scores cannot be reproduced, as its judge; here open models):',
    '- *rendered age*: the judge\'s estimated age of the faces rendered for each group, beside its estimate of the real inputs whose data.json age falls in that group. Close numbers mean the faces look that age to this judge; a judge\'s own bias (face-api\'s age net compresses ages toward the middle) is in both columns alike.',
    '- *cosine to input* and *verified*: whether the judge\'s recogniser still sees the same person. A high rate with ages that do not move is a generator that changed nothing: read the two together.',
    '- *age smoothness*: whether the judged age rises group after group.',
    'They do not measure realism, and a judge trained on other data may fail on rendered faces in its own way. The model judging itself is shown apart and labelled: it is not evidence.',
    '',
    ...r.judges.flatMap(judgeSection),
  ].join('\n');
}

export async function writeSynthesisReport(dir: string, r: SynthesisReport): Promise<void> {
  await writeFileAtomic(path.join(dir, 'synthesis.md'), `${synthesisMarkdown(r)}\n`);
  // written last: its presence means the folder is complete
  await writeFileAtomic(path.join(dir, 'synthesis.json'), `${JSON.stringify(r, null, 2)}\n`);
}
