/** A judge (a recogniser with an age estimate) run over the input faces and their renderings, through the embed pipeline and its cache. */
import { embedImages, type ImageToEmbed } from '../models/embed-pipeline.js';
import type { Embedder } from '../models/embedder.js';
import { readEstimate } from '../models/estimates.js';
import type { JudgeOutputs } from './scores.js';

export interface JudgeRun {
  inputs: readonly ImageToEmbed[];
  /** Per input, per group: the rendered face's file. */
  rendered: readonly (readonly ImageToEmbed[])[];
  cacheRoot: string;
  signal?: AbortSignal;
  progress?: boolean;
}

/** What `judge` says of every face; `interrupted` when the signal stopped it (what is done stays cached). */
export async function judgeFaces(judge: Embedder, r: JudgeRun): Promise<{ outputs: JudgeOutputs; interrupted: boolean }> {
  const images = [...r.inputs, ...r.rendered.flat()];
  const e = await embedImages(judge, images, { flip: true, progress: r.progress, signal: r.signal, cacheRoot: r.cacheRoot });
  const ageAt = (i: number) => {
    const row = e.estimates?.[i];
    return row ? readEstimate(row).age : Number.NaN;
  };
  const n = r.inputs.length;
  let at = n;
  const rendered: (Float32Array | undefined)[][] = [];
  const renderedAge: Float64Array[] = [];
  for (const faces of r.rendered) {
    rendered.push(faces.map((_, k) => e.vectors[at + k]));
    renderedAge.push(Float64Array.from(faces, (_, k) => ageAt(at + k)));
    at += faces.length;
  }
  return {
    outputs: { input: e.vectors.slice(0, n), inputAge: Float64Array.from({ length: n }, (_, i) => ageAt(i)), rendered, renderedAge },
    interrupted: e.interrupted,
  };
}
