import { EXIT_INTERRUPTED, EXIT_TERMINATED } from './errors.js';

/** The signals a run stops cleanly on: Ctrl-C, and what schedulers send (time limit, scancel, pod deletion). */
export type StopSignal = 'SIGINT' | 'SIGTERM';

const EXIT_CODES: Record<StopSignal, number> = { SIGINT: EXIT_INTERRUPTED, SIGTERM: EXIT_TERMINATED };

/** The last stop signal this process received. */
let received: StopSignal | undefined;

/** The exit code of a run stopped by `signal`'s interrupt (128 + the signal's number), else by the last one received; SIGINT's when unknown. */
export function interruptExitCode(signal?: AbortSignal): number {
  const name = (signal?.reason as Error | undefined)?.message ?? received;
  return name === 'SIGINT' || name === 'SIGTERM' ? EXIT_CODES[name] : EXIT_INTERRUPTED;
}

/**
 * SIGINT and SIGTERM as an AbortSignal (its reason an AbortError whose message is the signal's name): the first one asks the
 * running stage to stop taking new work and flush (the CLI then exits 130 or 143); a second one
 * ends the process at once.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const on = (name: StopSignal) => {
    if (controller.signal.aborted) process.exit(EXIT_CODES[name]);
    received = name;
    process.stderr.write(`\n${name === 'SIGINT' ? 'interrupted' : 'terminated (SIGTERM)'}: finishing what is in flight and saving (Ctrl-C again to quit now)\n`);
    controller.abort(new DOMException(name, 'AbortError'));
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
