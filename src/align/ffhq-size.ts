import type { LandmarksLine } from './line.js';

/** img_ffhq's side as ECAF released it: the one published face (MTLFace's notebook) is a 512x512 FFHQ crop. */
export const FFHQ_RELEASE_SIZE = 512;
/** NVlabs' FFHQ default output side. */
export const FFHQ_NVLABS_SIZE = 1024;

/** Where a run's FFHQ side came from: asked for, kept from the faces the root already holds, or the default. */
export type FfhqSizeSource = 'option' | 'root' | 'default';

export interface FfhqSizeChoice {
  size: number;
  from: FfhqSizeSource;
  /** ok lines of the root by their ffhq_size, before this run (sizes as strings: JSON keys). */
  found: Record<string, number>;
}

/** The ok lines of the root by their ffhq_size (lines without one are not counted). */
export function ffhqSizesFound(previous: Iterable<LandmarksLine>): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of previous) {
    if (line.status === 'ok' && typeof line.ffhq_size === 'number') found[line.ffhq_size] = (found[line.ffhq_size] ?? 0) + 1;
  }
  return found;
}

/**
 * The FFHQ side of a run: the one asked for; else the size most of the root's aligned faces have
 * (a root made at 1024 stays at 1024: a rerun never mixes sizes silently); else the release's 512.
 */
export function chooseFfhqSize(requested: number | undefined, found: Record<string, number>): FfhqSizeChoice {
  if (requested !== undefined) return { size: requested, from: 'option', found };
  let size: number | undefined;
  for (const [s, n] of Object.entries(found)) if (size === undefined || n > found[size]! || (n === found[size] && Number(s) > size)) size = Number(s);
  return size === undefined ? { size: FFHQ_RELEASE_SIZE, from: 'default', found } : { size, from: 'root', found };
}
