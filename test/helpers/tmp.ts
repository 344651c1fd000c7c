import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder per test; removed by the returned cleanup. */
export async function tempDir(prefix = 'ecaf-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** ../shared/data when ECAF_SHARED_DATA is set (by .ci/run); tests on it skip otherwise. */
export const SHARED_DATA = process.env.ECAF_SHARED_DATA ? path.resolve(process.env.ECAF_SHARED_DATA) : undefined;
