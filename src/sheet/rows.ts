/** A sheet of rows of faces, each row labelled, columns optionally labelled: synthesize's sheet.png (input then age groups), audit's flagged groups. */
import sharp from 'sharp';
import { loadFace } from '../models/preprocess.js';
import { fitLabel, xmlEscape } from './layout.js';
import { writeFileAtomic } from '../util/atomic.js';

const TILE = 112;
const GAP = 4;
const MARGIN = 10;
const LABEL = 20;
const ID_WIDTH = 180;
const BACKGROUND = { r: 32, g: 33, b: 36 };
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
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
  const canvas = Buffer.alloc(width * height * 3);
  for (let i = 0; i < canvas.length; i += 3) [canvas[i], canvas[i + 1], canvas[i + 2]] = [BACKGROUND.r, BACKGROUND.g, BACKGROUND.b];
  const left = (c: number) => MARGIN + ID_WIDTH + c * (TILE + GAP);
  for (let r = 0; r < shown.length; r++) {
    const files = shown[r]!.files;
    for (let c = 0; c < files.length; c++) {
      const img = await loadFace(files[c]!, TILE);
      const y0 = top + r * (TILE + GAP);
      for (let y = 0; y < TILE; y++) img.data.copy(canvas, ((y0 + y) * width + left(c)) * 3, y * TILE * 3, (y + 1) * TILE * 3);
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
  const png = await sharp(canvas, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(parts.join('\n')), left: 0, top: 0 }])
    .png({ compressionLevel: 6 })
    .toBuffer();
  await writeFileAtomic(file, png);
  return { rows: shown.length };
}
