import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the folder holding ecaf's package.json, found from this module's location. */
export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ecaf') return dir;
    } catch {
      // not here: keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find ecaf's package.json above ${start}`);
    dir = parent;
  }
}

/**
 * Path of a compiled file under dist/ (worker_threads and child processes need JavaScript,
 * also when the caller runs from the TypeScript sources under jest).
 */
export function distFile(relative: string): string {
  return path.join(PACKAGE_ROOT, 'dist', relative);
}

/** Path of a file shipped in the package outside dist/ (python/, data/). */
export function packageFile(relative: string): string {
  return path.join(PACKAGE_ROOT, relative);
}
