import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Every temp file this tool writes carries this marker, so a later run can sweep leftovers. */
export const TEMP_MARKER = '.ecaf-tmp-';

export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `${TEMP_MARKER}${path.basename(file)}.${randomBytes(6).toString('hex')}`);
}

/** Write to a temp file in the same folder, fsync, then rename: readers see the old file or the new one, never half. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Remove temp files a killed run left in `dir`; returns how many were removed. `owns` (given the
 * target file name) limits the sweep to one process's files when others write the same folder.
 */
export async function cleanTempFiles(dir: string, owns: (target: string) => boolean = () => true): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const stale = names.filter((n) => n.startsWith(TEMP_MARKER) && owns(n.slice(TEMP_MARKER.length, n.lastIndexOf('.'))));
  await Promise.all(stale.map((n) => fs.rm(path.join(dir, n), { force: true })));
  return stale.length;
}
