import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sbatchScript, shellWord, stageScripts } from '../../src/distribute/slurm.js';
import { runEcaf } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const settings = { root: '/data/ecaf', tasks: 4, cpusPerTask: 2, time: '1:00:00', partition: 'cpu', sbatchArgs: ['--mem=4G'], ecaf: ['/usr/bin/node', '/opt/ecaf/bin/ecaf.js'] };

describe('ecaf slurm scripts', () => {
  test('an array script: directives, per-task output, exec of the stage (the shard comes from the array)', () => {
    const text = sbatchScript(settings, 'crawl', ['crawl', '--root', '/data/ecaf', '--concurrency', '32'], true);
    expect(text.split('\n').filter((l) => l.startsWith('#SBATCH'))).toEqual([
      '#SBATCH --job-name=ecaf-crawl',
      '#SBATCH --array=0-3',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --time=1:00:00',
      '#SBATCH --partition=cpu',
      '#SBATCH --output=/data/ecaf/slurm/logs/crawl-%A_%a.out',
      '#SBATCH --mem=4G',
    ]);
    expect(text).toContain('\nexec /usr/bin/node /opt/ecaf/bin/ecaf.js crawl --root /data/ecaf --concurrency 32\n');
  });

  test('stages: align gets --workers of the cpus unless given; benchmark is an --embed-only array then one scoring job', () => {
    expect(stageScripts(settings, 'align', []).map((s) => s.args)).toEqual([['align', '--root', '/data/ecaf', '--workers', '2']]);
    expect(stageScripts(settings, 'align', ['--workers', '1'])[0]!.args).toEqual(['align', '--root', '/data/ecaf', '--workers', '1']);
    const pairs = stageScripts(settings, 'pairs', ['--protocol', 'children']);
    expect(pairs.map((s) => [s.name, s.array])).toEqual([['pairs', false]]);
    expect(pairs[0]!.text).not.toContain('--array');
    const bench = stageScripts(settings, 'benchmark', ['--model', 'm.onnx']);
    expect(bench.map((s) => [s.name, s.array, s.args.join(' ')])).toEqual([
      ['benchmark-embed', true, 'benchmark --root /data/ecaf --embed-only --model m.onnx'],
      ['benchmark', false, 'benchmark --root /data/ecaf --model m.onnx'],
    ]);
  });

  test('shell words are quoted only when needed', () => {
    expect(shellWord('/a/b-c_d.e=f,g:h')).toBe('/a/b-c_d.e=f,g:h');
    expect(shellWord("it's here")).toBe(`'it'\\''s here'`);
    expect(shellWord('$HOME')).toBe(`'$HOME'`);
  });

  test('the CLI writes the chain under <root>/slurm/ and says how to submit; bad values exit 2', async () => {
    const { dir, cleanup } = await tempDir('ecaf-slurm-scripts-');
    try {
      const r = await runEcaf('slurm', 'align', '--root', dir, '--tasks', '2', '--chain', '--align-args=--ffhq-size 512', '--', '--retry-failed');
      expect(r.code).toBe(0);
      expect((await fs.readdir(path.join(dir, 'slurm'))).sort()).toEqual(['align.sbatch', 'benchmark-embed.sbatch', 'benchmark.sbatch', 'logs', 'pairs.sbatch']);
      expect(await fs.readFile(path.join(dir, 'slurm', 'align.sbatch'), 'utf8')).toContain(`align --root ${dir} --ffhq-size 512 --retry-failed\n`);
      expect(await fs.readFile(path.join(dir, 'slurm', 'pairs.sbatch'), 'utf8')).toContain(`pairs --root ${dir} --protocol cross-age\n`);
      expect(r.stdout).toContain('submit with:');
      expect((await runEcaf('slurm', 'crawl', '--root', dir, '--tasks', '0')).code).toBe(2);
      expect((await runEcaf('slurm', 'crawl', '--root', dir, '--sbatch', 'mem=4G')).stderr).toContain('--sbatch takes whole sbatch arguments');
    } finally {
      await cleanup();
    }
  });
});
