import { existsSync } from 'node:fs';
import type { LandmarksLine } from '../align/line.js';
import type { CrawlLine } from '../crawl/record.js';
import { datasetLayout, ffhqFile, mtcnnFile } from '../dataset/layout.js';
import { InputError } from '../util/errors.js';
import { readStageStates, stageLogFiles } from '../distribute/logs.js';


/** One cell of the sheet: an id and what its tiles show. */
export interface SheetEntry {
  id: string;
  /** `ok` or the failure status of landmarks.jsonl (no_face, decode_error, missing_image). */
  status: LandmarksLine['status'];
  /** Second text line: how the face was found, or why there is none. */
  detail: string;
  ffhq?: string;
  mtcnn?: string;
}

export type SheetFilter = 'all' | 'ok' | 'failed';

/**
 * The ids of landmarks.jsonl (last state of each, sorted by id), with the
 * crawl error of ids that have no image, so a failure says where it came from.
 */
export async function readSheetEntries(root: string, only: SheetFilter = 'all'): Promise<SheetEntry[]> {
  const layout = datasetLayout(root);
  if ((await stageLogFiles(layout, 'landmarks')).length === 0) {
    throw new InputError({ file: layout.landmarksLog, expected: 'the log of aligned images', found: 'nothing there' }, ['run:align']);
  }
  const marks = await readStageStates<LandmarksLine>(layout, 'landmarks');
  const crawled = await readStageStates<CrawlLine>(layout, 'crawl');
  const entries: SheetEntry[] = [];
  for (const state of marks.values()) {
    const ok = state.status === 'ok';
    if ((only === 'ok' && !ok) || (only === 'failed' && ok)) continue;
    const entry: SheetEntry = { id: state.id, status: state.status, detail: describeState(state, crawled.get(state.id)) };
    if (ok) {
      const ffhq = ffhqFile(layout, state.id);
      const mtcnn = mtcnnFile(layout, state.id);
      if (existsSync(ffhq)) entry.ffhq = ffhq;
      if (existsSync(mtcnn)) entry.mtcnn = mtcnn;
    }
    entries.push(entry);
  }
  // ids sort by identity first (Name_adult_001): each person's pictures side by side, in the same order every run
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function describeState(state: LandmarksLine, crawl: CrawlLine | undefined): string {
  if (state.status === 'ok') {
    const score = state.source === 'detector' && typeof state.score === 'number' ? ` ${state.score.toFixed(2)}` : '';
    return `${state.source}${score}`;
  }
  // the crawl's error code is shorter than align's sentence about it
  if (state.status === 'missing_image' && crawl && crawl.status !== 'ok') return `crawl ${crawl.status}: ${crawl.error ?? '?'}`;
  return state.error ?? state.status;
}
