/** A sheet of rows of faces, each row labelled, columns optionally labelled: synthesize's sheet.png (input then age groups), audit's flagged groups. */
import { loadFace } from '../models/preprocess.js';
import { blankCanvas, blit, FONT, writeSheetPng } from './canvas.js';
import { fitLabel, xmlEscape } from './layout.js';

const TILE = 112;
const GAP = 4;
const MARGIN = 10;
const LABEL = 20;
const ID_WIDTH = 180;
/** Rows drawn at most: a sheet is for looking at, the JSON beside it holds everything. */
export const SHEET_ROWS = 64;

export interface SheetRow {
  label: string;
  files: readonly string[];
}

/** Rows of 112-px tiles under a title and (when given) a label per column; the first SHEET_ROWS rows. */
export async function drawRowSheet(file: string, rows: readonly SheetRow[], title: string, columnLabels: readonly string[] = []): Promise<{ rows: number }> {
  const shown = rows.slice(0, SHEET_ROWS);
  const columns = Math.max(1, columnLabels.length, ...shown.map((r) => r.files.length));
  const width = MARGIN * 2 + ID_WIDTH + columns * (TILE + GAP);
  const top = MARGIN + 2 * LABEL;
  const height = top + shown.length * (TILE + GAP) + MARGIN;
  const canvas = blankCanvas(width, height);
  const left = (c: number) => MARGIN + ID_WIDTH + c * (TILE + GAP);
  for (let r = 0; r < shown.length; r++) {
    const files = shown[r]!.files;
    for (let c = 0; c < files.length; c++) {
      blit(canvas, width, (await loadFace(files[c]!, TILE)).data, TILE, left(c), top + r * (TILE + GAP));
    }
  }
  const text = (x: number, y: number, s: string, size: number, fill: string, anchor = 'start') =>
    `<text x="${x}" y="${y}" font-size="${size}" fill="${fill}" text-anchor="${anchor}">${xmlEscape(s)}</text>`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="${FONT}">`,
    text(MARGIN, MARGIN + 14, fitLabel(title, width - 2 * MARGIN, 14), 14, '#f1f3f4'),
    ...columnLabels.map((l, c) => text(left(c) + TILE / 2, MARGIN + LABEL + 14, fitLabel(l, TILE, 13), 13, '#e8eaed', 'middle')),
    ...shown.map((row, r) => text(MARGIN, top + r * (TILE + GAP) + TILE / 2, fitLabel(row.label, ID_WIDTH - 8, 12), 12, '#e8eaed')),
    '</g></svg>',
  ];
  await writeSheetPng(file, canvas, width, height, parts.join('\n'));
  return { rows: shown.length };
}
