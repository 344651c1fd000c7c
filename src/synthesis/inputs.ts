/** What a synthesis run reads from the root before planning: the input faces, data.json's labels, the faces already rendered. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadDataJson } from '../dataset/load.js';
import { alignedFileOfImage, idOfImageName, imageNameOf } from '../dataset/names.js';
import { InputError } from '../util/errors.js';
import type { SynthesisFace, SynthesisSettings } from './plan.js';

/** Aligned crops synthesis reads: ecaf's .jpg, and foreign .png crops. */
const FACE_FILE = /\.(jpe?g|png)$/i;

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

/**
 * The faces to render: with `idsFile`, one id or image name per line (blank lines and `#`
 * comments skipped), each resolved in `mtcnnDir` as benchmark resolves pair-file names (an id
 * alone: its .jpg, else its .png); without, every .jpg / .png crop there, by name.
 */
export async function readFaces(mtcnnDir: string, idsFile?: string): Promise<SynthesisFace[]> {
  if (!idsFile) {
    const names = (await listDir(mtcnnDir)).filter((n) => FACE_FILE.test(n)).sort();
    if (!names.length) throw new InputError({ file: mtcnnDir, expected: 'aligned faces (*.jpg, *.png)', found: 'none' }, ['run:align']);
    return names.map((n) => ({ id: idOfImageName(n)!, file: path.join(mtcnnDir, n) }));
  }
  const text = await fs.readFile(idsFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new InputError({ option: 'ids', file: idsFile, expected: 'a file of ids, one per line', found: err.code === 'ENOENT' ? 'nothing there' : err.message });
  });
  const faces: SynthesisFace[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const entry = lines[i]!.trim();
    if (!entry || entry.startsWith('#')) continue;
    const id = idOfImageName(entry);
    const named = id !== null && FACE_FILE.test(entry) ? entry : id !== null ? imageNameOf(id) : entry;
    let file = alignedFileOfImage(mtcnnDir, named, 'mtcnn');
    if (file !== null && !(await exists(file)) && named === imageNameOf(id!)) {
      const png = alignedFileOfImage(mtcnnDir, `${id}.png`, 'mtcnn')!;
      if (await exists(png)) file = png;
    }
    if (file === null || id === null) throw new InputError({ file: idsFile, line: i + 1, expected: 'an id or an image name under img_mtcnn/', actual: entry });
    if (!seen.has(id)) faces.push({ id, file });
    seen.add(id);
  }
  if (!faces.length) throw new InputError({ file: idsFile, expected: 'at least one id', found: 'none' });
  return faces;
}

/** data.json's identity and age of each record, by id (empty without a data.json). */
export async function readLabels(dataJson: string): Promise<Map<string, { identity: string; age?: number }>> {
  if (!(await exists(dataJson))) return new Map();
  const { records } = await loadDataJson(dataJson, { skipInvalid: true });
  return new Map(records.map((r) => [r.id, { identity: r.identity, ...(r.age !== undefined ? { age: r.age } : {}) }]));
}

export const SETTINGS_FILE = 'settings.json';

/** The rendered faces of `facesDir` and the settings they were made with. */
export async function readRendered(facesDir: string): Promise<{ done: Set<string>; previous?: SynthesisSettings }> {
  const done = new Set((await listDir(facesDir)).filter((n) => n.endsWith('.png')));
  const text = await fs.readFile(path.join(facesDir, SETTINGS_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return { done };
  try {
    return { done, previous: JSON.parse(text) as SynthesisSettings };
  } catch {
    // an unreadable record of the settings: nothing there can be trusted to match
    return { done: new Set() };
  }
}
