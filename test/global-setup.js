import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest modification time among `files` and every file under `dirs`. */
function newest(files, dirs) {
  let t = 0;
  for (const f of files) t = Math.max(t, statSync(f).mtimeMs);
  for (const d of dirs) for (const e of readdirSync(d, { recursive: true, withFileTypes: true })) if (e.isFile()) t = Math.max(t, statSync(path.join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/**
 * Jest global setup: an incremental `tsc -p tsconfig.json` before any test, because the CLI and
 * the worker threads run the compiled dist/: after an edit, tests never run stale code. Only
 * what changed since the last build is compiled again (tsconfig.json's tsBuildInfoFile), and
 * tsc is not started at all when no source is newer than that file (tsc alone takes seconds).
 * It also makes the folder every test file of this run shares (test/helpers/run-dir.ts), fresh each run.
 */
export default function buildDist() {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const buildInfo = path.join(root, 'dist', '.tsbuildinfo');
  let built = 0;
  try {
    built = statSync(buildInfo).mtimeMs;
  } catch {
    // never built
  }
  const sources = newest([path.join(root, 'tsconfig.json'), path.join(root, 'package.json')], [path.join(root, 'src')]);
  if (built === 0 || sources >= built) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
    // tsc leaves the file as it was when nothing changed: dated now, the next run need not start it
    const now = new Date();
    utimesSync(buildInfo, now, now);
  }
  // the SIMD kernels (dist/wasm/kernels.wasm), when wasm/ is newer than them (npm run build does both)
  let wasmBuilt = 0;
  try {
    wasmBuilt = statSync(path.join(root, 'dist', 'wasm', 'kernels.wasm')).mtimeMs;
  } catch {
    // never built
  }
  if (wasmBuilt === 0 || newest([path.join(root, 'scripts', 'build-wasm.mjs')], [path.join(root, 'wasm')]) >= wasmBuilt) {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build-wasm.mjs')], { cwd: root, stdio: 'inherit' });
  }
  process.env.ECAF_TEST_RUN_DIR = mkdtempSync(path.join(os.tmpdir(), 'ecaf-test-run-'));
}
