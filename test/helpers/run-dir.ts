import { cpSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * A folder every test file of one jest run shares (test/global-setup.js makes it fresh and names
 * it in ECAF_TEST_RUN_DIR; the teardown removes it): for what is expensive to make and the same
 * for every file, like a model PyTorch exports. Without it (a test file run outside jest's
 * setup), each file makes its own.
 */
export const RUN_DIR = process.env.ECAF_TEST_RUN_DIR;

/**
 * The folder holding the files `make(folder)` writes: made once per run under `name` in RUN_DIR
 * (or, without it, in `dir`). Two test files making it at once each write their own folder and
 * the first rename wins. For files too large to copy per test file (checkpoints).
 */
export function sharedFolder(name: string, dir: string, make: (folder: string) => void): string {
  if (!RUN_DIR) {
    make(dir);
    return dir;
  }
  const done = path.join(RUN_DIR, name);
  if (!existsSync(done)) {
    const tmp = mkdtempSync(path.join(RUN_DIR, `${name}.tmp-`));
    make(tmp);
    try {
      renameSync(tmp, done);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another file made it first
    }
  }
  return done;
}

/** The files `make(folder)` writes, copied into `dir`: made once per run under `name` (sharedFolder). */
export function sharedFiles(name: string, dir: string, make: (folder: string) => void): void {
  const done = sharedFolder(name, dir, make);
  if (done !== dir) for (const f of readdirSync(done)) cpSync(path.join(done, f), path.join(dir, f));
}
