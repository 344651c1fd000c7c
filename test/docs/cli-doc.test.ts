import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/util/paths.js';

const script = path.join(PACKAGE_ROOT, 'scripts', 'cli-doc.mjs');

describe('docs/cli.md', () => {
  it('is what the commands print for --help (regenerate with node scripts/cli-doc.mjs)', () => {
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

});
