import { promises as fs } from 'node:fs';
import { UsageError } from '../util/errors.js';
import type { Point } from './similarity.js';

/** Hand-placed landmarks for one id (image_data/landmarks-override.json), in EXIF-rotated pixels. */
export type LandmarkOverride = { landmarks68: Point[]; points5?: undefined } | { points5: Point[]; landmarks68?: undefined };

function points(value: unknown, n: number, file: string, id: string, field: string): Point[] {
  if (!Array.isArray(value) || value.length !== n) {
    throw new UsageError(`${file}: id "${id}": field "${field}": must be a list of ${n} [x, y] points`);
  }
  return value.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new UsageError(`${file}: id "${id}": field "${field}[${i}]": must be [x, y] with two numbers, got ${JSON.stringify(p)}`);
    }
    return [p[0] as number, p[1] as number];
  });
}

/** The override file's entries; a missing file is an empty map, a malformed one a UsageError naming id and field. */
export async function readOverrides(file: string): Promise<Map<string, LandmarkOverride>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`${file}: must be an object {id: {"landmarks68": [[x, y] x 68]} or {"points5": [[x, y] x 5]}}`);
  }
  const out = new Map<string, LandmarkOverride>();
  for (const [id, entry] of Object.entries(json)) {
    const e = entry as Record<string, unknown> | null;
    if (e && typeof e === 'object' && e.landmarks68 !== undefined) out.set(id, { landmarks68: points(e.landmarks68, 68, file, id, 'landmarks68') });
    else if (e && typeof e === 'object' && e.points5 !== undefined) out.set(id, { points5: points(e.points5, 5, file, id, 'points5') });
    else throw new UsageError(`${file}: id "${id}": needs "landmarks68" (68 points) or "points5" (5 points: left eye, right eye, nose, left and right mouth corner)`);
  }
  return out;
}
