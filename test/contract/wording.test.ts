import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/util/paths.js';

/** Every .ts file under `dir`, relative to the package root. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(PACKAGE_ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(rel)));
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** A flag token alone in a string literal is an argument to a child process (python -m ... '--device'), not wording. */
const ARGV_TOKEN = /(['"`])--[a-z][a-z0-9-]*\1/g;
const FLAG = /--[a-z]/;
/** Files whose output is command lines for another tool: the sbatch scripts of Slurm arrays. */
const GENERATED = [`src${path.sep}distribute${path.sep}slurm.ts`];

describe('CLI wording stays in src/cli/', () => {
  it('no file under src/ outside src/cli/ names a flag, in code or comments', async () => {
    const offenders: string[] = [];
    for (const file of await sources('src')) {
      if (file.startsWith(`src${path.sep}cli${path.sep}`) || GENERATED.some((p) => file.startsWith(p))) continue;
      const lines = (await fs.readFile(path.join(PACKAGE_ROOT, file), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (FLAG.test(line.replace(ARGV_TOKEN, ''))) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('the check finds a flag in wording, and lets an argv token pass', () => {
    expect(FLAG.test('throw new Error(`use --folds`)'.replace(ARGV_TOKEN, ''))).toBe(true);
    expect(FLAG.test("['-m', 'ecaf_torch.worker', '--device', device]".replace(ARGV_TOKEN, ''))).toBe(false);
  });
});
