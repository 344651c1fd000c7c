import { describeProblem, InputError, InterruptedError, UsageError, EXIT_BAD_INPUT, EXIT_FAILED, type Remedy } from '../util/errors.js';
import { interruptExitCode } from '../util/interrupt.js';
import { ShardError } from '../distribute/shard.js';
import { TorchUnavailableError } from '../models/torch-python.js';

/** Options whose flag is not their kebab-case name. */
const FLAG_NAMES: Record<string, string> = {
  timeoutS: 'timeout',
  'mtcnn.detectSize': 'detect-size',
  'mtcnn.minFace': 'min-face',
  'mtcnn.thresholds.0': 'pnet-threshold',
  'mtcnn.thresholds.1': 'rnet-threshold',
  'mtcnn.thresholds.2': 'onet-threshold',
};

/** The flag of a library option: `perFold` -> `--per-fold`. */
export function flagOf(option: string): string {
  return `--${FLAG_NAMES[option] ?? option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Each remedy as a clause. */
const REMEDIES: Record<Remedy, string> = {
  skipInvalid: '--skip-invalid goes on with the valid records',
  root: '--root names the dataset root',
  data: '--data names another records file',
  allowFewer: '--allow-fewer writes what the data allows',
  perFold: 'a lower --per-fold asks for fewer pairs',
  folds: '--folds sets the number of folds',
  pairs: '--pairs names pair files',
  images: '--images picks the other aligned folder',
  out: '--out names another place to write',
  'run:crawl': 'run ecaf crawl first',
  'run:align': 'run ecaf align first',
  'run:pairs': 'run ecaf pairs first',
  'run:benchmark': 'run ecaf benchmark first',
};

/** The remedies the command can act on (an option's only when it has the flag), as one parenthesized clause; '' when none. */
export function renderRemedies(remedies: readonly Remedy[], flags: ReadonlySet<string>): string {
  const shown = remedies.filter((r) => r.startsWith('run:') || flags.has(flagOf(r).slice(2))).map((r) => REMEDIES[r]);
  return shown.length ? ` (${shown.join('; ')})` : '';
}

/** An error as the CLI prints it: options named by their flags, remedies that `flags` (the running command's) allow. */
export function renderError(err: unknown, flags: ReadonlySet<string> = new Set()): string {
  if (err instanceof InputError) {
    const head = (err.headline ?? describeProblem(err.problem, flagOf)).split('\n');
    // before the colon that introduces a list, if the first line has one
    head[0] = head[0]!.replace(/:?$/, (colon) => `${renderRemedies(err.remedies, flags)}${colon}`);
    return [...head, ...err.more.map((p) => `  ${describeProblem(p, flagOf)}`)].join('\n');
  }
  if (err instanceof ShardError) {
    const where = err.source === 'flag' ? `${flagOf('shard')} ${err.value}` : `shard from the environment ${err.value}`;
    return `${where}: ${err.reason}${err.remedy === 'submitArray' ? ' (submit --array=0-<N-1>)' : ''}`;
  }
  if (err instanceof TorchUnavailableError) return `${err.message} Or export the model to ONNX once where PyTorch is installed (ecaf export-onnx) and benchmark the .onnx file.`;
  return (err as Error)?.message ?? String(err);
}

/** The exit code of an error: 2 bad input, 130 or 143 interrupted, 1 anything else. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof InterruptedError) return interruptExitCode();
  if (err instanceof UsageError) return EXIT_BAD_INPUT;
  return EXIT_FAILED;
}
