/**
 * Geometry of the contact sheet, pure so tests pin it: a header, then a grid of cells, each
 * cell an FFHQ tile and an MTCNN tile side by side with two text lines under them.
 */
export interface SheetGeometry {
  /** Side of one face tile in pixels. */
  tile: number;
  columns: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  /** Height of the header band above the grid. */
  header: number;
  width: number;
  height: number;
  /** Font size of the id line; the status line is a little smaller. */
  fontSize: number;
}

/** Space between the two tiles of a cell and around cells. */
export const TILE_GAP = 4;
export const CELL_MARGIN = 10;
/** Characters per pixel of DejaVu Sans at size 1 (average advance of ids: letters, digits, "_"). */
const CHAR_ADVANCE = 0.6;

export function sheetGeometry(cells: number, tile: number, columns: number): SheetGeometry {
  const cols = Math.max(1, Math.min(columns, cells));
  const rows = Math.max(1, Math.ceil(cells / cols));
  const fontSize = Math.max(10, Math.round(tile / 10));
  const cellWidth = 2 * tile + TILE_GAP + CELL_MARGIN;
  // two text lines under the tiles
  const cellHeight = tile + Math.round(fontSize * 2.8) + CELL_MARGIN;
  const header = Math.round(fontSize * 4.2);
  return {
    tile,
    columns: cols,
    rows,
    cellWidth,
    cellHeight,
    header,
    width: cols * cellWidth + CELL_MARGIN,
    height: header + rows * cellHeight + CELL_MARGIN,
    fontSize,
  };
}

/** Top-left corner of cell `i` (row-major). */
export function cellOrigin(g: SheetGeometry, i: number): { left: number; top: number } {
  const col = i % g.columns;
  const row = Math.floor(i / g.columns);
  return { left: CELL_MARGIN + col * g.cellWidth, top: g.header + row * g.cellHeight };
}

/** Cut a label to what fits in `width` pixels at `fontSize`, marking the cut with an ellipsis. */
export function fitLabel(text: string, width: number, fontSize: number): string {
  const max = Math.max(1, Math.floor(width / (fontSize * CHAR_ADVANCE)));
  if (text.length <= max) return text;
  // keep the end too: ids differ mostly in their last characters (…_adult_003)
  const tail = Math.ceil((max - 1) / 2);
  const head = max - 1 - tail;
  return `${text.slice(0, head)}…${text.slice(text.length - tail)}`;
}

/** Escape text for an SVG text node or attribute. */
export function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
