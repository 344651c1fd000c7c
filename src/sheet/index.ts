import path from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { datasetLayout } from '../dataset/layout.js';
import { checkInt, InterruptedError } from '../util/errors.js';
import { Progress } from '../util/progress.js';
import { blankCanvas, blit, FONT, writeSheetPng } from './canvas.js';
import { readSheetEntries, type SheetEntry, type SheetFilter } from './entries.js';
import { cellOrigin, fitLabel, sheetGeometry, TILE_GAP, xmlEscape, type SheetGeometry } from './layout.js';

export { readSheetEntries, type SheetEntry, type SheetFilter } from './entries.js';
export { sheetGeometry, fitLabel, type SheetGeometry } from './layout.js';

export interface ContactSheetOptions {
  root: string;
  /** Output PNG; default `<root>/reports/contact-sheet.png`. */
  out?: string;
  /** Side of each face tile in pixels (default 112). */
  tile?: number;
  /** Cells per row (default 6). */
  columns?: number;
  /** Draw at most this many ids, in id order (default 300). */
  limit?: number;
  /** Which ids: all (default), only aligned ones, only failures. */
  only?: SheetFilter;
  /** Progress on stderr (a line on a TTY, a few lines when piped); false: none. */
  progress?: boolean;
  signal?: AbortSignal;
}

export interface ContactSheetResult {
  file: string;
  width: number;
  height: number;
  /** Ids drawn, and ids that matched `only` before `limit`. */
  shown: number;
  total: number;
  /** Ids drawn, by landmarks.jsonl status. */
  counts: Record<string, number>;
  /** False when no font could draw the ids (librsvg found none): the tiles are there, the labels are not. */
  labelsDrawn: boolean;
}

export const DEFAULT_SHEET_NAME = 'contact-sheet.png';

/** A PNG grid of aligned faces: FFHQ and MTCNN side by side per id, failures as red tiles naming the status. */
export async function drawContactSheet(options: ContactSheetOptions): Promise<ContactSheetResult> {
  const layout = datasetLayout(options.root);
  const file = path.resolve(options.out ?? path.join(layout.reports, DEFAULT_SHEET_NAME));
  const tile = checkInt('tile', options.tile ?? 112, 16, 1024);
  const columns = checkInt('columns', options.columns ?? 6, 1, 100);
  const most = checkInt('limit', options.limit ?? 300, 1);
  const all = await readSheetEntries(layout.root, options.only ?? 'all');
  const entries = all.slice(0, most);
  const g = sheetGeometry(entries.length, tile, columns);

  const canvas = blankCanvas(g.width, g.height);
  const missingTiles: { left: number; top: number }[] = [];
  const progress = options.progress === false ? undefined : new Progress({ label: 'sheet', total: entries.length, unit: 'id' });
  const limit = pLimit(4);
  await Promise.all(
    entries.map((entry, i) =>
      limit(async () => {
        if (options.signal?.aborted) return;
        const { left, top } = cellOrigin(g, i);
        if (entry.status === 'ok') {
          const tiles: [string | undefined, number][] = [
            [entry.ffhq, left],
            [entry.mtcnn, left + g.tile + TILE_GAP],
          ];
          for (const [src, x] of tiles) {
            const pixels = src ? await tilePixels(src, g.tile) : undefined;
            if (pixels) blit(canvas, g.width, pixels, g.tile, x, top);
            else missingTiles.push({ left: x, top });
          }
        }
        progress?.tick();
      }),
    ),
  );
  progress?.finish();
  if (options.signal?.aborted) throw new InterruptedError('sheet interrupted: nothing was written');

  const counts: Record<string, number> = {};
  for (const e of entries) counts[e.status] = (counts[e.status] ?? 0) + 1;
  const header = headerLines(layout.root, entries.length, all.length, counts, g);
  await writeSheetPng(file, canvas, g.width, g.height, overlaySvg(g, entries, missingTiles, header));
  return { file, width: g.width, height: g.height, shown: entries.length, total: all.length, counts, labelsDrawn: await fontsAvailable() };
}

/** One aligned face scaled to the tile, as raw RGB; undefined when the file cannot be read. */
async function tilePixels(file: string, tile: number): Promise<Buffer | undefined> {
  try {
    return await sharp(file).removeAlpha().toColourspace('srgb').resize(tile, tile, { fit: 'fill' }).raw().toBuffer();
  } catch {
    return undefined;
  }
}

function headerLines(root: string, shown: number, total: number, counts: Record<string, number>, g: SheetGeometry): [string, string] {
  const byStatus = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const first = `ECAF contact sheet: ${root}`;
  const cut = shown < total ? `first ${shown} of ${total} ids` : `${total} ids`;
  const second = `${cut} (${byStatus || 'none'}). Each cell: FFHQ-aligned face left, 5-point (MTCNN) face right; red = no aligned face`;
  return [fitLabel(first, g.width - 20, g.fontSize * 1.3), fitLabel(second, g.width - 20, g.fontSize)];
}

function overlaySvg(g: SheetGeometry, entries: SheetEntry[], missing: { left: number; top: number }[], header: [string, string]): string {
  const small = Math.max(9, Math.round(g.fontSize * 0.85));
  const cellInner = 2 * g.tile + TILE_GAP;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${g.height}">`,
    `<g font-family="${FONT}">`,
    `<text x="10" y="${Math.round(g.fontSize * 1.7)}" font-size="${Math.round(g.fontSize * 1.3)}" font-weight="bold" fill="#f1f3f4">${xmlEscape(header[0])}</text>`,
    `<text x="10" y="${Math.round(g.fontSize * 3.2)}" font-size="${g.fontSize}" fill="#bdc1c6">${xmlEscape(header[1])}</text>`,
  ];
  entries.forEach((e, i) => {
    const { left, top } = cellOrigin(g, i);
    if (e.status !== 'ok') {
      parts.push(`<rect x="${left}" y="${top}" width="${cellInner}" height="${g.tile}" fill="#8e1b1b"/>`);
      parts.push(
        `<text x="${left + cellInner / 2}" y="${top + g.tile / 2}" font-size="${Math.round(g.fontSize * 1.2)}" font-weight="bold" fill="#ffffff" text-anchor="middle">${xmlEscape(fitLabel(e.status, cellInner - 8, g.fontSize * 1.2))}</text>`,
      );
    }
    const idY = top + g.tile + Math.round(g.fontSize * 1.2);
    parts.push(`<text x="${left}" y="${idY}" font-size="${g.fontSize}" fill="#e8eaed">${xmlEscape(fitLabel(e.id, cellInner, g.fontSize))}</text>`);
    const colour = e.status === 'ok' ? (e.detail.startsWith('detector') ? '#9aa0a6' : '#fbbc04') : '#f28b82';
    parts.push(`<text x="${left}" y="${idY + Math.round(g.fontSize * 1.3)}" font-size="${small}" fill="${colour}">${xmlEscape(fitLabel(e.detail, cellInner, small))}</text>`);
  });
  for (const m of missing) {
    parts.push(`<rect x="${m.left}" y="${m.top}" width="${g.tile}" height="${g.tile}" fill="#5f6368"/>`);
    parts.push(`<text x="${m.left + g.tile / 2}" y="${m.top + g.tile / 2}" font-size="${small}" fill="#ffffff" text-anchor="middle">file missing</text>`);
  }
  parts.push('</g></svg>');
  return parts.join('\n');
}

let fontCheck: Promise<boolean> | undefined;

/** Whether librsvg finds a font here: draw a word and look for ink (machines without fonts draw nothing). */
export function fontsAvailable(): Promise<boolean> {
  fontCheck ??= (async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="24"><rect width="60" height="24" fill="#000"/><text x="2" y="18" font-family="${FONT}" font-size="16" fill="#fff">Ag</text></svg>`;
    const stats = await sharp(Buffer.from(svg)).removeAlpha().stats();
    return stats.channels.some((c) => c.max > 128);
  })();
  return fontCheck;
}
