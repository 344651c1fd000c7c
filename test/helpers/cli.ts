import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { distFile, PACKAGE_ROOT } from '../../src/util/paths.js';

/** The CLI as users run it. */
export const ECAF_BIN = path.join(PACKAGE_ROOT, 'bin', 'ecaf.js');

/** The CLI runs from dist/: build it when a fresh clone has none (`npm test` builds first anyway). */
export function ensureBuilt(): void {
  if (!existsSync(distFile('cli/main.js'))) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: PACKAGE_ROOT, stdio: 'ignore' });
}

const run = promisify(execFile);

/** `node bin/ecaf.js ...` in a child process: its exit code and output. */
export async function runEcaf(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [ECAF_BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
