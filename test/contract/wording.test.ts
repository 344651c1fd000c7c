import { promises as fs } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
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

/** An ecaf command to run, or "rerun": what only the CLI may tell a user to do. */
const COMMAND = /\becaf (crawl|align|pairs|benchmark|synthesize|audit|report|status|demo|sheet|slurm|export-onnx|validate)\b|\b[Rr]e-?run\b/;

/** String literals outside src/cli/ that name a command as content of a file written for a reader, not as wording of the CLI. */
const CONTENT: { file: string; text: RegExp; why: string }[] = [
  { file: path.join('src', 'benchmark', 'report', 'compare.ts'), text: /^% written by ecaf report;/, why: "the provenance line of comparison.tex, a file's content" },
  { file: path.join('src', 'demo', 'report-index.ts'), text: /^# ecaf demo$|^Written by `ecaf demo`/, why: "the title and provenance line of the demo's reports/index.md" },
];

/** The text of every string literal and template in a TypeScript source (a template's substitutions as `${}`), with its line. */
function literals(file: string, source: string): { line: number; text: string }[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    let text: string | undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateExpression(node)) text = node.head.text + node.templateSpans.map((s) => `\${}${s.literal.text}`).join('');
    if (text !== undefined) out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, text });
    // a template's spans hold their own literals: look inside the substitutions only
    if (ts.isTemplateExpression(node)) node.templateSpans.forEach((s) => visit(s.expression));
    else ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The literals of `file` that tell the user to run a command, less the allowed file contents. */
function commandWording(file: string, source: string): string[] {
  return literals(file, source)
    .filter(({ text }) => COMMAND.test(text) && !CONTENT.some((c) => c.file === file && c.text.test(text)))
    .map(({ line, text }) => `${file}:${line}: ${JSON.stringify(text)}`);
}

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

  it('no string under src/ outside src/cli/ names an ecaf command to run or says "rerun" (comments may)', async () => {
    const offenders: string[] = [];
    for (const file of await sources('src')) {
      if (file.startsWith(`src${path.sep}cli${path.sep}`) || GENERATED.some((p) => file.startsWith(p))) continue;
      offenders.push(...commandWording(file, await fs.readFile(path.join(PACKAGE_ROOT, file), 'utf8')));
    }
    expect(offenders).toEqual([]);
  });

  it('the check finds a command or a rerun in a string or a template, and lets comments and file contents pass', () => {
    const file = path.join('src', 'x', 'y.ts');
    const source = [
      '// run ecaf align first: a comment explains code',
      "const a = 'no reports (run ecaf benchmark first)';",
      'throw new Error(`stopped after ${n} of ${m}; rerun to go on`);',
      'const b = `${dir}: see ${`ecaf export-onnx`}`;',
      "const c = 'the aligned faces of every record';",
    ].join('\n');
    expect(commandWording(file, source)).toEqual([
      `${file}:2: "no reports (run ecaf benchmark first)"`,
      `${file}:3: "stopped after \${} of \${}; rerun to go on"`,
      `${file}:4: "ecaf export-onnx"`,
    ]);
    expect(commandWording(path.join('src', 'benchmark', 'report', 'compare.ts'), "const t = '% written by ecaf report; needs booktabs';")).toEqual([]);
  });
});
