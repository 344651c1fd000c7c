/** Which faces a synthesis run renders, from what is on disk: pure, so tests pin it. */
import type { StageTask } from '../stage.js';

/** One input face: its id (the output names), and its aligned file. */
export interface SynthesisFace {
  id: string;
  file: string;
}

/** What a run renders and how: the settings every face of a folder is rendered with. */
export interface SynthesisSettings {
  checkpointSha256: string;
  noise: 'stored' | 'random';
  /** With random noise. */
  seed?: number;
  precision: 'fp16' | 'fp32';
}

export interface SynthesisInput {
  faces: SynthesisFace[];
  groups: readonly number[];
  settings: SynthesisSettings;
  /** The settings the faces already in the folder were rendered with (undefined: none there). */
  previous?: SynthesisSettings;
  /** Output file names already in faces/. */
  done: ReadonlySet<string>;
}

export interface SynthesisTask extends StageTask {
  face: SynthesisFace;
  /** Groups to render (ascending); empty when every requested one is there. */
  render: number[];
  /** The folder's faces were made with other settings: everything is rendered again. */
  redone: boolean;
}

/** `faces/<id>_g<k>.png`: the face rendered for age group k. */
export const renderedFileName = (id: string, group: number): string => `${id}_g${group}.png`;

export function sameSettings(a: SynthesisSettings, b: SynthesisSettings): boolean {
  return a.checkpointSha256 === b.checkpointSha256 && a.noise === b.noise && (a.noise === 'stored' || a.seed === b.seed) && a.precision === b.precision;
}

export function planSynthesis(input: SynthesisInput): SynthesisTask[] {
  const changed = input.previous !== undefined && !sameSettings(input.previous, input.settings);
  return input.faces.map((face) => ({
    id: face.id,
    face,
    render: changed ? [...input.groups] : input.groups.filter((g) => !input.done.has(renderedFileName(face.id, g))),
    redone: changed,
  }));
}
