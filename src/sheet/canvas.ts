/** The raw RGB canvas both sheets draw on (the contact sheet, the row sheets), and its PNG with the text laid over it. */
import sharp from 'sharp';
import { writeFileAtomic } from '../util/atomic.js';

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const BACKGROUND = [32, 33, 36] as const;

/** A width x height RGB canvas in the sheets' background colour. */
export function blankCanvas(width: number, height: number): Buffer {
  const canvas = Buffer.alloc(width * height * 3);
  for (let i = 0; i < canvas.length; i += 3) [canvas[i], canvas[i + 1], canvas[i + 2]] = BACKGROUND;
  return canvas;
}

/** Copy a square RGB tile into the canvas (faster and exacter than one composite layer per tile). */
export function blit(canvas: Buffer, canvasWidth: number, tile: Buffer, side: number, left: number, top: number): void {
  const rowBytes = side * 3;
  for (let y = 0; y < side; y++) tile.copy(canvas, ((top + y) * canvasWidth + left) * 3, y * rowBytes, (y + 1) * rowBytes);
}

/** The canvas with `svg` (its text) composited over it, written atomically as a PNG. */
export async function writeSheetPng(file: string, canvas: Buffer, width: number, height: number, svg: string): Promise<void> {
  const png = await sharp(canvas, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .png({ compressionLevel: 6 })
    .toBuffer();
  await writeFileAtomic(file, png);
}
