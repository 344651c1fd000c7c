import { rmSync } from 'node:fs';
import path from 'node:path';

/** Removes this run's file of Python probes (test/global-setup.js). */
export default function removeProbes() {
  const file = process.env.ECAF_TEST_PYTHON_PROBES;
  if (file) rmSync(path.dirname(file), { recursive: true, force: true });
}
