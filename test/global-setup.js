import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Jest global setup: an incremental `tsc -p tsconfig.json` before any test, because the CLI and
 * the worker threads run the compiled dist/: after an edit, tests never run stale code. Only
 * what changed since the last build is compiled again (tsconfig.json's tsBuildInfoFile).
 * It also makes the folder every test file of this run shares (test/helpers/run-dir.ts), fresh each run.
 */
export default function buildDist() {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  process.env.ECAF_TEST_RUN_DIR = mkdtempSync(path.join(os.tmpdir(), 'ecaf-test-run-'));
}
