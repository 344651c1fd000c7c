import { exitCodeOf, flagOf, renderError, renderRemedies } from '../../src/cli/render.js';
import { checkInt, checkNumber, describeProblem, InputError, InterruptedError, UsageError } from '../../src/util/errors.js';
import { interruptExitCode } from '../../src/util/interrupt.js';
import { TorchUnavailableError } from '../../src/models/torch-python.js';

describe('one refusal shape: InputError, worded by the library without flags, by the CLI with them', () => {
  it('says where, what was expected and what came, in one sentence shape', () => {
    expect(describeProblem({ file: 'd.json', line: 3, record: { index: 2, id: 'P_1' }, field: 'age', expected: 'a number >= 0', actual: 'old' })).toBe(
      'd.json:3: record 2 (id "P_1"): field "age": expected a number >= 0, got "old"',
    );
    expect(describeProblem({ file: 'x/landmarks.jsonl', expected: 'the log of aligned images', found: 'nothing there' })).toBe('x/landmarks.jsonl: expected the log of aligned images, found nothing there');
    expect(describeProblem({ option: 'perFold', expected: 'an integer >= 1', actual: 0 })).toBe('option "perFold": expected an integer >= 1, got 0');
    expect(describeProblem({ option: 'perFold', expected: 'an integer >= 1', actual: 0 }, flagOf)).toBe('--per-fold: expected an integer >= 1, got 0');
  });

  it('checks limits in the library, naming the option', () => {
    expect(checkInt('folds', 10, 1, 1000)).toBe(10);
    for (const bad of [0, 1001, 2.5, NaN]) expect(() => checkInt('folds', bad, 1, 1000)).toThrow(InputError);
    expect(() => checkNumber('timeoutS', 0.01, 0.1)).toThrow('option "timeoutS": expected a number >= 0.1, got 0.01');
    const err = (() => {
      try {
        checkInt('maxBytes', -1, 1);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ problem: { option: 'maxBytes', expected: 'an integer >= 1', actual: -1 } });
  });

  it('maps options to flags, and offers only the remedies the running command has', () => {
    expect(['perFold', 'timeoutS', 'skipInvalid', 'data'].map(flagOf)).toEqual(['--per-fold', '--timeout', '--skip-invalid', '--data']);
    const missing = new InputError({ file: 'r/image_data/data.json', expected: 'a records file', found: 'nothing there' }, ['data']);
    expect(renderError(missing, new Set(['root', 'data']))).toBe('r/image_data/data.json: expected a records file, found nothing there (--data names another records file)');
    // align has no --data: no remedy it cannot act on
    expect(renderError(missing, new Set(['root', 'workers']))).toBe('r/image_data/data.json: expected a records file, found nothing there');
    expect(renderRemedies(['run:align', 'allowFewer'], new Set())).toBe(' (run ecaf align first)');
    expect(renderRemedies(['root', 'data'], new Set(['root']))).toBe(' (--root names the dataset root)');
    const listed = new InputError({ option: 'folds', expected: 'x', actual: 1 }, ['skipInvalid'], [{ option: 'perFold', expected: 'y', actual: 2 }], 'data.json: 2 records break the rules:\n  record 1 ...');
    expect(renderError(listed, new Set(['skip-invalid']))).toBe('data.json: 2 records break the rules (--skip-invalid goes on with the valid records):\n  record 1 ...\n  --per-fold: expected y, got 2');
  });

  it('words what to do in the CLI only: the library says what is missing, the CLI the command that does without it', () => {
    const torch = new TorchUnavailableError('PyTorch is not installed for python3. Install it.');
    expect(torch.message).not.toMatch(/ecaf /);
    expect(renderError(torch)).toBe('PyTorch is not installed for python3. Install it. Or export the model to ONNX once where PyTorch is installed (ecaf export-onnx) and benchmark the .onnx file.');
    expect(exitCodeOf(torch)).toBe(1);
  });

  it('exits 2 on bad input, 1 on failure, 130 on SIGINT and 143 on SIGTERM', () => {
    expect(exitCodeOf(new InputError({ expected: 'x' }))).toBe(2);
    expect(exitCodeOf(new UsageError('bad'))).toBe(2);
    expect(exitCodeOf(new Error('disk full'))).toBe(1);
    expect(exitCodeOf(new InterruptedError('stopped'))).toBe(130);
    const abort = (name: string) => {
      const c = new AbortController();
      c.abort(new DOMException(name, 'AbortError'));
      return c.signal;
    };
    expect(interruptExitCode(abort('SIGTERM'))).toBe(143);
    expect(interruptExitCode(abort('SIGINT'))).toBe(130);
  });
});
