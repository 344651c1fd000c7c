import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON } from '../../helpers/python.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Write `images` as 0.jpg.. and labels.json, run bin_sets.py, return its manifest. */
export async function writeBinVariants(dir: string, images: Buffer[], labels: boolean[]): Promise<Record<string, string> & { refuse: Record<string, string> }> {
  await Promise.all(images.map((b, i) => writeFile(path.join(dir, `${i}.jpg`), b)));
  await writeFile(path.join(dir, 'labels.json'), JSON.stringify(labels));
  const run = spawnSync(PYTHON, [path.join(HERE, 'bin_sets.py'), dir, dir], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`bin_sets.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, string> & { refuse: Record<string, string> };
}
