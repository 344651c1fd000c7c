import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_DIR } from './run-dir.js';

/**
 * Python-dependent tests run their references with Debian's python (numpy, scipy, PIL, torch),
 * not the first `python3` on PATH; the torch tests use ecaf's own choice (ECAF_PYTHON or this).
 */
export const PYTHON = '/usr/bin/python3';

/** Probe results shared by every test file of one jest run: `import torch` alone takes about 2 s here. */
const SHARED_PROBES = RUN_DIR && path.join(RUN_DIR, 'python-probes.json');

function sharedProbes(): Record<string, boolean> {
  if (!SHARED_PROBES) return {};
  try {
    return JSON.parse(readFileSync(SHARED_PROBES, 'utf8')) as Record<string, boolean>;
  } catch {
    return {}; // not written yet this run
  }
}

/** This file's answers, before the run's shared file is read again. */
const probed = new Map<string, boolean>();

/** Whether `python` can `import module`: probed once per run, asked once per test file. */
function imports(python: string, module: string): boolean {
  const key = `${python} ${module}`;
  const here = probed.get(key);
  if (here !== undefined) return here;
  const known = sharedProbes()[key];
  const ok = known ?? spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
  probed.set(key, ok);
  if (known !== undefined) return ok;
  if (SHARED_PROBES) {
    // another test file may write at the same time: a whole file replaces the other, and a lost entry is probed again
    const tmp = `${SHARED_PROBES}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ ...sharedProbes(), [key]: ok }));
    renameSync(tmp, SHARED_PROBES);
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
