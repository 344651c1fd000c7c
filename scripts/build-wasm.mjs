#!/usr/bin/env node
// Builds dist/wasm/kernels.wasm (the SIMD kernels of align, src/align/simd/) from wasm/ with the
// pinned AssemblyScript devDependency: npm run build and prepare run it; the output is the same bytes every time.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'wasm', 'kernels.wasm');
mkdirSync(path.dirname(out), { recursive: true });
// -O3 and no assertions: the kernels' bounds are the callers' (src/align/simd/); stub runtime: no GC, no allocator
const { error, stderr } = await asc.main(
  ['wasm/index.ts', '--outFile', path.relative(root, out), '-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert', '--initialMemory', '1'],
  { stdout: process.stdout, stderr: process.stderr, readFile: undefined, baseDir: root },
);
if (error) {
  process.stderr.write(`build-wasm: ${error.message}\n${stderr}\n`);
  process.exit(1);
}
