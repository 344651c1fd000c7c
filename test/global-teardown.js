import { rmSync } from 'node:fs';

/** Removes the folder the test files of this run shared (test/global-setup.js). */
export default function removeRunDir() {
  const dir = process.env.ECAF_TEST_RUN_DIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
}
