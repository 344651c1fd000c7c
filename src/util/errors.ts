/** Exit codes of the contract: 0 done, 1 the run failed, 2 bad input or usage, 130 interrupted. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERRUPTED = 130;

/** Bad input or usage: the CLI prints the message (no stack) and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The run was stopped by SIGINT after flushing what was done: exit 130. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}
