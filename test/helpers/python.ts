import { spawnSync } from 'node:child_process';

/**
 * Python-dependent tests run their references with Debian's python (numpy, scipy, PIL, torch),
 * not the first `python3` on PATH; the torch tests use ecaf's own choice (ECAF_PYTHON or this).
 */
export const PYTHON = '/usr/bin/python3';

const probed = new Map<string, boolean>();

/** Whether `python` can `import module`: one probe per python and module in a test file. */
function imports(python: string, module: string): boolean {
  const key = `${python}\n${module}`;
  let ok = probed.get(key);
  if (ok === undefined) {
    ok = spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
    probed.set(key, ok);
  }
  return ok;
}

/**
 * Why tests needing `python` with `modules` cannot run (`/usr/bin/python3 cannot import torch`,
 * or `cannot be run` when there is no such python), or undefined when they can.
 */
export function pythonSkipReason(modules: readonly string[], python = PYTHON): string | undefined {
  if (!imports(python, 'sys')) return `${python} cannot be run`;
  const missing = modules.filter((m) => !imports(python, m));
  return missing.length > 0 ? `${python} cannot import ${missing.join(', ')}` : undefined;
}

/**
 * `describe` for tests that need `python` with `modules`; when one is missing the block is
 * skipped, its name says why and the reason is printed, so the suite passes without Python.
 */
export function describeWithPython(modules: readonly string[], python = PYTHON): (name: string, fn: () => void) => void {
  const reason = pythonSkipReason(modules, python);
  return (name, fn) => {
    if (reason !== undefined) console.warn(`SKIPPED "${name}": ${reason}`);
    // skipped only when Python lacks a module: the reason is in the block's name and printed
    const block = reason === undefined ? describe : describe.skip;
    return block(reason === undefined ? name : `${name} (SKIPPED: ${reason})`, fn);
  };
}
