import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ECAF_BIN, runEcaf } from '../helpers/cli.js';
import { describeWithPython, pythonSkipReason } from '../helpers/python.js';
import { tempDir } from '../helpers/tmp.js';
import { makeDemoPhotoRoot, makeRoot, makeTinyOnnx, TINY_ONNX_MODULES } from './fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('ecaf-benchmark-cli-'));
  if (!pythonSkipReason(TINY_ONNX_MODULES)) makeTinyOnnx(dir); // bad-input cases are refused before the model is read
  await makeRoot(path.join(dir, 'root'));
}, 120000);
afterAll(() => cleanup());

describe('ecaf benchmark and ecaf report (CLI, built)', () => {
  it('--help lists the flags with examples', async () => {
    const r = await runEcaf('benchmark', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--model', '--pairs', '--device', '--batch', '--images', '--flip', '--out', '--size', '--mean', '--std', '--bgr', '--folds', '--fp16']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('Examples:');
    expect((await runEcaf('report', '--help')).stdout).toContain('Examples:');
  });

  it('exits 2 on bad input, naming what is wrong', async () => {
    const root = path.join(dir, 'root');
    const model = path.join(dir, 'tiny.onnx');
    const cases: [string[], RegExp][] = [
      [['benchmark', '--root', dir, '--model', model], /image_pairs: expected pair files \(\*\.txt\), found none \(run ecaf pairs first; --pairs names pair files\)/],
      [['benchmark', '--root', root, '--model', 'net.h5'], /--model: expected "builtin", a \.onnx file, or a PyTorch checkpoint \(.*\), got "net\.h5"/],
      [['benchmark', '--root', root, '--model', model, '--mean', '0.5,0.5'], /--mean takes three numbers/],
      [['benchmark', '--root', root, '--model', model, '--batch', '0'], /--batch: expected an integer in 1\.\.4096, got 0/],
      [['benchmark', '--root', root, '--model', 'builtin', '--size', '112'], /--size: expected no value \(the builtin model/],
      [['benchmark', '--root', root, '--model', model, '--pairs', path.join(dir, 'none.txt')], /none.txt: not found/],
      [['report', '--root', dir], /reports: expected benchmark reports \(<model>\/<pairs>\/report\.json\), found none \(run ecaf benchmark first\)$/m],
    ];
    for (const [args, message] of cases) {
      const r = await runEcaf(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
    }
  });

  it('stops on Ctrl-C with exit 130, keeping the finished embeddings for the next run', async () => {
    // 40 copies of face-api's demo photos as "aligned" faces, two per model call
    const root = path.join(dir, 'sigint');
    await makeDemoPhotoRoot(root);
    const child = spawn(process.execPath, [ECAF_BIN, 'benchmark', '--root', root, '--model', 'builtin', '--batch', '2', '--folds', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // the first progress line (piped: one per tenth of the work) means some batches are done
        if (/embed builtin \d+\/40/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      // 'close', not 'exit': under load the last stdout chunk can come after the exit event
      child.on('close', resolve);
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/^benchmark interrupted after \d+ of 40 images; their embeddings are cached, rerun to go on \(no report written\)\n$/);
    const done = Number(/interrupted after (\d+) of/.exec(stdout)![1]);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(40);
    const cacheDirs = await fs.readdir(path.join(root, '.ecaf-cache', 'embeddings'));
    const chunks = (await fs.readdir(path.join(root, '.ecaf-cache', 'embeddings', cacheDirs[0]!))).filter((n) => n.endsWith('.bin'));
    expect(chunks.length).toBeGreaterThan(0);
  }, 120000);
});

describeWithPython(TINY_ONNX_MODULES)('ecaf benchmark on the model tiny_onnx.py exports (CLI, built)', () => {
  it('scores a root and compares the reports', async () => {
    const root = path.join(dir, 'root');
    const r = await runEcaf('benchmark', '--root', root, '--model', path.join(dir, 'tiny.onnx'), '--device', 'cpu');
    expect(r.code).toBe(0);
    // 2 folds of 3-4 negatives: TAR@FAR=1e-3 cannot be measured, and the tiny model's scores sit closer than the 0.01 grid
    expect(r.stdout).toMatch(/^children\.txt: accuracy \d+\.\d+% ± \d+\.\d+%, TAR@FAR=1e-3 not measurable \(smallest measurable FAR 3\.3e-1\), AUC .* rank-1 .* \(15 pairs\)\n {2}1 of 16 pairs skipped: 1 images missing under .*img_mtcnn\n( {2}note: .*\n)* {2}-> .*reports\/tiny\/children\n$/);
    const rep = await runEcaf('report', '--root', root);
    expect(rep.code).toBe(0);
    expect(rep.stdout).toContain('| [tiny/children](tiny/children/report.md) | tiny.onnx | children.txt |');
  });
});
