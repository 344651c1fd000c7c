#!/usr/bin/env node
// Writes docs/cli.md from every command's --help, so the reference cannot drift from the code.
// `node scripts/cli-doc.mjs --check` exits 1 when docs/cli.md differs (test/docs/cli-doc.test.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'ecaf.js');
const target = path.join(root, 'docs', 'cli.md');

const help = (args) =>
  execFileSync(process.execPath, [bin, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } }).trimEnd();

/** The subcommands a help text lists under "Commands:", as argument lists. */
function subcommands(text, parent) {
  const block = text.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? '';
  const out = [];
  for (const line of block.split('\n')) {
    const m = /^ {2}ecaf ((?:[a-z-]+ )*[a-z-]+)/.exec(line);
    if (m) {
      const words = m[1].split(' ');
      if (words.length === parent.length + 1) out.push(words);
    }
  }
  return out;
}

function sections(args, acc) {
  const text = help(args);
  if (args.length > 0) acc.push({ name: `ecaf ${args.join(' ')}`, text });
  for (const sub of subcommands(text, args)) sections(sub, acc);
  return acc;
}

const INTRO = `# Command reference

Every command and flag, as \`ecaf <command> --help\` prints it (this file is generated from the
help texts by \`node scripts/cli-doc.mjs\`; a test fails when they differ). The guides say
what the outputs mean: [crawl](crawl.md), [align](align.md), [pairs](pairs.md),
[benchmark](benchmark.md), [formats](formats.md).

Conventions shared by every command:
- \`--root DIR\` is the dataset root (default the current directory): each stage reads what the
  one before it wrote there (see [formats](formats.md)).
- Exit codes: 0 done (per-record failures are recorded, not fatal), 1 the run itself failed,
  2 bad input or usage, 130 interrupted by Ctrl-C and 143 by SIGTERM, after saving what was done.
- Long work draws a progress line (count, rate, ETA) on a terminal, and prints a plain line per
  tenth of the work when its output is piped.
- \`ECAF_DEBUG=1\` prints the stack of an unexpected error.
`;

const body = sections([], [])
  .map((s) => `## \`${s.name}\`\n\n\`\`\`text\n${s.text}\n\`\`\`\n`)
  .join('\n');
const doc = `${INTRO}\n${body}`;

if (process.argv.includes('--check')) {
  const now = readFileSync(target, 'utf8');
  if (now !== doc) {
    process.stderr.write('docs/cli.md differs from the commands\' --help: run node scripts/cli-doc.mjs\n');
    process.exit(1);
  }
} else {
  writeFileSync(target, doc);
}
