import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/util/paths.js';

/** The CLI as users run it (dist/ is built by test/global-setup.js). */
export const ECAF_BIN = path.join(PACKAGE_ROOT, 'bin', 'ecaf.js');

const run = promisify(execFile);

/** `node bin/ecaf.js ...` in a child process: its exit code and output. */
export async function runEcaf(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runEcafWith(process.env, args);
}

/** The same with the child's environment given (jest's process.env is the test file's own copy). */
export async function runEcafWith(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [ECAF_BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
