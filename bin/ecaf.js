#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by npm install's prepare step).
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
