#!/usr/bin/env node
// Writes docs/cli.md from every command's --help, so the reference cannot drift from the code.
// `node scripts/cli-doc.mjs --check` exits 1 when docs/cli.md differs (test/docs/cli-doc.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'docs', 'cli.md');
// the help texts are laid out for 100 columns, whatever the terminal
Object.defineProperty(process.stdout, 'columns', { value: 100 });
const { main } = await import(path.join(root, 'dist', 'cli', 'main.js'));

/** What `ecaf ...args --help` prints, from the CLI in this process (one process, not one per command). */
async function help(args) {
  const printed = [];
  const log = console.log;
  console.log = (...parts) => printed.push(parts.join(' '));
  try {
    const code = await main([...args, '--help']);
    if (code !== 0) throw new Error(`ecaf ${args.join(' ')} --help exited ${code}`);
  } finally {
    console.log = log;
  }
  return printed.join('\n').trimEnd();
}

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

async function sections(args, acc) {
  const text = await help(args);
  if (args.length > 0) acc.push({ name: `ecaf ${args.join(' ')}`, text });
  for (const sub of subcommands(text, args)) await sections(sub, acc);
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

const body = (await sections([], []))
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
