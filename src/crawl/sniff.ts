import sharp from 'sharp';
import type { RawExtension } from '../dataset/layout.js';
import { pixelLimitProblem } from '../dataset/pixels.js';
import type { CrawlErrorCode } from './record.js';

/** The image format of `buf` from its magic bytes (never from the URL), or undefined. */
export function sniffFormat(buf: Uint8Array): RawExtension | undefined {
  const b = buf;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 14 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return 'tiff';
  return undefined;
}

function ascii(b: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...b.subarray(start, start + length));
}

/**
 * Whether the bytes reach the format's end marker: headers alone decode, so a body cut short
 * (a server that closed early without a Content-Length) is caught here without a full decode.
 */
export function looksComplete(format: RawExtension, b: Uint8Array): boolean {
  const n = b.length;
  switch (format) {
    case 'jpg': {
      // EOI marker, allowing the trailing padding some encoders add
      const from = Math.max(2, n - 1024);
      for (let i = n - 2; i >= from; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
      return false;
    }
    case 'png':
      return n >= 20 && ascii(b, n - 8, 4) === 'IEND';
    case 'gif':
      return b[n - 1] === 0x3b;
    case 'webp':
      return n >= 8 && new DataView(b.buffer, b.byteOffset, n).getUint32(4, true) + 8 <= n;
    case 'bmp':
      return n >= 6 && new DataView(b.buffer, b.byteOffset, n).getUint32(2, true) <= n;
    case 'tiff':
      return true; // offsets point anywhere: sharp's metadata read is the check
  }
}

export type ImageCheck =
  | { ok: true; format: RawExtension; width: number; height: number }
  | { ok: false; error: CrawlErrorCode; detail: string };

/** Magic bytes, completeness, then sharp's header read: what makes a body a stored image. */
export async function checkImage(buf: Buffer): Promise<ImageCheck> {
  if (buf.length === 0) return { ok: false, error: 'not_image', detail: 'empty body' };
  const format = sniffFormat(buf);
  if (!format) return { ok: false, error: 'not_image', detail: `not an image (starts with ${JSON.stringify(buf.subarray(0, 16).toString('latin1'))})` };
  if (!looksComplete(format, buf)) return { ok: false, error: 'truncated', detail: `${format} data ends before its end marker (${buf.length} bytes)` };
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(buf, { limitInputPixels: false }).metadata());
  } catch (err) {
    return { ok: false, error: 'decode_error', detail: `${format}: ${(err as Error).message}` };
  }
  if (!width || !height) return { ok: false, error: 'decode_error', detail: `${format}: no dimensions in the header` };
  const tooLarge = pixelLimitProblem(width, height); // align's limit too: what is stored can be aligned
  if (tooLarge) return { ok: false, error: 'too_large', detail: tooLarge };
  return { ok: true, format, width, height };
}
