import { packageFile } from '../util/paths.js';
import { UsageError } from '../util/errors.js';

/** Exit codes of python/ecaf_torch (protocol.py): bad checkpoint or device, torch missing. */
const EXIT_BAD_INPUT = 2;
const EXIT_NO_TORCH = 3;

/** The Python that runs ecaf_torch: Debian's (which has python3-torch) unless ECAF_PYTHON says otherwise. */
export function pythonExecutable(): string {
  return process.env.ECAF_PYTHON || '/usr/bin/python3';
}

/** Environment for ecaf_torch: the package's python/ folder on PYTHONPATH, unbuffered stderr, no __pycache__ in the package. */
export function pythonEnv(): NodeJS.ProcessEnv {
  const own = packageFile('python');
  const prev = process.env.PYTHONPATH;
  return { ...process.env, PYTHONPATH: prev ? `${own}:${prev}` : own, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
}

const INSTALL_HINT =
  'PyTorch checkpoints (.pth, .pt, .tar) need Python 3 with PyTorch: on Debian/Ubuntu `apt install python3-torch`, ' +
  'elsewhere `pip install torch` (a CUDA build for GPUs); set ECAF_PYTHON to the python to use.';

/** No usable Python with PyTorch here (exit 1): the CLI adds how to do without it (an ONNX export made elsewhere). */
export class TorchUnavailableError extends Error {
  override name = 'TorchUnavailableError';
}

/** The error a failed ecaf_torch process becomes: its stderr verbatim, bad input as UsageError (exit 2). */
export function pythonFailure(what: string, code: number | null, signal: string | null, stderr: string): Error {
  const text = stderr.trim();
  if (code === EXIT_BAD_INPUT) return new UsageError(text || `${what}: bad input`);
  if (code === EXIT_NO_TORCH) return new TorchUnavailableError(`${text}\n${INSTALL_HINT}`);
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return new Error(`${what} ${how}${text ? `:\n${text}` : ' with no message'}`);
}

/** The error for a python that cannot be started at all (ENOENT, EACCES). */
export function pythonSpawnFailure(err: Error): Error {
  return new TorchUnavailableError(`cannot run ${pythonExecutable()} (${err.message}). ${INSTALL_HINT}`);
}
